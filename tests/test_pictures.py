"""Figures compared to the eye: an invisible re-rendering keeps the file, a visible change rewrites it."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from aecourse.commands.runner import keep_unchanged_pictures  # noqa: E402
from aecourse.pictures import MAX_LEVEL_CHANGE, pixels, same_to_the_eye, write_unless_same  # noqa: E402
from aecourse.plots import latent_scatter, save_figure  # noqa: E402


def _png(points: np.ndarray, title: str = "codes") -> bytes:
    """A latent scatter as the notebooks draw it, rendered to PNG bytes."""
    labels = np.arange(len(points)) % 10
    fig = latent_scatter(points, labels, title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((500, 2))


def test_points_moved_by_last_bit_rounding_are_the_same_to_the_eye(points):
    nudged = points * (1 + 1e-12)  # what another BLAS kernel does to a PCA projection
    assert same_to_the_eye(_png(points), _png(nudged))


def test_another_layout_a_moved_point_or_another_label_is_a_change(points):
    original = _png(points)
    another_layout = np.random.default_rng(1).standard_normal((500, 2))  # what a diverged t-SNE gives
    moved = points.copy()
    moved[7] += 0.05  # one point moved by about a pixel
    assert not same_to_the_eye(original, _png(another_layout))
    assert not same_to_the_eye(original, _png(moved))
    assert not same_to_the_eye(original, _png(points, title="codes, 88 %"))
    assert not same_to_the_eye(_png(points, title="accuracy 88 %"), _png(points, title="accuracy 89 %"))


def test_the_threshold_is_a_few_levels_of_one_channel(points):
    image = pixels(_png(points))
    assert image.shape[-1] == 4 and 0 < MAX_LEVEL_CHANGE < 16
    from PIL import Image

    def encoded(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(array.astype(np.uint8)).save(buffer, format="PNG")
        return buffer.getvalue()

    brighter = image.copy()
    brighter[10, 10, 0] = min(255, brighter[10, 10, 0] + MAX_LEVEL_CHANGE) if brighter[10, 10, 0] < 128 else \
        brighter[10, 10, 0] - MAX_LEVEL_CHANGE
    assert same_to_the_eye(encoded(image), encoded(brighter))
    brighter[10, 10, 0] = 255 - image[10, 10, 0]
    assert not same_to_the_eye(encoded(image), encoded(brighter))
    assert not same_to_the_eye(encoded(image), encoded(image[:-1]))  # another size


def test_a_file_is_kept_when_the_same_to_the_eye_and_rewritten_otherwise(points, tmp_path):
    path = tmp_path / "scatter.png"
    assert write_unless_same(path, _png(points))
    committed = path.read_bytes()
    assert not write_unless_same(path, _png(points * (1 + 1e-12)))
    assert path.read_bytes() == committed
    assert write_unless_same(path, _png(points, title="another title"))
    assert path.read_bytes() != committed
    path.write_bytes(b"not a PNG any more")  # a damaged file is replaced, not an error
    assert write_unless_same(path, committed) and path.read_bytes() == committed


def test_save_figure_leaves_an_unchanged_figure_alone(points, tmp_path, monkeypatch):
    monkeypatch.setenv("AECOURSE_FIGURES", str(tmp_path))
    labels = np.arange(len(points)) % 10
    save_figure(latent_scatter(points, labels), "scatter")
    modified = (tmp_path / "scatter.png").stat().st_mtime_ns
    committed = (tmp_path / "scatter.png").read_bytes()
    save_figure(latent_scatter(points * (1 + 1e-12), labels), "scatter")
    assert (tmp_path / "scatter.png").read_bytes() == committed
    assert (tmp_path / "scatter.png").stat().st_mtime_ns == modified
    plt.close("all")


def _notebook(png: bytes, source: str = "plot()") -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(png).decode(),
                                                                 "text/plain": "<Figure>"})]
    cell.id = "plot"
    return nbformat.v4.new_notebook(cells=[cell])


def _one_level_off(png: bytes) -> bytes:
    """The same picture with one pixel a grey level darker: other bytes, the same to the eye."""
    from PIL import Image

    image = pixels(png).astype(np.uint8)
    image[5, 5, :3] = np.maximum(image[5, 5, :3], 1) - 1
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def test_execute_keeps_a_committed_picture_only_when_the_same_to_the_eye(points):
    committed = _notebook(_png(points))
    rerendered = _one_level_off(_png(points))
    assert rerendered != _png(points) and same_to_the_eye(_png(points), rerendered)
    invisible = keep_unchanged_pictures(_notebook(rerendered), committed)
    assert invisible.cells[0].outputs[0].data == committed.cells[0].outputs[0].data
    visible = keep_unchanged_pictures(_notebook(_png(points, title="new")), committed)
    assert visible.cells[0].outputs[0].data != committed.cells[0].outputs[0].data
    edited = keep_unchanged_pictures(_notebook(rerendered, source="plot(again=True)"), committed)
    assert edited.cells[0].outputs[0].data != committed.cells[0].outputs[0].data  # another cell: fresh output


def _with_output_widget(png: bytes) -> nbformat.NotebookNode:
    """A notebook whose Output widget (an interactive plot's) stored a figure in the widget state."""
    notebook = _notebook(png)
    output = {"output_type": "display_data", "metadata": {},
              "data": {"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"}}
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"output-1": {"model_name": "OutputModel", "state": {"outputs": [output]}}}}}
    return notebook


def _widget_png(notebook: nbformat.NotebookNode) -> str:
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return state["output-1"]["state"]["outputs"][0]["data"]["image/png"]


def test_execute_keeps_a_widgets_committed_picture_only_when_the_same_to_the_eye(points):
    committed = _with_output_widget(_png(points))
    invisible = keep_unchanged_pictures(_with_output_widget(_one_level_off(_png(points))), committed)
    assert _widget_png(invisible) == _widget_png(committed)
    visible = keep_unchanged_pictures(_with_output_widget(_png(points, title="new")), committed)
    assert _widget_png(visible) != _widget_png(committed)
