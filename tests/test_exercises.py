"""The exercise notebooks: one per chapter, every exercise of the chapter with a worked solution marked
for nbgrader, a written answer, and self-checks that passed in the committed run (no kernel started)."""

from __future__ import annotations

import re

import nbformat
import pytest

from aecourse.commands.classroom import is_solution
from aecourse.paths import course_notebooks, exercise_notebooks

CHAPTERS = course_notebooks()
ITEM = re.compile(r"^(\d+)\. \*\*(?P<title>[^*]+?)\.?\*\*\s+(?P<text>.*?)(?=^\d+\. \*\*|\Z)", re.S | re.M)


def _normalised(text: str) -> str:
    return " ".join(text.split())


def chapter_exercises(path) -> list[tuple[str, str]]:
    """(title, statement) of each item of the chapter's final '## Exercises' section."""
    notebook = nbformat.read(path, as_version=4)
    section = [cell.source for cell in notebook.cells if cell.source.startswith("## Exercises")]
    assert len(section) == 1, f"{path.name} should have one '## Exercises' cell"
    return [(match["title"], _normalised(match["text"])) for match in ITEM.finditer(section[0])]


def _companion(chapter) -> nbformat.NotebookNode:
    path = chapter.parent / "exercises" / f"{chapter.stem.split('_', 1)[0]}_exercises.ipynb"
    assert path.is_file(), f"{chapter.name} has no exercise notebook {path.name}"
    return nbformat.read(path, as_version=4)


def _tagged(cell, tag: str) -> bool:
    return tag in cell.metadata.get("tags", [])


def test_every_chapter_has_one_exercise_notebook():
    assert [path.stem.split("_", 1)[0] for path in exercise_notebooks()] == \
        [path.stem.split("_", 1)[0] for path in CHAPTERS]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_the_exercises_are_the_chapters_word_for_word(chapter):
    statements = [cell.source for cell in _companion(chapter).cells if _tagged(cell, "exercise")]
    expected = chapter_exercises(chapter)
    assert expected, f"{chapter.name}: no numbered exercises found"
    found = []
    for source in statements:
        heading, _, text = source.partition("\n")
        match = re.fullmatch(r"## Exercise (\d+) · (.+)", heading.strip())
        assert match, f"an exercise should open with '## Exercise N · Title', not {heading!r}"
        found.append((match[2], _normalised(text)))
    assert found == expected


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_every_exercise_has_a_marked_solution_and_a_written_answer(chapter):
    cells = _companion(chapter).cells
    starts = [index for index, cell in enumerate(cells) if _tagged(cell, "exercise")] + [len(cells)]
    for number, (start, end) in enumerate(zip(starts, starts[1:]), start=1):
        part = cells[start + 1:end]
        code = [cell for cell in part if cell.cell_type == "code" and is_solution(cell)]
        written = [cell for cell in part if cell.cell_type == "markdown" and is_solution(cell)]
        assert code and all("### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
                            for cell in code), f"exercise {number}: no code solution marked for nbgrader"
        assert written and any(re.search(r"\d", cell.source) for cell in written), \
            f"exercise {number}: the written answer should report what was measured"
    grade_ids = [cell.metadata["nbgrader"]["grade_id"] for cell in cells if is_solution(cell)]
    assert len(grade_ids) == len(set(grade_ids)), "nbgrader needs a distinct grade_id per solution cell"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_the_self_checks_passed_in_the_committed_run(chapter):
    notebook = _companion(chapter)
    checks = [cell for cell in notebook.cells if _tagged(cell, "self-check")]
    assert checks, "every exercise notebook needs at least one self-check"
    for cell in checks:
        assert cell.source.startswith("# NBVAL_CHECK_OUTPUT"), "nbval should check each verdict"
        shown = "".join(output.get("data", {}).get("text/plain", "") + output.get("text", "")
                        for output in cell.outputs)
        assert shown.startswith("✓") and "✗" not in shown, f"{cell.source!r} did not pass: {shown!r}"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "commit the notebook executed, top to bottom"
    assert not [output for cell in code for output in cell.outputs if output.output_type == "error"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_the_chapter_points_to_its_exercise_notebook(chapter):
    section = next(cell.source for cell in nbformat.read(chapter, as_version=4).cells
                   if cell.source.startswith("## Exercises"))
    assert f"(exercises/{chapter.stem.split('_', 1)[0]}_exercises.ipynb)" in section
