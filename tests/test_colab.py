"""Colab: each badge opens its own notebook, one repository everywhere, and the bootstrap cell really works."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from aecourse.commands import colab, runner
from aecourse.commands.cli import main
from aecourse.paths import NOTEBOOKS_DIR, PROJECT_ROOT

NOTEBOOKS = runner.course_notebooks(NOTEBOOKS_DIR)
README = PROJECT_ROOT / "README.md"


def _setup_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells = [cell for cell in notebook.cells if colab.SETUP_TAG in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"one cell tagged {colab.SETUP_TAG!r} expected, found {len(cells)}"
    return cells[0]


def _assignment(source: str, name: str) -> str:
    """The string value assigned to NAME in the bootstrap cell."""
    match = re.search(rf'^\s*{name} = "([^"]*)"$', source, re.MULTILINE)
    assert match, f"the bootstrap cell keeps {name} in a variable of its own"
    return match[1]


def _setup_source() -> str:
    return _setup_cell(nbformat.read(NOTEBOOKS[0], as_version=4)).source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_title_cell_has_a_badge_that_opens_this_notebook(path):
    title = nbformat.read(path, as_version=4).cells[0]
    assert title.cell_type == "markdown" and title.source.startswith("# ")
    assert [match["notebook"] for match in colab.BADGE.finditer(title.source)] == [path.name]
    assert f"/notebooks/{path.name})" in title.source  # the badge's path is the notebook's path in the repository


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_bootstrap_cell_is_the_first_code_cell_before_the_switch(path):
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0] is _setup_cell(notebook)
    assert "parameters" in code[1].metadata.get("tags", [])
    assert code[0].metadata["slideshow"] == {"slide_type": "skip"}


def test_readme_table_has_one_badge_per_notebook():
    rows = [line for line in README.read_text(encoding="utf-8").splitlines() if re.match(r"\| \d\d \| \[", line)]  # the contents table, not the speed table
    assert [[match["notebook"] for match in colab.BADGE.finditer(row)] for row in rows] == \
        [[path.name] for path in NOTEBOOKS]


def test_every_badge_and_clone_url_names_the_same_repository_and_branch():
    targets, setup_sources = set(), []
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        targets |= {(match["repository"], match["branch"]) for match in colab.BADGE.finditer(notebook.cells[0].source)}
        source = _setup_cell(notebook).source
        url = _assignment(source, "COURSE_URL")
        assert url.startswith("https://github.com/") and url.endswith(".git")
        targets.add((url.removeprefix("https://github.com/").removesuffix(".git"), _assignment(source, "COURSE_BRANCH")))
        setup_sources.append(source)
    targets |= {(match["repository"], match["branch"]) for match in colab.BADGE.finditer(README.read_text("utf-8"))}
    assert len(targets) == 1, targets
    # Each cell is the template's, so that the colab command and these tests see the cell it writes.
    assert setup_sources == [colab.setup_source(*targets.pop())] * len(NOTEBOOKS)


def test_bootstrap_cell_does_nothing_outside_colab(capsys):
    assert "google.colab" not in sys.modules
    cwd, path = os.getcwd(), list(sys.path)
    namespace: dict = {}
    exec(compile(_setup_source(), "colab-setup", "exec"), namespace)  # the course's own cell, as Jupyter runs it
    assert os.getcwd() == cwd and sys.path == path
    assert set(namespace) == {"__builtins__", "sys"}
    assert capsys.readouterr() == ("", "")


@pytest.fixture
def colab_session(tmp_path, monkeypatch):
    """A pretend Colab: google.colab imported, cwd and sys.path restored afterwards, and no aecourse loaded."""
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    loaded = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "aecourse"}
    for name in loaded:
        del sys.modules[name]
    yield tmp_path
    for name in [name for name in sys.modules if name.split(".")[0] == "aecourse"]:
        del sys.modules[name]  # the clone's modules: the clone is about to be deleted
    sys.modules.update(loaded)


@pytest.mark.slow
def test_bootstrap_cell_on_colab_clones_the_course_and_imports_it_from_there(colab_session, monkeypatch):
    if shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("needs git and the project's git history")
    # The "remote": the committed HEAD, as branch 'main' whatever is checked out here.
    remote = colab_session / "remote.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(PROJECT_ROOT), str(remote)], check=True)
    head = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    subprocess.run(["git", "-C", str(remote), "update-ref", "refs/heads/main", head], check=True)
    course_dir = colab_session / "content" / "autoencoders-with-keras"
    source = _setup_source()
    for name, value in {"COURSE_URL": remote.as_uri(), "COURSE_BRANCH": "main", "COURSE_DIR": str(course_dir)}.items():
        source = source.replace(f'{name} = "{_assignment(source, name)}"', f'{name} = "{value}"')

    calls = []
    real_run = subprocess.run

    def run(command, *args, **kwargs):
        calls.append(list(command))
        assert "pip" not in command, "everything the course needs is installed here: nothing to pip-install"
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    namespace: dict = {}
    exec(compile(source, "colab-setup", "exec"), namespace)
    assert namespace["missing"] == []
    assert [command[:2] for command in calls] == [["git", "clone"]] and "--depth" in calls[0]
    assert Path.cwd() == course_dir / "notebooks"
    assert Path(importlib.import_module("aecourse").__file__).is_relative_to(course_dir)
    assert (course_dir / "weights" / "manifest.json").is_file()

    exec(compile(source, "colab-setup", "exec"), namespace)  # another notebook in the same session
    assert len(calls) == 1, "an existing clone is reused"


def _copy_course(root: Path) -> list[Path]:
    (root / "notebooks").mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, root / "notebooks" / path.name)
    shutil.copy(README, root / "README.md")
    return sorted((root / "notebooks").glob("*.ipynb"))


def test_colab_command_points_every_badge_and_clone_url_at_the_new_repository(tmp_path):
    originals = {path: path.read_bytes() for path in [*NOTEBOOKS, README]}
    copies = _copy_course(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text("utf-8") + "\n`git clone https://github.com/aecourse/autoencoders-with-keras.git`"
                      "\n[nbval](https://github.com/computationalmodelling/nbval)\n", encoding="utf-8")

    changed = colab.retarget("teacher/ae-course", "spring-2026", root=tmp_path)
    assert sorted(changed) == sorted([*copies, readme])
    for path in copies:
        notebook = nbformat.read(path, as_version=4)
        assert colab.badge(path.name, "teacher/ae-course", "spring-2026") in notebook.cells[0].source
        source = _setup_cell(notebook).source
        assert _assignment(source, "COURSE_URL") == "https://github.com/teacher/ae-course.git"
        assert _assignment(source, "COURSE_BRANCH") == "spring-2026"
        assert _assignment(source, "COURSE_DIR") == "/content/ae-course"
        original = nbformat.read(NOTEBOOKS_DIR / path.name, as_version=4)
        assert [cell.get("outputs") for cell in notebook.cells] == [cell.get("outputs") for cell in original.cells]
    text = readme.read_text("utf-8")
    assert "aecourse/autoencoders-with-keras" not in text
    assert "git clone https://github.com/teacher/ae-course.git" in text
    assert "https://github.com/computationalmodelling/nbval" in text  # other projects' links stay
    assert len([match for match in colab.BADGE.finditer(text) if match["repository"] == "teacher/ae-course"]) == len(copies)

    assert colab.retarget("teacher/ae-course", "spring-2026", root=tmp_path) == []  # already there
    assert {path: path.read_bytes() for path in originals} == originals  # the real files are untouched


def test_colab_command_refuses_a_bad_repository_or_a_readme_without_badges(tmp_path, capsys):
    assert main(["colab", "--repository", "just-a-name"]) == 1
    assert "give it as OWNER/NAME" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not a usable branch name"):
        colab.retarget("teacher/ae-course", "../main", root=tmp_path)
    _copy_course(tmp_path)
    (tmp_path / "README.md").write_text("# A README without the notebook table\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no Colab badge for 01_autoencoder_mnist.ipynb"):
        colab.retarget("teacher/ae-course", root=tmp_path)


def test_badge_is_added_after_the_title_once_and_then_replaced():
    markdown = "# 07 · Something new\n\nIntroduction."
    with_badge = colab.with_badge(markdown, "07_new.ipynb")
    assert with_badge == f"# 07 · Something new\n\n{colab.badge('07_new.ipynb')}\n\nIntroduction."
    moved = colab.with_badge(with_badge, "07_new.ipynb", "teacher/ae-course", "main")
    assert moved == with_badge.replace("aecourse/autoencoders-with-keras", "teacher/ae-course")
