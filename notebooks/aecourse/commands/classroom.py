"""Student copies: the notebooks without outputs or solutions, with everything they need to run.

Solutions follow nbgrader's convention, and nbgrader's own ClearSolutions preprocessor removes them: a
solution cell carries nbgrader metadata (``"solution": true``); in a code cell the answer sits between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` and becomes ``raise NotImplementedError()``, and a markdown
answer becomes "YOUR ANSWER HERE". nbconvert's ClearOutputPreprocessor then clears the outputs. The
self-checks stay. The instructor's notebooks are the repository itself: they keep the solutions, so they
still run top to bottom and are tested as usual.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path

import nbformat

from ..paths import PROJECT_ROOT, exercise_notebooks
from ..definitions import DEFINITIONS_TAG
from .runner import PARAMETERS_TAG, course_notebooks

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

The chapters are the numbered notebooks in `notebooks/` (`01_*.ipynb`, `02_*.ipynb`, ...); the exercises of each are in
`notebooks/exercises/`. Replace each `raise NotImplementedError()` with your answer (and each
"YOUR ANSWER HERE" with yours), then run the cell below it tagged `self-check`: it says at once whether
your answer holds, and if not, what is wrong and a hint. Offline, your instructor may give you `mnist.npz`
and `olivetti_faces.npz`: put them in a folder and `export AECOURSE_DATA=/path/to/that/folder` before
starting Jupyter.
"""


class StudentCopyError(RuntimeError):
    """A student copy cannot be written where asked, or a notebook breaks the solution convention."""


def is_solution(cell: nbformat.NotebookNode) -> bool:
    """Whether nbgrader treats the cell as a solution cell."""
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def student_notebook(notebook: nbformat.NotebookNode, name: str = "notebook",
                     definitions_shared: bool = True) -> tuple[nbformat.NotebookNode, int]:
    """A copy with outputs and run state cleared and solutions removed by nbgrader; also how many.

    definitions_shared: other notebooks run this one's 'definitions' cells (true of the chapters), so
    none of them may be a solution.
    """
    from nbconvert.preprocessors import ClearOutputPreprocessor
    from nbgrader.preprocessors import ClearSolutions  # seconds to import; only this command needs it

    notebook = copy.deepcopy(notebook)  # the caller's notebook is left as it was
    for index, cell in enumerate(notebook.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        needed = ({DEFINITIONS_TAG, PARAMETERS_TAG} if definitions_shared else {PARAMETERS_TAG}) & tags
        if is_solution(cell) and needed:  # other notebooks and the runner rely on these cells
            raise StudentCopyError(f"{name}, cell {index}: a solution cell tagged {sorted(needed)}; "
                                   "a solution cannot also be a cell the course runs for you. "
                                   "Move the solution into a cell of its own.")
    solutions = sum(map(is_solution, notebook.cells))
    try:
        notebook, _ = ClearSolutions(enforce_metadata=True).preprocess(notebook, {})
    except RuntimeError as error:  # nbgrader's message, e.g. a marked region outside a solution cell
        raise StudentCopyError(f"{name}: {error}") from None
    notebook, _ = ClearOutputPreprocessor().preprocess(notebook, {})
    for key in TRANSIENT_NOTEBOOK_METADATA:
        notebook.metadata.pop(key, None)
    for cell in notebook.cells:
        for key in TRANSIENT_CELL_METADATA:
            cell.metadata.pop(key, None)
    nbformat.validate(notebook)
    return notebook, solutions


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
        (staging / "notebooks" / "exercises").mkdir(parents=True)
        chapters, exercises = notebooks, exercise_notebooks(root / "notebooks")
        for path in chapters + exercises:
            relative = path.relative_to(root / "notebooks")
            student, replaced = student_notebook(nbformat.read(path, as_version=4), str(relative),
                                                 definitions_shared=path in chapters)
            nbformat.write(student, staging / "notebooks" / relative)
            written[out / "notebooks" / relative] = f"outputs cleared, {replaced} solution cell(s) replaced"
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
