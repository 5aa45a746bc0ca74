"""Run notebooks headless: retrain their weights (training mode) or refresh their committed outputs."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import uuid
from collections.abc import Collection
from pathlib import Path
from queue import Empty
from time import monotonic

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async

from ..paths import NOTEBOOKS_DIR, PROJECT_ROOT, course_notebooks, exercise_notebooks, replaced_atomically
from ..pictures import same_to_the_eye
from ..weights import FIT_VERBOSE_ENV, names_spelled_in, read_manifest, recorded_entry

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
QUIET_TENSORFLOW = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
TRAINING_LOG_DIR = PROJECT_ROOT / "build" / "training-runs"
TRAINING_CELL_TIMEOUT_S = 4 * 3600
# ipykernel 7 warns on every start that its local TCP ports are unencrypted: noise in a headless run.
KERNEL_QUIET = ["--IPKernelApp.log_level=ERROR"]
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
_ANSI_CODES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class RunError(RuntimeError):
    """A target names no notebook or weights, or a headless run stopped; the message says where and why."""

    def __init__(self, message: str, notebook: nbformat.NotebookNode | None = None):
        super().__init__(message)
        self.notebook = notebook  # as far as it ran, for the training log


class ReplyPollingClient(NotebookClient):
    """NotebookClient that asks for each execute reply once a second instead of waiting once.

    With ipywidgets in a notebook, nbclient sometimes misses the wake-up for a reply that has already
    arrived and sleeps until the cell's whole timeout runs out, or forever without one
    (jupyter/nbclient#312). Polling with a short timeout picks the reply up within a second.
    """

    poll_interval_s = 1.0

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg,
                                    task_poll_kernel_alive):
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=self.poll_interval_s))
            except Empty:
                if deadline is not None and monotonic() > deadline:
                    task_poll_kernel_alive.cancel()
                    raise CellTimeoutError.error_from_timeout_and_cell(
                        "Cell execution timed out", timeout, cell) from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            try:
                await asyncio.wait_for(task_poll_output_msg, self.iopub_timeout)
            except (asyncio.TimeoutError, Empty):
                self.log.warning("Timeout waiting for IOPub output")
            task_poll_kernel_alive.cancel()
            return msg


def resolve_targets(targets: Collection[str], directory: Path = NOTEBOOKS_DIR,
                    exercises: bool = False) -> dict[Path, set[str] | bool]:
    """Map targets ('all', a notebook number or stem, or a weight name) to notebooks and what to train.

    With exercises (for execute: they train nothing that is kept), 'exercises' names all the exercise
    notebooks and 'exercises/NN' one of them.
    """
    notebooks = course_notebooks(directory)
    companions = {f"exercises/{path.stem.split('_', 1)[0]}": path for path in exercise_notebooks(directory)}
    manifest = read_manifest()
    plan: dict[Path, set[str] | bool] = {}
    for target in targets:
        if target == "all":
            plan.update({path: True for path in notebooks})
            continue
        companion = target.removesuffix("_exercises.ipynb")  # exercises/03 or exercises/03_exercises.ipynb
        if exercises and (target == "exercises" or companion in companions):
            chosen = companions.values() if target == "exercises" else [companions[companion]]
            plan.update({path: False for path in chosen})
            continue
        by_notebook = [path for path in notebooks if path.stem == target or path.name == target
                       or path.stem.split("_", 1)[0] == target]
        if by_notebook:
            plan[by_notebook[0]] = True
            continue
        # A weight name: recorded, or spelled out by a notebook that has not trained it yet.
        spelled_in = [] if target in manifest else [path for path in notebooks if target in names_spelled_in(path)]
        if target not in manifest and not spelled_in:
            known = ", ".join(sorted(manifest)) or "none yet"
            raise RunError(f"{target!r} is neither a notebook ({', '.join(p.stem for p in notebooks)}) "
                           f"nor a recorded weight name ({known}).")
        path = spelled_in[0] if spelled_in else directory / recorded_entry(target)["notebook"]
        if plan.get(path) is not True:
            plan.setdefault(path, set()).add(target)
    return plan


def inject_training_switch(notebook: nbformat.NotebookNode, train: bool | Collection[str]) -> None:
    """Add a cell after the one tagged 'parameters' that overrides TRAIN (as papermill does)."""
    for index, cell in enumerate(notebook.cells):
        if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            value = repr(train) if isinstance(train, bool) else repr(sorted(train))
            injected = nbformat.v4.new_code_cell(f"TRAIN = {value}  # injected by `python -m aecourse`")
            injected.metadata["tags"] = [INJECTED_TAG]
            notebook.cells.insert(index + 1, injected)
            return
    raise ValueError("The notebook has no code cell tagged 'parameters' holding its TRAIN switch.")


def _first_line(source: str) -> str:
    return next((line.strip() for line in source.splitlines() if line.strip() and not line.startswith("#")), "")


def _failure(path: Path, notebook: nbformat.NotebookNode, error: Exception) -> str:
    """One line on where a headless run stopped and why, without the traceback."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                reason = _ANSI_CODES.sub("", f"{output.ename}: {output.evalue}")
                return f"{path.name} stopped in cell [{cell.execution_count}] `{_first_line(cell.source)[:60]}`: {reason}"
    reason = _ANSI_CODES.sub("", str(error)).strip().splitlines()
    return f"{path.name} stopped: {type(error).__name__}: {reason[0] if reason else ''}"


def stable_widget_ids(notebook: nbformat.NotebookNode, label: str) -> nbformat.NotebookNode:
    """The notebook with its widgets' random model ids renamed in order of appearance.

    Every run gives each widget a fresh uuid4, which would make an unchanged notebook a diff in git.
    """
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    if not state:
        return notebook
    renamed = {old: uuid.uuid5(uuid.NAMESPACE_URL, f"aecourse/{label}/widget/{number}").hex
               for number, old in enumerate(_widgets_in_order(notebook.cells, state))}
    text = WIDGET_ID.sub(lambda match: renamed.get(match.group(), match.group()), json.dumps(notebook))
    return nbformat.from_dict(json.loads(text))


WIDGET_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def _widgets_in_order(cells: list, state: dict) -> list[str]:
    """The widget ids in an order that does not depend on the ids themselves.

    First those that the cell outputs show, in order; then, breadth first, those that each one names (its
    children, layout, style); last any that nothing names, by their content.
    """
    ordered: list[str] = []

    def named_in(thing) -> None:
        for match in WIDGET_ID.finditer(json.dumps(thing, sort_keys=True)):
            if match.group() in state and match.group() not in ordered:
                ordered.append(match.group())

    def follow_from(start: int) -> None:
        position = start
        while position < len(ordered):
            named_in(state[ordered[position]])
            position += 1

    named_in(cells)
    follow_from(0)
    for widget in sorted(set(state) - set(ordered), key=lambda widget: WIDGET_ID.sub("", json.dumps(
            state[widget], sort_keys=True))):
        if widget not in ordered:
            ordered.append(widget)
            follow_from(len(ordered) - 1)
    return ordered


def execute(path: Path, train: bool | Collection[str] = False, timeout: int | None = None,
            record_timing: bool = False) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom in a fresh kernel, in its own folder; return it with outputs.

    With record_timing, each cell's metadata gets nbclient's start and end timestamps (for benchmarks;
    committed notebooks go without, since timestamps would make every run a diff). A cell that fails
    raises RunError with one line saying where and why; the file on disk is never touched here.
    """
    notebook = nbformat.read(path, as_version=4)
    if train is not False:
        inject_training_switch(notebook, train)
    return run_cells(notebook, path, timeout=timeout, record_timing=record_timing)


def run_cells(notebook: nbformat.NotebookNode, path: Path, timeout: int | None = None,
              record_timing: bool = False) -> nbformat.NotebookNode:
    """Run the cells of a notebook read from path (or a part of it) in a fresh kernel in path's folder."""
    for variable, value in QUIET_TENSORFLOW.items():
        os.environ.setdefault(variable, value)
    # coalesce_streams: a cell's printed lines become one output however the kernel happened to flush them,
    # so that a re-run does not split them differently (a diff in git that nobody made).
    client = ReplyPollingClient(notebook, timeout=timeout, kernel_name="python3", coalesce_streams=True,
                                record_timing=record_timing, extra_arguments=KERNEL_QUIET,
                                resources={"metadata": {"path": str(path.parent)}})
    # A live progress bar sends thousands of updates per epoch that nbclient must digest; in a
    # headless run one line per epoch says the same.
    previous = os.environ.get(FIT_VERBOSE_ENV)
    os.environ[FIT_VERBOSE_ENV] = "2"
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        raise RunError(_failure(path, notebook, error), notebook) from None
    finally:
        if previous is None:
            os.environ.pop(FIT_VERBOSE_ENV)
        else:
            os.environ[FIT_VERBOSE_ENV] = previous
    return stable_widget_ids(notebook, path.stem)


def keep_unchanged_pictures(executed: nbformat.NotebookNode,
                            committed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook with every PNG output that is the same to the eye as the committed one put back.

    Outputs are paired by cell id (and an unchanged source) and by position within the cell; the outputs
    of Output widgets, by widget id.
    """
    committed_cells = {cell.get("id"): cell for cell in committed.cells if cell.cell_type == "code"}
    for cell in executed.cells:
        before = committed_cells.get(cell.get("id"))
        if cell.cell_type != "code" or before is None or before.source != cell.source:
            continue
        _keep_same_pngs(cell.get("outputs", []), before.get("outputs", []))
    # An Output widget stores its figure in the notebook's widget state, paired here by the widget's id
    widget_states = [notebook.get("metadata", {}).get("widgets", {})
                     .get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
                     for notebook in (executed, committed)]
    for model_id, model in widget_states[0].items():
        old_model = widget_states[1].get(model_id, {})
        _keep_same_pngs(model.get("state", {}).get("outputs", []), old_model.get("state", {}).get("outputs", []))
    return executed


def _keep_same_pngs(outputs: list, old_outputs: list) -> None:
    """Put back each old PNG of old_outputs whose new one, at the same position, is the same to the eye."""
    for output, old_output in zip(outputs, old_outputs):
        new_png, old_png = (part.get("data", {}).get("image/png") for part in (output, old_output))
        if new_png and old_png and same_to_the_eye(base64.b64decode(old_png), base64.b64decode(new_png)):
            output["data"]["image/png"] = old_png


def refresh_outputs(path: Path, timeout: int = 600) -> None:
    """Re-run a notebook in load mode and write it back with fresh outputs (only if every cell ran).

    A figure that is the same to the eye as the one in the file keeps its committed bytes.
    """
    notebook = keep_unchanged_pictures(execute(path, train=False, timeout=timeout),
                                       nbformat.read(path, as_version=4))
    with replaced_atomically(path) as temporary:
        nbformat.write(notebook, temporary)


def retrain(path: Path, train: bool | Collection[str] = True) -> Path:
    """Run a notebook in training mode (weights and manifest are saved by the notebook); keep its log."""
    TRAINING_LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = TRAINING_LOG_DIR / path.name
    try:
        notebook = execute(path, train=train, timeout=TRAINING_CELL_TIMEOUT_S)
    except RunError as error:
        if error.notebook is None:
            raise
        nbformat.write(error.notebook, log)
        raise RunError(f"{error} The run so far is in {log}.") from None
    nbformat.write(notebook, log)
    return log
