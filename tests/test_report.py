"""The results report: bounds enforced without losing the old report, and numbers that match the notebooks."""

from __future__ import annotations

import re

import nbformat
import pytest

from aecourse.commands import report
from aecourse.paths import NOTEBOOKS_DIR
from aecourse.commands.runner import course_notebooks


def _notebook(number: str) -> nbformat.NotebookNode:
    path = next(path for path in course_notebooks(NOTEBOOKS_DIR) if path.name.startswith(number))
    return nbformat.read(path, as_version=4)


def _printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []))


def _result(value: float, limit: float | None) -> report.Result:
    bound = None if limit is None else report.Bound(limit, "01")
    return report.Result("01_dense_ae", "dense AE", "MSE per pixel", value, 10, bound=bound)


def test_a_missed_bound_stops_the_report_and_keeps_the_old_one(tmp_path):
    results_file = tmp_path / "RESULTS.md"
    results_file.write_text("the previous report\n")
    with pytest.raises(report.BoundError, match=r"01_dense_ae: MSE per pixel 0.05 exceeds the bound 0.047"):
        report.write_report([_result(0.05, 0.047)], results_file)
    assert results_file.read_text() == "the previous report\n"
    assert list(tmp_path.iterdir()) == [results_file]


@pytest.mark.parametrize("value, limit, meets", [(0.047, 0.047, True), (0.0471, 0.047, False), (9.0, None, True)])
def test_bounds_are_upper_limits(value, limit, meets):
    assert _result(value, limit).meets_bound is meets


@pytest.fixture(scope="module")
def results() -> list[report.Result]:
    return report.evaluate_all()


@pytest.mark.slow
def test_every_shipped_weight_file_is_in_the_report(results):
    from aecourse.weights import read_manifest

    assert sorted(result.weight for result in results) == sorted(read_manifest())


@pytest.mark.slow
def test_every_bound_is_stated_in_its_notebook_and_met(results):
    bounded = [result for result in results if result.bound is not None]
    assert len(bounded) == 4
    for result in bounded:
        prose = "".join(cell.source for cell in _notebook(result.bound.notebook).cells if cell.cell_type == "markdown")
        stated = (f"≤ {result.bound.limit:g}", rf"\le {result.bound.limit:g}")  # in prose or in LaTeX
        assert any(form in prose for form in stated), f"notebook {result.bound.notebook} does not state {result.bound}"
    assert report.bound_failures(results) == []


@pytest.mark.slow
def test_measured_values_match_what_the_notebooks_print(results):
    for result in results:
        printed = _printed(_notebook(result.weight[:2]))
        shown = f"{result.value:.4f}" if result.value < 1 else f"{result.value:.1f}" if result.value < 1000 \
            else f"{result.value:.0f}"
        assert re.search(rf"(?<![\d.]){re.escape(shown)}(?!\d)", printed), \
            f"{result.weight}: the report measures {shown}, notebook {result.weight[:2]} prints otherwise"


@pytest.mark.slow
def test_committed_results_file_is_current(results):
    assert report.RESULTS_FILE.read_text() == report.render_markdown(results), \
        "RESULTS.md is out of date: run `cd notebooks && python -m aecourse report`"
