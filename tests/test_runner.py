"""Headless notebook runs: the injected TRAIN switch, target resolution, and a real retrain round trip."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from aecourse import weights
from aecourse.commands import runner
from aecourse.definitions import definitions_from
from aecourse.paths import NOTEBOOKS_DIR, PROJECT_ROOT

FIXTURE = Path(__file__).parent / "fixtures" / "99_tiny_training.ipynb"


def _outputs(notebook: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []))


@pytest.mark.parametrize("train, expected", [(True, "TRAIN = True"), ({"01_b", "01_a"}, "TRAIN = ['01_a', '01_b']")])
def test_switch_is_injected_right_after_the_parameters_cell(train, expected):
    notebook = nbformat.read(FIXTURE, as_version=4)
    runner.inject_training_switch(notebook, train)
    assert "parameters" in notebook.cells[1].metadata["tags"]
    assert notebook.cells[2].source.startswith(expected)
    assert notebook.cells[2].metadata["tags"] == ["injected-parameters"]


def test_a_notebook_without_a_switch_is_refused():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("TRAIN = False")])
    with pytest.raises(ValueError, match="no code cell tagged 'parameters'"):
        runner.inject_training_switch(notebook, True)


def test_targets_resolve_to_notebooks_and_weight_names(tmp_path, monkeypatch):
    for stem in ("01_first", "02_second"):
        shutil.copy(FIXTURE, tmp_path / f"{stem}.ipynb")
    monkeypatch.setenv("AECOURSE_WEIGHTS", str(tmp_path))
    entry = {"file": "02_model.weights.h5", "sha256": "0" * 64, "size_bytes": 1, "notebook": "02_second.ipynb",
             "architecture": {"weight_shapes": []}, "training": {"epochs": 1}, "wall_time_s": 1.0, "metrics": {},
             "history": {}}
    (tmp_path / "manifest.json").write_text(json.dumps({"02_model": entry}))
    assert runner.resolve_targets(["all"], tmp_path) == {tmp_path / "01_first.ipynb": True,
                                                         tmp_path / "02_second.ipynb": True}
    assert runner.resolve_targets(["01"], tmp_path) == {tmp_path / "01_first.ipynb": True}
    assert runner.resolve_targets(["02_model"], tmp_path) == {tmp_path / "02_second.ipynb": {"02_model"}}
    with pytest.raises(runner.RunError, match="'03' is neither a notebook"):
        runner.resolve_targets(["03"], tmp_path)


def test_a_new_model_that_a_notebook_spells_out_is_a_target_before_it_is_recorded(tmp_path, monkeypatch):
    shutil.copy(NOTEBOOKS_DIR / "07_measuring_vaes.ipynb", tmp_path)
    monkeypatch.setenv("AECOURSE_WEIGHTS", str(tmp_path))  # an empty manifest: nothing trained yet
    assert runner.resolve_targets(["07_vae_latent8"], tmp_path) == {
        tmp_path / "07_measuring_vaes.ipynb": {"07_vae_latent8"}}
    with pytest.raises(runner.RunError, match="'07_vae_latent9' is neither a notebook"):
        runner.resolve_targets(["07_vae_latent9"], tmp_path)


def test_exercise_notebooks_are_targets_of_execute_only(tmp_path, monkeypatch):
    (tmp_path / "exercises").mkdir()
    for path in (tmp_path / "01_first.ipynb", tmp_path / "exercises" / "01_exercises.ipynb",
                 tmp_path / "exercises" / "02_exercises.ipynb"):
        shutil.copy(FIXTURE, path)
    monkeypatch.setenv("AECOURSE_WEIGHTS", str(tmp_path))
    (tmp_path / "manifest.json").write_text("{}")
    companions = {tmp_path / "exercises" / f"0{number}_exercises.ipynb": False for number in (1, 2)}
    assert runner.resolve_targets(["exercises"], tmp_path, exercises=True) == companions
    assert runner.resolve_targets(["exercises/02"], tmp_path, exercises=True) == \
        {tmp_path / "exercises" / "02_exercises.ipynb": False}
    assert runner.resolve_targets(["all"], tmp_path, exercises=True) == {tmp_path / "01_first.ipynb": True}
    with pytest.raises(runner.RunError, match="'exercises/01' is neither a notebook"):
        runner.resolve_targets(["exercises/01"], tmp_path)  # retrain: they keep no weights


def test_every_course_notebook_has_a_training_switch():
    for path in runner.course_notebooks(NOTEBOOKS_DIR):
        runner.inject_training_switch(nbformat.read(path, as_version=4), True)


@pytest.mark.slow
def test_retrain_then_refresh_round_trip(tmp_path, monkeypatch):
    """Training mode saves weights and manifest; load mode then reads exactly those weights."""
    notebook_path = tmp_path / FIXTURE.name
    shutil.copy(FIXTURE, notebook_path)
    monkeypatch.setenv("AECOURSE_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("PYTHONPATH", str(NOTEBOOKS_DIR))
    monkeypatch.setattr(runner, "TRAINING_LOG_DIR", tmp_path / "logs")

    log = runner.retrain(notebook_path)
    entry = weights.read_manifest()["99_tiny_ae"]
    assert entry["training"]["epochs"] == 2 and len(entry["history"]["loss"]) == 2
    assert f"weights {entry['sha256'][:12]}" in _outputs(nbformat.read(log, as_version=4))
    assert nbformat.read(notebook_path, as_version=4).cells[4].outputs == []  # source left as it was

    runner.refresh_outputs(notebook_path)
    refreshed = nbformat.read(notebook_path, as_version=4)
    assert f"test loss {entry['metrics']['loss']}" in _outputs(refreshed)
    assert [cell.execution_count for cell in refreshed.cells if cell.cell_type == "code"] == [1, 2, 3, 4]
    assert "stderr" not in json.dumps([cell.outputs for cell in refreshed.cells if "outputs" in cell])


@pytest.mark.parametrize("path", runner.course_notebooks(NOTEBOOKS_DIR), ids=lambda path: path.stem)
def test_course_notebooks_are_committed_executed_with_their_numbers(path):
    """nbval compares against the committed outputs, so they must come from one complete run."""
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1)), \
        f"re-run it headless: cd notebooks && python -m aecourse execute {path.stem[:2]}"
    checked = [cell for cell in cells if cell.source.startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked, "a course notebook prints key numbers in cells marked # NBVAL_CHECK_OUTPUT"
    assert all(cell.outputs for cell in checked)
    errors = [output for cell in cells for output in cell.outputs
              if output.output_type == "error" or output.get("name") == "stderr"]
    assert not errors, errors


def test_definitions_are_taken_from_the_tagged_cells_only(tmp_path):
    cells = [nbformat.v4.new_code_cell("WIDTH = 3"), nbformat.v4.new_code_cell("raise RuntimeError('not run')"),
             nbformat.v4.new_code_cell("def area(height):\n    return WIDTH * height")]
    for index in (0, 2):
        cells[index].metadata["tags"] = ["definitions"]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "05_shapes.ipynb")
    namespace = definitions_from("05_shapes.ipynb", tmp_path)
    assert namespace["area"](2) == 6
    with pytest.raises(FileNotFoundError, match="06_missing.ipynb does not exist"):
        definitions_from("06_missing.ipynb", tmp_path)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), tmp_path / "07_bare.ipynb")
    with pytest.raises(ValueError, match="no code cells tagged 'definitions'"):
        definitions_from("07_bare.ipynb", tmp_path)


def test_not_slow_leaves_out_every_notebook_cell():
    """`pytest -m "not slow"` (the README's quick run) must start no kernel: nbval's items are marked slow."""
    completed = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "not slow", "notebooks"],
                               cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert "deselected" in completed.stdout, completed.stdout + completed.stderr
    assert ".ipynb::" not in completed.stdout, completed.stdout


def _widget_notebook(ids: list[str], state_order: list[int]) -> "nbformat.NotebookNode":
    """A notebook showing one box (ids[0]) whose children are a slider (ids[1]) and an unnamed manager
    (ids[2], which nothing names, like ipycanvas's canvas manager); the state lists them in state_order."""
    import nbformat

    box, slider, manager = ids
    models = {box: {"model_name": "VBoxModel", "state": {"children": [f"IPY_MODEL_{slider}"]}},
              slider: {"model_name": "FloatSliderModel", "state": {"value": 1.0}},
              manager: {"model_name": "CanvasManagerModel", "state": {}}}
    cell = nbformat.v4.new_code_cell("interact(f)", id="explorer")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": box, "version_major": 2, "version_minor": 0}})]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {ids[k]: models[ids[k]] for k in state_order}, "version_major": 2, "version_minor": 0}}
    return notebook


def test_widget_ids_are_renamed_the_same_whatever_ids_and_order_a_run_gave():
    import json
    import uuid

    from aecourse.commands.runner import stable_widget_ids

    runs = []
    for seed, order in ((1, [0, 1, 2]), (2, [2, 1, 0]), (3, [1, 2, 0])):
        ids = [uuid.UUID(int=seed * 1000 + k * 7919 + 12345).hex for k in range(3)]
        runs.append(json.dumps(stable_widget_ids(_widget_notebook(ids, order), "probe"), sort_keys=True))
    assert runs[0] == runs[1] == runs[2]
