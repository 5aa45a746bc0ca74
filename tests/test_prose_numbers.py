"""Numbers in prose come from the cells: every number a markdown cell states is printed by a cell before it
(or by the code cell right after it, which the sentence announces) or written in the notebook's own code.

Typed-in numbers drift: a retrain or a library update changes the printed value and leaves the sentence
behind. This test reads the committed notebooks (no kernel) and fails for a number that nothing in the
notebook prints or defines. A printed number counts at the precision the sentence gives (a sentence's
"about 45" matches a printed 45.3, not 46.2). Not checked, because they are names or definitions rather
than measurements: chapter, section and exercise numbers, years in citations, list and heading numbers,
code sizes written as "2-D", arithmetic the sentence shows ("7×7×64 = 3 136"), the statements of the
exercises (they set a task), and the short list of dataset facts below.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from aecourse.paths import course_notebooks, exercise_notebooks

# Facts of the datasets and of the formats the course uses, stated in prose as definitions.
DATASET_FACTS = {
    "28", "784", "60000", "10000", "54000", "6000",  # MNIST: 28×28 pixels, 60 000 training and 10 000 test digits
    "64", "4096", "400", "40",  # Olivetti: 64×64 pixels, 400 faces of 40 people
    "255", "0", "1",  # pixel ranges; probabilities
}
REFERENCE_WORDS = r"(?:notebooks?|chapters?|sections?|exercises?|Exercises?|Notebooks?|Chapters?|Sections?|figures?)"
NUMBER = re.compile(r"(?<![\w.\\])(\d{1,3}(?:(?:\\,|[  ,])\d{3})+|\d+(?:\.\d+)?)(?![\w])")
NOTEBOOKS = [*course_notebooks(), *exercise_notebooks()]


def _plain(number: str) -> str:
    """The number without thousands separators (1 000, 1,000, 1\\,000 -> 1000)."""
    return re.sub(r"(?:\\,|[  ,])(?=\d{3}\b)", "", number)


def _prose(text: str) -> str:
    """Markdown without code spans, link targets and URLs, whose numbers are not claims."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"https?://\S+", " ", text)


def _not_a_measurement(text: str, start: int, end: int, number: str) -> bool:
    before, after = text[max(0, start - 40):start], text[end:end + 3]
    if re.search(rf"{REFERENCE_WORDS}\s+(?:[\d.]+(?:,\s*|\s+and\s+|\s+to\s+|–))*$", before):
        return True  # "notebook 03", "sections 6 to 8", "notebooks 04, 05 and 07"
    if re.fullmatch(r"0\d", number):
        return True  # a chapter by its number, "02"
    if re.fullmatch(r"(19|20)\d\d", number):
        return True  # a year
    if re.search(r"(^|\n)\s*(#+\s*|[*-]\s*)?$", before) and after.startswith((".", " ·", "·")):
        return True  # a heading's or a list item's number
    if after.startswith(("-D", "×", " × ")) or before.endswith(("×", "× ")):
        return True  # a code size ("2-D") or an image size ("28×28"), set in the code
    if re.search(r"\d-$", before) or after.startswith("-") and after[1:2].isdigit():
        return True  # a layer-size string such as 784-1000-500-250-30 (an architecture, cited or coded)
    if before.endswith(("SHA-", "_{", "^{", "10^")):
        return True  # a name (SHA-256), an index or an exponent in a formula
    if re.search(r"\d\s*(?:×|\\cdot|\+)\s*[\d\s×+]*(?:\\cdot[\d\s×+]*)*=\s*$", before):
        return True  # the result of arithmetic the sentence shows, such as 7×7×64 = 3 136
    return _plain(number) in DATASET_FACTS


def _printed_numbers(texts: list[str]) -> set[str]:
    return {_plain(match) for text in texts for match in NUMBER.findall(text)}


def _matches(number: str, printed: set[str]) -> bool:
    """The sentence's number, or a printed number that rounds to it at the sentence's precision.

    The precision is the last decimal the sentence writes, or, for a round number of thousands such as
    "158 000", its last non-zero digit.
    """
    if number in printed:
        return True
    if "." in number:
        unit = Decimal(1) / 10 ** len(number.split(".")[1])
    elif int(number) >= 1000:
        unit = Decimal(10) ** (len(number) - len(number.rstrip("0")))
    else:
        unit = Decimal(1)
    stated = Decimal(number)
    return any(abs(Decimal(value) - stated) <= unit / 2 for value in printed if re.fullmatch(r"\d+(?:\.\d+)?", value))


def _outputs(cell: dict) -> str:
    text = "".join("".join(output.get("text") or output.get("data", {}).get("text/plain") or "")
                   for output in cell.get("outputs", []))
    return re.sub(r"\x1b\[[0-9;]*m", "", text)  # the colours of Keras's model summaries


def unsupported_numbers(path) -> list[str]:
    """The numbers of the notebook's prose that no cell prints and no code defines, with their context."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [("".join(cell["source"]) if cell["cell_type"] == "code" else "") for cell in cells]
    defined = _printed_numbers(code)
    problems, printed_so_far = [], set()
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            printed_so_far |= _printed_numbers([_outputs(cell)])
            continue
        if "".join(cell["source"]).startswith("## Exercises") or "exercise" in cell["metadata"].get("tags", []):
            continue  # an exercise's statement sets the task (its sizes and settings), it does not report
        following = next((other for other in cells[index + 1:] if other["cell_type"] == "code"), {})
        available = defined | printed_so_far | _printed_numbers([_outputs(following)])
        text = _prose("".join(cell["source"]))
        for match in NUMBER.finditer(text):
            number = _plain(match.group(1))
            if not _not_a_measurement(text, match.start(), match.end(), match.group(1)) and \
                    not _matches(number, available):
                context = text[max(0, match.start() - 50):match.end() + 20].replace("\n", " ")
                problems.append(f"cell {index}: {number!r} in “…{context}…”")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_every_number_in_prose_is_printed_or_defined(path):
    problems = unsupported_numbers(path)
    assert not problems, f"{path.name}: numbers that no cell prints or defines:\n  " + "\n  ".join(problems)
