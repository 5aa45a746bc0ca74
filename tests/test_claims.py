"""Every sentence true: the notebooks' measurable sentences are followed by cells tagged `claim` that assert them.

These tests read the committed notebooks (no kernel): nbval runs the claim cells themselves.
"""

from __future__ import annotations

import json

import pytest

from aecourse.definitions import tagged_cells
from aecourse.paths import course_notebooks

CLAIM_TAG = "claim"
NOTEBOOKS = course_notebooks()


def _source(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_notebook_checks_at_least_three_claims(path):
    claims = [cell for cell in tagged_cells(path, CLAIM_TAG) if cell["cell_type"] == "code"]
    assert len(claims) >= 3, f"{path.name} has {len(claims)} claim cells"
    for cell in claims:
        assert "assert " in _source(cell), f"a claim cell of {path.name} asserts nothing: {_source(cell)[:60]!r}"
        assert "hide-input" in cell["metadata"].get("tags", []), "claim cells are incidental: tag them hide-input"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_claims_ran_and_passed(path):
    for cell in tagged_cells(path, CLAIM_TAG):
        assert cell["execution_count"] is not None, f"{path.name}: a claim cell was not executed"
        errors = [output for output in cell["outputs"] if output["output_type"] == "error"]
        assert not errors, f"{path.name}: a committed claim failed: {errors[0]['evalue']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_summary_is_followed_by_a_claim(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    summary = next(index for index, cell in enumerate(cells)
                   if cell["cell_type"] == "markdown" and _source(cell).startswith("## Summary"))
    assert CLAIM_TAG in cells[summary + 1]["metadata"].get("tags", []), f"{path.name}: the summary is unchecked"
