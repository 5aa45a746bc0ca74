"""`python -m aecourse`: every known fault prints one clear message naming the file and the fix, and exits 1."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from aecourse.commands import runner
from aecourse.weights import read_manifest
from aecourse.commands.cli import main
from aecourse.paths import NOTEBOOKS_DIR, PROJECT_ROOT


def course_cli(*args: str, weights=None) -> subprocess.CompletedProcess:
    """Run the command line as a user does, from notebooks/, optionally on another weights folder."""
    env = dict(os.environ)
    if weights is not None:
        env["AECOURSE_WEIGHTS"] = str(weights)
    return subprocess.run([sys.executable, "-m", "aecourse", *args], cwd=NOTEBOOKS_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def in_process_cli(capsys, monkeypatch, *args: str, weights=None) -> subprocess.CompletedProcess:
    """The same, in this process (seconds faster); an escaped exception would fail the test."""
    if weights is not None:
        monkeypatch.setenv("AECOURSE_WEIGHTS", str(weights))
    status = main(list(args))
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, captured.out, captured.err)


def assert_one_clear_message(completed: subprocess.CompletedProcess, *expected: str) -> None:
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr and "\x1b[" not in completed.stderr, completed.stderr
    for text in expected:
        assert text in completed.stderr, completed.stderr


@pytest.fixture
def weights_copy(tmp_path):
    """A scratch copy of the shipped weights folder."""
    folder = tmp_path / "weights"
    shutil.copytree(PROJECT_ROOT / "weights", folder)
    return folder


@pytest.mark.parametrize("command", [["list"], ["verify"], ["execute", "01"], ["retrain", "01_dense_ae"]])
def test_a_broken_manifest_gives_one_message_with_the_fix(weights_copy, command, capsys, monkeypatch):
    (weights_copy / "manifest.json").write_text('{"01_dense_ae": ')
    run = course_cli if command == ["list"] else functools.partial(in_process_cli, capsys, monkeypatch)
    completed = run(*command, weights=weights_copy)
    assert_one_clear_message(completed, f"{weights_copy / 'manifest.json'} is not valid JSON",
                             "git checkout -- weights/manifest.json")
    assert (weights_copy / "manifest.json").read_text() == '{"01_dense_ae": '


@pytest.mark.parametrize("command", [["list"], ["verify"], ["retrain", "01_dense_ae"]])
def test_a_manifest_entry_missing_a_key_gives_one_message(weights_copy, command, capsys, monkeypatch):
    manifest = json.loads((weights_copy / "manifest.json").read_text())
    del manifest["01_dense_ae"]["size_bytes"]
    (weights_copy / "manifest.json").write_text(json.dumps(manifest))
    completed = in_process_cli(capsys, monkeypatch, *command, weights=weights_copy)
    assert_one_clear_message(completed, "the manifest entry for '01_dense_ae' lacks 'size_bytes'",
                             "git checkout -- weights/manifest.json")


def test_verify_names_each_damaged_file_and_the_fix(weights_copy, capsys, monkeypatch):
    truncated = weights_copy / "02_ae_code8.weights.h5"
    truncated.write_bytes(truncated.read_bytes()[:1000])
    (weights_copy / "03_vae_beta2.weights.h5").unlink()
    completed = in_process_cli(capsys, monkeypatch, "verify", weights=weights_copy)
    assert_one_clear_message(completed, f"{truncated} has 1000 bytes", "truncated",
                             "03_vae_beta2.weights.h5 is missing", "git checkout -- weights/")
    assert f"{len(read_manifest())} weight files checked, 2 problems." in completed.stdout


def test_an_unknown_target_lists_what_exists(capsys, monkeypatch):
    completed = in_process_cli(capsys, monkeypatch, "retrain", "01_dense_aee")
    assert_one_clear_message(completed, "'01_dense_aee' is neither a notebook", "01_dense_ae")


@pytest.mark.slow
def test_a_failed_run_says_where_and_why_in_one_line(tmp_path):
    cells = [nbformat.v4.new_code_cell("TRAIN = False"), nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_code_cell("# the fault\nraise FileNotFoundError('weights/x.weights.h5 is missing')")]
    cells[0].metadata["tags"] = ["parameters"]
    path = tmp_path / "98_failing.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    before = path.read_bytes()
    with pytest.raises(runner.RunError) as raised:
        runner.refresh_outputs(path)
    assert str(raised.value) == ("98_failing.ipynb stopped in cell [3] `raise FileNotFoundError('weights/x.weights.h5 "
                                 "is missing')`: FileNotFoundError: weights/x.weights.h5 is missing")
    assert path.read_bytes() == before


def test_a_data_error_names_the_missing_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AECOURSE_DATA", str(tmp_path / "empty"))  # no mnist.npz or olivetti_faces.npz there
    (tmp_path / "empty").mkdir()
    completed = in_process_cli(capsys, monkeypatch, "fetch-data", "--to", str(tmp_path / "out"))
    assert_one_clear_message(completed, f"{tmp_path / 'empty' / 'mnist.npz'} does not exist", "AECOURSE_DATA")
    assert not any((tmp_path / "out").iterdir())
