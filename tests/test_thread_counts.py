"""The notebooks with threaded numerics (BLAS, OpenMP: PCA, t-SNE) give the same numbers and figures
with another thread count.

nbval runs every notebook with the environment's thread settings; this runs the ones that use NumPy's BLAS
or scikit-learn's OpenMP code once more with a different OMP_NUM_THREADS (and OPENBLAS_NUM_THREADS), and
compares the checked outputs with the committed notebook and every saved figure with the committed one.
"""

from __future__ import annotations

import os

import nbformat
import pytest

from aecourse.commands.runner import course_notebooks, execute
from aecourse.paths import PROJECT_ROOT

THREADED = ("01", "02", "03", "05", "06")  # PCA in 01, 02, 05; t-SNE in 02, 05; 03's IWAE sums; 06's filters


def _checked_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """The text of every output that nbval compares (cells marked # NBVAL_CHECK_OUTPUT)."""
    return ["".join(output.get("text", "") or output.get("data", {}).get("text/plain", "")
                    for output in cell.outputs)
            for cell in notebook.cells
            if cell.cell_type == "code" and cell.source.startswith("# NBVAL_CHECK_OUTPUT")]


@pytest.mark.slow
@pytest.mark.parametrize("path", [path for path in course_notebooks() if path.name[:2] in THREADED],
                         ids=lambda path: path.stem)
def test_outputs_and_figures_do_not_depend_on_the_thread_count(path, tmp_path, monkeypatch):
    threads = "4" if os.environ.get("OMP_NUM_THREADS") == "1" else "1"
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(variable, threads)  # the kernel inherits them
    monkeypatch.setenv("AECOURSE_FIGURES", str(tmp_path))

    executed = execute(path, timeout=600)

    committed = nbformat.read(path, as_version=4)
    assert _checked_outputs(executed) == _checked_outputs(committed), f"OMP_NUM_THREADS={threads}"
    saved = sorted(tmp_path.glob("*.png"))
    assert saved, "the notebook saves its figures"
    changed = [figure.name for figure in saved
               if figure.read_bytes() != (PROJECT_ROOT / "figures" / figure.name).read_bytes()]
    assert not changed, f"figures that differ from the committed ones with OMP_NUM_THREADS={threads}: {changed}"
