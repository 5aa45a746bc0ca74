"""A student who opens a notebook without TF_CPP_MIN_LOG_LEVEL or TF_ENABLE_ONEDNN_OPTS set sees no
TensorFlow log lines: aecourse sets both before TensorFlow loads, and every notebook imports it first."""

from __future__ import annotations

import ast

import nbformat
import pytest

from aecourse.commands import runner
from aecourse.paths import NOTEBOOKS_DIR, course_notebooks, exercise_notebooks

NOTEBOOKS = course_notebooks(NOTEBOOKS_DIR) + exercise_notebooks()
BACKEND_MODULES = {"keras", "tensorflow", "jax", "torch"}
TENSORFLOW_VARIABLES = ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")


def _imported_modules(source: str) -> list[str]:
    """Top-level names of the modules a cell imports, in the order of its lines."""
    tree = ast.parse(source)
    nodes = sorted((node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))),
                   key=lambda node: node.lineno)
    names = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif node.module and node.level == 0:
            names.append(node.module.split(".")[0])
    return names


def first_course_or_backend_import(notebook: nbformat.NotebookNode) -> str | None:
    """The first of aecourse, Keras or a backend that the notebook's code imports (Colab cell skipped)."""
    for cell in notebook.cells:
        if cell.cell_type != "code" or "colab-setup" in cell.metadata.get("tags", []):
            continue
        for name in _imported_modules(cell.source):
            if name == "aecourse" or name in BACKEND_MODULES:
                return name
    return None


def test_the_check_sees_keras_imported_first():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy\nfrom keras import ops"),
                                               nbformat.v4.new_code_cell("import aecourse")])
    assert first_course_or_backend_import(notebook) == "keras"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_aecourse_is_imported_before_keras(path):
    assert first_course_or_backend_import(nbformat.read(path, as_version=4)) == "aecourse"


@pytest.mark.slow
def test_no_cell_prints_to_stderr_with_the_variables_unset(monkeypatch):
    """Notebook 01, top to bottom, in a kernel that inherits neither variable: no stderr anywhere."""
    for variable in TENSORFLOW_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    # ipykernel forwards C++ output written to the process's stderr (TensorFlow's log) into the notebook,
    # as JupyterLab shows it, except when it sees this variable of pytest's.
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    path = NOTEBOOKS_DIR / "01_autoencoder_mnist.ipynb"
    notebook = nbformat.read(path, as_version=4)
    # run_cells() would set the variables, and its quieter kernel log level would also stop the kernel from
    # forwarding TensorFlow's C++ output: its client (which copes with widget replies) runs a plain kernel.
    runner.ReplyPollingClient(notebook, kernel_name="python3", timeout=600,
                              resources={"metadata": {"path": str(path.parent)}}).execute()
    stderr = [(index, output["text"][:300]) for index, cell in enumerate(notebook.cells)
              for output in cell.get("outputs", []) if output.get("name") == "stderr"]
    assert stderr == []
