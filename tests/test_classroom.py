"""Classroom commands: datasets fetched ahead of class, and student copies without outputs or solutions."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import nbformat
import numpy as np
import pytest

from aecourse import data
from aecourse.commands import classroom, runner
from aecourse.commands.cli import main
from aecourse.commands.classroom import StudentCopyError, student_notebook, write_student_copies
from aecourse.data import DataError, fetch_datasets, load_mnist, load_olivetti
from aecourse.paths import PROJECT_ROOT


# ---- fetch-data ---------------------------------------------------------------------------------

def _mnist_arrays() -> dict[str, np.ndarray]:
    """Full-size (the loaders check shapes) but patterned, so the files compress to almost nothing."""
    def images(count):
        return (np.arange(count * 28 * 28) % 251).astype(np.uint8).reshape(count, 28, 28)

    return {"x_train": images(60_000), "y_train": (np.arange(60_000) % 10).astype(np.uint8),
            "x_test": images(10_000)[::-1].copy(), "y_test": (np.arange(10_000) % 7).astype(np.uint8)}


def _olivetti_arrays() -> dict[str, np.ndarray]:
    images = np.random.default_rng(0).random((400, 64, 64), dtype=np.float32)
    return {"images": images, "target": np.repeat(np.arange(40), 10)}


@pytest.fixture
def source(tmp_path, monkeypatch):
    """A synthetic AECOURSE_DATA folder, as an instructor's USB stick would hold."""
    folder = tmp_path / "usb"
    folder.mkdir()
    np.savez_compressed(folder / "mnist.npz", **_mnist_arrays())
    np.savez_compressed(folder / "olivetti_faces.npz", **_olivetti_arrays())
    monkeypatch.setenv("AECOURSE_DATA", str(folder))
    return folder


def _loaded(folder: Path, monkeypatch) -> list[np.ndarray]:
    monkeypatch.setenv("AECOURSE_DATA", str(folder))
    (x_train, y_train), (x_test, y_test) = load_mnist()
    return [x_train, y_train, x_test, y_test, *load_olivetti()]


