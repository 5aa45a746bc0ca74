"""Where the course keeps its files; each location can be redirected by an environment variable."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"

DATA_ENV = "AECOURSE_DATA"
WEIGHTS_ENV = "AECOURSE_WEIGHTS"
FIGURES_ENV = "AECOURSE_FIGURES"


def _dir_from_env(variable: str, default: Path) -> Path:
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else default


def course_notebooks(directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The course's numbered notebooks, in order."""
    return sorted(directory.glob("[0-9][0-9]_*.ipynb"))


def exercise_notebooks(directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The chapters' companion notebooks of exercises (worked solutions and self-checks), in order."""
    return sorted((directory / "exercises").glob("[0-9][0-9]_exercises.ipynb"))


def data_dir() -> Path | None:
    """The local dataset folder named by AECOURSE_DATA, or None to download as usual."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser() if value else None


def weights_dir() -> Path:
    """Folder of the pretrained weight files and their manifest (AECOURSE_WEIGHTS overrides)."""
    return _dir_from_env(WEIGHTS_ENV, PROJECT_ROOT / "weights")


def figures_dir() -> Path:
    """Folder the notebooks save their figures to (AECOURSE_FIGURES overrides)."""
    return _dir_from_env(FIGURES_ENV, PROJECT_ROOT / "figures")


def shipped_figure(file_name: str) -> Path:
    """A figure that ships with the course (such as a training GIF), whatever AECOURSE_FIGURES says."""
    path = PROJECT_ROOT / "figures" / file_name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; it is written when its model is retrained "
                                "(`cd notebooks && python -m aecourse retrain NOTEBOOK`).")
    return path


@contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` to write; it replaces `path` only if the block finishes without error.

    A crash or a failed check therefore never leaves half a file, and never loses the one already there.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; these are ordinary shared files
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
