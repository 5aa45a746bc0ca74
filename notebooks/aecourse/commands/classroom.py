"""Student copies: the six notebooks without outputs or solutions, with everything they need to run.

Solutions convention: a cell tagged ``solution`` holds an exercise's answer. In the student copy each run
of consecutive solution cells becomes one placeholder cell tagged ``exercise`` (a code cell reading
``# Your solution here``, or a markdown cell for a written answer). The instructor's notebooks keep the
solutions, so they still run top to bottom and are tested as usual.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path

import nbformat

from ..paths import PROJECT_ROOT
from ..definitions import DEFINITIONS_TAG
from .runner import PARAMETERS_TAG, course_notebooks

SOLUTION_TAG = "solution"
EXERCISE_TAG = "exercise"
PLACEHOLDERS = {"code": "# Your solution here", "markdown": "*Your answer here.*"}
# Per-run state that Jupyter stores with a cell; a fresh copy should carry none of it.
TRANSIENT_CELL_METADATA = ("collapsed", "scrolled", "execution", "ExecuteTime")
# Saved widget state belongs to the cleared outputs.
TRANSIENT_NOTEBOOK_METADATA = ("widgets",)
# What the notebooks need besides themselves: the helper finds weights and figures next to its own
# folder (paths.PROJECT_ROOT is the package's parents[2]), so the layout is kept as it is.
SUPPORT = ("notebooks/aecourse", "weights", "figures", "requirements.txt")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")  # hidden: checkpoints, half-written temp files
DEFAULT_OUT = PROJECT_ROOT / "build" / "student-copies"
STUDENT_README = """\
# Autoencoders with Keras: student copy

Set up once, then open the notebooks:

```bash
python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt && jupyter lab notebooks/
```

Cells reading `# Your solution here` (tagged `exercise`) are yours to fill in. Offline, your instructor may
give you `mnist.npz` and `olivetti_faces.npz`: put them in a folder and
`export AECOURSE_DATA=/path/to/that/folder` before starting Jupyter.
"""


class StudentCopyError(RuntimeError):
    """A student copy cannot be written where asked, or a notebook breaks the solution convention."""


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def student_notebook(notebook: nbformat.NotebookNode,
                     name: str = "notebook") -> tuple[nbformat.NotebookNode, int]:
    """A copy with outputs and run state cleared and solution cells replaced; also how many were replaced."""
    notebook = copy.deepcopy(notebook)  # the caller's notebook is left as it was
    for key in TRANSIENT_NOTEBOOK_METADATA:
        notebook.metadata.pop(key, None)
    cells, replaced = [], 0
    for index, cell in enumerate(notebook.cells):
        tags = _tags(cell)
        if SOLUTION_TAG in tags:
            needed = {DEFINITIONS_TAG, PARAMETERS_TAG} & set(tags)
            if needed:  # other notebooks and the runner rely on these cells; removing them would break the copy
                raise StudentCopyError(f"{name}, cell {index}: tagged '{SOLUTION_TAG}' and {sorted(needed)}; "
                                       "a solution cannot also be a cell the course runs for you. "
                                       f"Move the solution into a cell of its own.")
            previous = notebook.cells[index - 1] if index else None
            if previous is not None and SOLUTION_TAG in _tags(previous):
                continue  # one placeholder per run of solution cells, so their number gives nothing away
            kind = cell.cell_type if cell.cell_type in PLACEHOLDERS else "code"
            make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
            placeholder = make(PLACEHOLDERS[kind], metadata={"tags": [EXERCISE_TAG]})
            if "id" in cell:
                placeholder.id = cell.id  # stable ids: two builds of the same notebook are identical
            else:
                del placeholder["id"]  # notebooks before format 4.5 have no cell ids
            cells.append(placeholder)
            replaced += 1
            continue
        for key in TRANSIENT_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    notebook.cells = cells
    nbformat.validate(notebook)
    return notebook, replaced


def _check_out(out: Path, root: Path) -> None:
    """Refuse a folder that holds anything, or one inside what is being copied."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StudentCopyError(f"{out} already exists and is not empty; a student's work is never "
                               "overwritten. Remove it, or pass another folder with --out.")
    for item in SUPPORT:
        source = (root / item).resolve()
        if out == source or source in out.parents:
            raise StudentCopyError(f"{out} is inside {source}, which is copied into it; choose a folder "
                                   "outside the course's files (the default is build/student-copies/).")


def write_student_copies(out: Path = DEFAULT_OUT, root: Path = PROJECT_ROOT) -> dict[Path, str]:
    """Write the student edition of the course under root to out; return what was written, with a note each."""
    out = Path(out).expanduser().resolve()
    _check_out(out, root)
    notebooks = course_notebooks(root / "notebooks")
    if not notebooks:
        raise StudentCopyError(f"{root / 'notebooks'} holds no numbered notebooks to copy.")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Built beside its destination and renamed into place: an interrupted run leaves no half copy.
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    written: dict[Path, str] = {}
    try:
        os.chmod(staging, 0o755)  # mkdtemp makes it private; the copy is meant to be handed out
        (staging / "notebooks").mkdir()
        for path in notebooks:
            student, replaced = student_notebook(nbformat.read(path, as_version=4), path.name)
            nbformat.write(student, staging / "notebooks" / path.name)
            written[out / "notebooks" / path.name] = f"outputs cleared, {replaced} solution cell(s) replaced"
        for item in SUPPORT:
            source, target = root / item, staging / item
            if source.is_dir():
                shutil.copytree(source, target, ignore=IGNORED)
                count = sum(1 for path in target.rglob("*") if path.is_file())
                written[out / item] = f"{count} files"
            else:
                shutil.copy2(source, target)
                written[out / item] = "copied"
        (staging / "README.md").write_text(STUDENT_README)
        written[out / "README.md"] = "how to set up and open the notebooks"
        if out.exists():
            out.rmdir()  # empty (checked above); renaming onto a folder is not portable
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written