def _state(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {path.name: (path.stat().st_mtime_ns, path.read_bytes()) for path in sorted(folder.iterdir())}


def test_fetch_to_a_folder_writes_what_the_loaders_read_back_then_keeps_it(source, tmp_path, monkeypatch):
    target = tmp_path / "class"
    fetched = fetch_datasets(target)
    assert {name: (result.path, result.status) for name, result in fetched.items()} == {
        "mnist": (target / "mnist.npz", "written"), "olivetti": (target / "olivetti_faces.npz", "written")}
    assert fetched["mnist"].source == str(source / "mnist.npz")
    assert sorted(path.name for path in target.iterdir()) == ["mnist.npz", "olivetti_faces.npz"]  # no temp files
    before = _state(target)

    again = fetch_datasets(target)
    assert {result.status for result in again.values()} == {"kept"}
    assert _state(target) == before  # neither rewritten nor touched

    for copied, original in zip(_loaded(target, monkeypatch), _loaded(source, monkeypatch), strict=True):
        assert copied.dtype == original.dtype
        np.testing.assert_array_equal(copied, original)


def test_fetch_command_names_the_source_and_prints_the_export_line(source, tmp_path, capsys):
    target = tmp_path / "class"
    assert main(["fetch-data", "--to", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"AECOURSE_DATA={source} is set: reading the datasets from that folder" in out
    assert f"{target / 'mnist.npz'}" in out and "written" in out
    assert out.rstrip().endswith(f"export AECOURSE_DATA={target.resolve()}")
    assert main(["fetch-data", "--to", str(target)]) == 0
    assert capsys.readouterr().out.count("already there, kept") == 2


def test_a_damaged_target_file_is_reported_and_left_alone(source, tmp_path, capsys):
    target = tmp_path / "class"
    target.mkdir()
    damaged = target / "mnist.npz"
    damaged.write_bytes(b"PK\x03\x04 half a download")
    before = damaged.read_bytes()
    with pytest.raises(DataError, match=r"cannot be read as a .npz archive.*keeps existing files: move or "
                                        r"delete .*mnist.npz(.|\n)*In place: .*olivetti_faces.npz"):
        fetch_datasets(target)
    assert damaged.read_bytes() == before
    assert (target / "olivetti_faces.npz").is_file()  # the other dataset is still fetched
    assert main(["fetch-data", "--to", str(target)]) == 1
    assert "fetch-data failed" in capsys.readouterr().err
    assert damaged.read_bytes() == before


def _offline(monkeypatch) -> None:
    import keras
    import sklearn.datasets

    def no_mnist(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    def no_faces(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.delenv("AECOURSE_DATA", raising=False)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_mnist)
    monkeypatch.setattr(sklearn.datasets, "fetch_olivetti_faces", no_faces)


def test_failed_downloads_say_what_failed_and_what_to_do(monkeypatch, capsys):
    _offline(monkeypatch)
    assert main(["fetch-data"]) == 1
    err = capsys.readouterr().err
    assert "Downloading MNIST with keras.datasets.mnist.load_data() failed (<urlopen error no route" in err
    assert "fetch_olivetti_faces() failed (network is unreachable)" in err
    assert "Connect to the internet and try again" in err
    assert "set AECOURSE_DATA to a folder holding olivetti_faces.npz" in err and "instructor" in err


def test_a_failed_download_loses_nothing_already_saved(source, tmp_path, monkeypatch):
    target = tmp_path / "class"
    fetch_datasets(target)
    (target / "olivetti_faces.npz").unlink()
    before = _state(target)
    _offline(monkeypatch)
    with pytest.raises(DataError, match=r"network is unreachable(.|\n)*In place: .*mnist.npz"):
        fetch_datasets(target)
    assert _state(target) == before


def test_cache_mode_reports_where_the_loaders_cached_the_data(monkeypatch, tmp_path, capsys):
    import keras
    import sklearn.datasets
    from sklearn.utils import Bunch

    monkeypatch.delenv("AECOURSE_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn"))
    mnist, faces = _mnist_arrays(), _olivetti_arrays()

    def load_data():  # what Keras does: download into its cache, then read it
        cached = tmp_path / "keras" / "datasets" / "mnist.npz"
        cached.parent.mkdir(parents=True)
        cached.write_bytes(b"x" * 2_000_000)
        return (mnist["x_train"], mnist["y_train"]), (mnist["x_test"], mnist["y_test"])

    def fetch_olivetti_faces():
        (Path(sklearn.datasets.get_data_home()) / "olivetti_py3.pkz").write_bytes(b"x" * 1000)
        return Bunch(images=faces["images"], target=faces["target"])

    monkeypatch.setattr(keras.datasets.mnist, "load_data", load_data)
    monkeypatch.setattr(sklearn.datasets, "fetch_olivetti_faces", fetch_olivetti_faces)
    assert main(["fetch-data"]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'keras' / 'datasets' / 'mnist.npz'}  (2.0 MB, in the loader's cache" in out
    assert f"{tmp_path / 'sklearn' / 'olivetti_py3.pkz'}  (0.0 MB, in the loader's cache" in out
    assert "load both datasets from these caches without a network" in out


# ---- student-copies -----------------------------------------------------------------------------

def _code(source: str, tags: tuple[str, ...] = (), **metadata) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, metadata={**metadata, "tags": list(tags)} if tags else metadata)
    cell.execution_count = 3
    cell.outputs = [nbformat.v4.new_output("stream", text="printed\n")]
    return cell


SOLUTION = {"grade": False, "grade_id": "ex1", "locked": False, "schema_version": 3, "solution": True}


def _exercise_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}, "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    notebook.cells = [
        nbformat.v4.new_markdown_cell("**Exercise.** Print the code size."),
        _code("def code_size():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION", nbgrader=SOLUTION),
        _code("print('shown')", scrolled=True, collapsed=False, execution={"iopub.status.idle": "now"}),
        nbformat.v4.new_markdown_cell("It is two.", metadata={"nbgrader": dict(SOLUTION, grade_id="ex1_answer")}),
        _code("check(code_size)", ("self-check",)),
    ]
    return notebook


def test_nbgrader_clears_the_solutions_and_the_self_checks_stay():
    original = _exercise_notebook()
    kept = nbformat.writes(original)
    student, replaced = student_notebook(original)
    assert replaced == 2 and nbformat.writes(original) == kept  # the instructor's notebook is untouched
    assert [cell.source for cell in student.cells] == [
        "**Exercise.** Print the code size.",
        "def code_size():\n    # YOUR CODE HERE\n    raise NotImplementedError()",  # nbgrader's stub, indented
        "print('shown')", "YOUR ANSWER HERE", "check(code_size)"]
    assert student.cells[4].metadata["tags"] == ["self-check"]
    assert student.cells[1].id == original.cells[1].id
    assert all(cell.outputs == [] and cell.execution_count is None
               for cell in student.cells if cell.cell_type == "code")
    assert student.cells[2].metadata == {} and "widgets" not in student.metadata
    assert "return 2" not in nbformat.writes(student) and "It is two" not in nbformat.writes(student)


def test_a_marked_answer_outside_a_solution_cell_is_refused_by_nbgrader():
    notebook = _exercise_notebook()
    del notebook.cells[1].metadata["nbgrader"]  # the markers alone: nbgrader insists on the metadata
    with pytest.raises(StudentCopyError, match="07_exercise.ipynb: Solution region detected in a non-solution cell"):
        student_notebook(notebook, "07_exercise.ipynb")


def test_a_solution_the_course_relies_on_is_refused():
    notebook = _exercise_notebook()
    notebook.cells[1].metadata["tags"] = ["definitions"]
    with pytest.raises(StudentCopyError, match=r"cell 1: a solution cell tagged \['definitions'\]"):
        student_notebook(notebook, "07_exercise.ipynb")
    student_notebook(notebook, "exercises/07_exercises.ipynb", definitions_shared=False)  # no other notebook runs it


@pytest.fixture
def tiny_course(tmp_path) -> Path:
    """A course laid out like the real one, with an exercise notebook and files that must not be copied."""
    root = tmp_path / "course"
    (root / "notebooks" / "aecourse" / "__pycache__").mkdir(parents=True)
    (root / "notebooks" / "aecourse" / "__init__.py").write_text('"""Helpers."""\n')
    (root / "notebooks" / "aecourse" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")
    nbformat.write(_exercise_notebook(), root / "notebooks" / "07_exercise.ipynb")
    (root / "notebooks" / "exercises").mkdir()
    nbformat.write(_exercise_notebook(), root / "notebooks" / "exercises" / "07_exercises.ipynb")
    (root / "notebooks" / "scratch.ipynb").write_text("{}")  # not a numbered course notebook
    (root / "weights").mkdir()
    (root / "weights" / "manifest.json").write_text("{}\n")
    (root / "weights" / ".07_model.tmp.weights.h5").write_bytes(b"half written")
    (root / "figures").mkdir()
    (root / "figures" / "07_plot.png").write_bytes(b"png")
    (root / "requirements.txt").write_text("keras==3.15.1\n")
    return root


def test_a_copy_holds_the_student_notebooks_and_what_they_need(tiny_course, tmp_path):
    out = tmp_path / "handout"
    written = write_student_copies(out, root=tiny_course)
    files = sorted(str(path.relative_to(out)) for path in out.rglob("*") if path.is_file())
    assert files == ["README.md", "figures/07_plot.png", "notebooks/07_exercise.ipynb",
                     "notebooks/aecourse/__init__.py", "notebooks/exercises/07_exercises.ipynb",
                     "requirements.txt", "weights/manifest.json"]
    assert written[out / "notebooks" / "07_exercise.ipynb"] == "outputs cleared, 2 solution cell(s) replaced"
    for copy in ("07_exercise.ipynb", "exercises/07_exercises.ipynb"):
        copied = nbformat.read(out / "notebooks" / copy, as_version=4)
        assert "raise NotImplementedError()" in copied.cells[1].source
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]  # no staging left behind


def test_an_out_folder_with_anything_in_it_is_refused_untouched(tiny_course, tmp_path, capsys):
    out = tmp_path / "handout"
    (out / "notebooks").mkdir(parents=True)
    work = out / "notebooks" / "07_exercise.ipynb"
    work.write_text("a student's answers")
    before = _state(out / "notebooks"), sorted(out.rglob("*"))
    with pytest.raises(StudentCopyError, match="not empty; a student's work is never overwritten. Remove it, "
                                               "or pass another folder with --out"):
        write_student_copies(out, root=tiny_course)
    assert main(["student-copies", "--out", str(out)]) == 1
    assert "already exists and is not empty" in capsys.readouterr().err
    assert (_state(out / "notebooks"), sorted(out.rglob("*"))) == before
    with pytest.raises(StudentCopyError, match="is inside .*weights"):
        write_student_copies(tiny_course / "weights" / "handout", root=tiny_course)
    empty = tmp_path / "empty"
    empty.mkdir()
    write_student_copies(empty, root=tiny_course)  # an empty folder is fine
    assert (empty / "README.md").is_file()


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student") / "edition"
    write_student_copies(out)
    return out


def test_every_chapter_is_copied_without_outputs(course_copy):
    copies = runner.course_notebooks(course_copy / "notebooks")
    assert [path.name for path in copies] == [path.name for path in runner.course_notebooks()]
    assert copies
    for path in copies:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert "widgets" not in notebook.metadata
        for cell in notebook.cells:
            assert not set(cell.metadata) & set(classroom.TRANSIENT_CELL_METADATA)
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (path.name, cell.source[:40])
    for item in ("weights/manifest.json", "weights/01_dense_ae.weights.h5", "requirements.txt",
                 "notebooks/aecourse/paths.py", "figures/03_vae_beta1_latent.gif"):
        assert (course_copy / item).read_bytes() == (PROJECT_ROOT / item).read_bytes(), item
    assert not list(course_copy.rglob("__pycache__"))


def _solution_code(notebook: nbformat.NotebookNode) -> set[str]:
    """The lines found only inside the solution regions of a notebook's code cells (not e.g. plt.show())."""
    answers, elsewhere = set(), set()
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line or "### END SOLUTION" in line:
                inside = "BEGIN" in line
            elif line.strip():
                (answers if inside else elsewhere).add(line.strip())
    return answers - elsewhere


def test_the_exercises_are_copied_with_their_self_checks_and_no_solution(course_copy):
    originals = classroom.exercise_notebooks()
    assert [path.name for path in classroom.exercise_notebooks(course_copy / "notebooks")] == \
        [path.name for path in originals] and len(originals) == len(runner.course_notebooks())
    for original_path in originals:
        original = nbformat.read(original_path, as_version=4)
        student = nbformat.read(course_copy / "notebooks" / "exercises" / original_path.name, as_version=4)
        text = nbformat.writes(student)
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, original_path.name
        answers = _solution_code(original)
        kept = {line.strip() for cell in student.cells for line in cell.source.splitlines()}
        assert answers and not answers & kept, (original_path.name, sorted(answers & kept)[:3])
        stubs = sum("raise NotImplementedError()" in cell.source for cell in student.cells if cell.cell_type == "code")
        assert stubs == sum(classroom.is_solution(cell) for cell in original.cells if cell.cell_type == "code")
        checks = [cell.source for cell in original.cells if "self-check" in cell.metadata.get("tags", [])]
        assert checks and checks == [cell.source for cell in student.cells
                                     if "self-check" in cell.metadata.get("tags", [])]


@pytest.mark.slow
def test_a_student_exercise_notebook_runs_up_to_its_first_exercise(course_copy):
    if data.data_dir() is None:
        pytest.skip("AECOURSE_DATA is not set; the notebook needs the datasets offline")
    path = course_copy / "notebooks" / "exercises" / "03_exercises.ipynb"
    with pytest.raises(runner.RunError, match="NotImplementedError") as stopped:
        runner.execute(path, timeout=300)
    cells = stopped.value.notebook.cells
    first_stub = next(index for index, cell in enumerate(cells)
                      if cell.cell_type == "code" and "raise NotImplementedError()" in cell.source)
    errors = [index for index, cell in enumerate(cells) if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.output_type == "error"]
    assert len(errors) == 1 and errors[0] >= first_stub  # everything before the student's first answer ran
    assert all(cell.execution_count for cell in cells[:first_stub] if cell.cell_type == "code")


PROBE_START = '''\
import os, sys
_opened = []
def _record(event, args):  # every file Python opens: the weight hash check reads each file it loads
    if event == "open" and isinstance(args[0], (str, os.PathLike)):
        path = os.fspath(args[0])
        if path.endswith((".weights.h5", "manifest.json")):
            _opened.append(os.path.realpath(path))
sys.addaudithook(_record)'''
PROBE_END = '''\
import json, aecourse
print("PROBE" + json.dumps({"aecourse": os.path.realpath(aecourse.__file__), "opened": _opened}))'''


@pytest.mark.slow
def test_the_copy_runs_on_its_own_weights(tmp_path, monkeypatch, capsys):
    if data.data_dir() is None:
        pytest.skip("AECOURSE_DATA is not set; the notebook needs MNIST offline")
    monkeypatch.delenv("AECOURSE_WEIGHTS", raising=False)  # the kernel inherits this environment
    out = (tmp_path / "edition").resolve()
    assert main(["student-copies", "--out", str(out)]) == 0
    assert "notebooks/01_autoencoder_mnist.ipynb  (outputs cleared" in capsys.readouterr().out
    path = out / "notebooks" / "01_autoencoder_mnist.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(PROBE_START))
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE_END))
    nbformat.write(notebook, path)

    executed = runner.execute(path, timeout=600)  # raises on the first cell that fails
    outputs = [output for cell in executed.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    probe = json.loads(executed.cells[-1].outputs[0].text.split("PROBE", 1)[1])
    assert probe["aecourse"] == str(out / "notebooks" / "aecourse" / "__init__.py")
    assert str(out / "weights" / "01_dense_ae.weights.h5") in probe["opened"]
    assert all(Path(opened).is_relative_to(out) for opened in probe["opened"]), probe["opened"]
