"""Slides: every cell is placed on a slide, and every notebook converts to a deck that follows its sections."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from aecourse.commands import runner, slides
from aecourse.paths import NOTEBOOKS_DIR, PROJECT_ROOT

NOTEBOOKS = runner.course_notebooks(NOTEBOOKS_DIR)
NUMBERED = re.compile(r"^## (\d+)\. ")
OWN_SLIDE = re.compile(r"^## (\d+\. |Summary$|Exercises$)", re.MULTILINE)
NBVAL_MARKER = "# NBVAL_CHECK_OUTPUT\n"


def _slide_type(cell: nbformat.NotebookNode) -> str:
    return cell.metadata["slideshow"]["slide_type"]


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return cell.metadata.get("tags", [])


def _images(cell: nbformat.NotebookNode) -> list[str]:
    return [output["data"][kind] for output in cell.get("outputs", []) for kind in ("image/png", "image/gif")
            if kind in output.get("data", {})]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_cell_has_its_place_in_the_slides(path):
    notebook = nbformat.read(path, as_version=4)
    assert slides.cells_without_slide_type(notebook) == []
    assert _slide_type(notebook.cells[0]) == "slide"
    for cell in notebook.cells:
        if {"parameters", "colab-setup"} & set(_tags(cell)):
            assert _slide_type(cell) == "skip"
        if cell.cell_type == "markdown":
            headings = OWN_SLIDE.findall(cell.source)
            # A section's heading opens its cell, or it would end up at the bottom of the slide before.
            assert not headings or (len(headings) == 1 and OWN_SLIDE.match(cell.source)), cell.source[:80]
            if headings:
                assert _slide_type(cell) == "slide", cell.source[:80]
        if "hide-input" in _tags(cell):
            # hide-input is for cells whose output is the point, and for claim cells (which print nothing)
            assert cell.cell_type == "code" and (cell.outputs or "claim" in _tags(cell)), cell.source[:80]
        if "claim" in _tags(cell):
            assert _slide_type(cell) == "skip", "a claim cell is incidental: it stays off the slides"


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> dict[Path, BeautifulSoup]:
    """Every notebook converted once, into a temporary folder."""
    folder = tmp_path_factory.mktemp("slides")
    decks = {}
    for path in NOTEBOOKS:
        deck = slides.export(path, folder)
        assert deck == folder / f"{path.stem}.slides.html"
        decks[path] = BeautifulSoup(deck.read_text(encoding="utf-8"), "html.parser")
    return decks


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_deck_follows_the_notebook(path, decks):
    notebook = nbformat.read(path, as_version=4)
    deck = decks[path]
    top_slides = deck.select("div.reveal > div.slides > section")

    title = notebook.cells[0].source.splitlines()[0].removeprefix("# ")
    assert top_slides[0].find("h1").get_text().strip(" ¶") == title

    sections = [cell.source.splitlines()[0].removeprefix("## ") for cell in notebook.cells
                if cell.cell_type == "markdown" and OWN_SLIDE.match(cell.source)]
    assert sum(bool(NUMBERED.match(f"## {section}")) for section in sections) >= 3
    opening = [slide.find(["h1", "h2"]) for slide in top_slides[1:]]
    assert [heading.get_text().strip(" ¶") for heading in opening if heading] == sections

    shown = [cell for cell in notebook.cells if cell.cell_type == "code" and _slide_type(cell) != "skip"]
    code = [pre.get_text() for pre in deck.select(".jp-InputArea-editor pre")]
    assert [text.strip() for text in code] == \
        [cell.source.replace(NBVAL_MARKER, "").strip() for cell in shown if "hide-input" not in _tags(cell)]
    assert not [text for text in code if "TRAIN = False" in text]
    text = deck.get_text()
    page = str(deck)
    for cell in notebook.cells:
        if cell.cell_type == "code" and _slide_type(cell) == "skip":
            assert cell.source not in text, f"a skipped cell is on a slide: {cell.source[:60]!r}"
        if "hide-input" in _tags(cell):
            assert all(image[:200] in page for image in _images(cell)), "a hide-input cell keeps its figure"


@pytest.mark.slow
def test_the_plain_nbconvert_command_makes_the_same_deck(tmp_path):
    """The `jupyter nbconvert` line of docs/teaching.md and `python -m aecourse slides` must not drift apart."""
    path = NOTEBOOKS[0]
    subprocess.run([sys.executable, "-m", "nbconvert", *slides.nbconvert_arguments(str(tmp_path / "plain")),
                    str(path.relative_to(PROJECT_ROOT))], cwd=PROJECT_ROOT, check=True, capture_output=True)
    deck = slides.export(path, tmp_path / "course")
    assert (tmp_path / "plain" / deck.name).read_bytes() == deck.read_bytes()
