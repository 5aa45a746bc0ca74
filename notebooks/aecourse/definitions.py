"""Reading a notebook's tagged cells; definitions_from() reuses another notebook's model definitions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .paths import NOTEBOOKS_DIR

DEFINITIONS_TAG = "definitions"


def tagged_cells(path: Path, tag: str) -> list[dict[str, Any]]:
    """A notebook's cells that carry the tag, read as plain JSON (notebook format 4).

    Not nbformat: its schema imports would add seconds to every notebook that reuses definitions.
    """
    return [cell for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if tag in cell.get("metadata", {}).get("tags", [])]


def definitions_from(notebook_name: str, directory: Path = NOTEBOOKS_DIR) -> dict[str, Any]:
    """Run the cells tagged 'definitions' of another course notebook and return what they define.

    This is how a later notebook reuses an architecture without a second copy of its code.
    """
    path = directory / notebook_name
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; definitions_from() takes a course notebook's file name.")
    cells = [cell for cell in tagged_cells(path, DEFINITIONS_TAG) if cell["cell_type"] == "code"]
    if not cells:
        raise ValueError(f"{path.name} has no code cells tagged '{DEFINITIONS_TAG}'.")
    namespace: dict[str, Any] = {"__name__": f"definitions_of_{path.stem}"}
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        exec(compile(source, f"{path.name}[definitions]", "exec"), namespace)  # our own notebook's code
    return namespace
