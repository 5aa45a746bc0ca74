"""Reusing another notebook's model definitions: the cells a notebook tags `definitions`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .paths import NOTEBOOKS_DIR

DEFINITIONS_TAG = "definitions"


def definitions_from(notebook_name: str, directory: Path = NOTEBOOKS_DIR) -> dict[str, Any]:
    """Run the cells tagged 'definitions' of another course notebook and return what they define.

    This is how a later notebook reuses an architecture without a second copy of its code.
    """
    path = directory / notebook_name
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; definitions_from() takes a course notebook's file name.")
    # Plain JSON (notebook format 4): nbformat would add seconds of schema imports to every notebook's start.
    cells = [cell for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
             if cell["cell_type"] == "code" and DEFINITIONS_TAG in cell.get("metadata", {}).get("tags", [])]
    if not cells:
        raise ValueError(f"{path.name} has no code cells tagged '{DEFINITIONS_TAG}'.")
    namespace: dict[str, Any] = {"__name__": f"definitions_of_{path.stem}"}
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        exec(compile(source, f"{path.name}[definitions]", "exec"), namespace)  # our own notebook's code
    return namespace
