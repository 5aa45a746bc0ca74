"""Every chapter is one lecture: objectives at the top, a summary at the end, and not too long to sit through.

Read from the committed notebooks (no kernel). The limits are the course's: about 80 cells, 3 000 words of
prose (the words of the markdown cells, formulas included) and a file of at most 2 MB, so that a chapter
opens quickly and every re-execution adds little to the repository's history.
"""

from __future__ import annotations

import json

import pytest

from aecourse.paths import course_notebooks

MAX_CELLS, MAX_WORDS, MAX_MEGABYTES = 80, 3000, 2.0
NOTEBOOKS = course_notebooks()


def _cells(path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _markdown(cell: dict) -> str:
    return "".join(cell["source"]) if cell["cell_type"] == "markdown" else ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_a_chapter_is_one_lecture_long(path):
    cells = _cells(path)
    words = sum(len(_markdown(cell).split()) for cell in cells)
    assert len(cells) <= MAX_CELLS, f"{path.name}: {len(cells)} cells"
    assert words <= MAX_WORDS, f"{path.name}: {words} words of prose"
    assert path.stat().st_size <= MAX_MEGABYTES * 1e6, f"{path.name}: {path.stat().st_size / 1e6:.2f} MB"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_objectives_at_the_top_and_a_summary_at_the_end(path):
    cells = _cells(path)
    assert any(_markdown(cell).startswith("**You will learn**") for cell in cells[:3]), f"{path.name}: no objectives"
    sections = [_markdown(cell).splitlines()[0] for cell in cells if _markdown(cell).startswith("## ")]
    assert sections[-2:] == ["## Summary", "## Exercises"], f"{path.name} should end with a summary, then exercises"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_animation_is_stored_once(path):
    for cell in _cells(path):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            assert not ("image/gif" in data and "text/html" in data), f"{path.name}: a GIF stored twice"
