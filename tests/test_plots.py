"""The figure helpers: layout, orientation, saving, and clear errors for wrong shapes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import norm  # noqa: E402

from aecourse import plots  # noqa: E402


@pytest.fixture(autouse=True)
def figures_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AECOURSE_FIGURES", str(tmp_path))
    yield tmp_path
    plt.close("all")


def test_image_rows_aligns_labelled_rows_and_saves(figures_folder):
    images = np.random.default_rng(0).random((5, 784))
    fig = plots.image_rows({"original": images, "reconstruction": images.reshape(5, 28, 28)},
                           save="rows")
    assert len(fig.axes) == 10
    assert fig.axes[0].get_ylabel() == "original" and fig.axes[5].get_ylabel() == "reconstruction"
    assert (figures_folder / "rows.png").read_bytes().startswith(b"\x89PNG")


def test_image_rows_refuses_ragged_rows_and_unsquare_images():
    with pytest.raises(ValueError, match="same number of images"):
        plots.image_rows({"a": np.zeros((3, 28, 28)), "b": np.zeros((4, 28, 28))})
    with pytest.raises(ValueError, match="pass image_shape"):
        plots.image_rows({"a": np.zeros((3, 780))})
    with pytest.raises(ValueError, match="cannot be split"):
        plots.image_rows({"a": np.zeros((3, 780))}, image_shape=(28, 28))


def test_image_grid_fills_rows_and_hides_spare_axes():
    fig = plots.image_grid(np.zeros((7, 8, 8)), n_columns=4, titles=[str(i) for i in range(7)])
    assert len(fig.axes) == 8 and not fig.axes[-1].axison
    signed = plots.image_grid(np.array([[[-1.0, 2.0]], [[0.5, 0.0]]]), n_columns=2, symmetric=True)
    assert [ax.images[0].get_clim() for ax in signed.axes] == [(-2.0, 2.0), (-0.5, 0.5)]
    with pytest.raises(ValueError, match="2 titles for 7 images"):
        plots.image_grid(np.zeros((7, 8, 8)), n_columns=4, titles=["a", "b"])


def test_latent_scatter_checks_codes_and_labels():
    fig = plots.latent_scatter(np.zeros((10, 2)), np.arange(10), title="codes")
    assert fig.axes[0].get_title() == "codes" and len(fig.axes) == 2  # the scatter and its colour bar
    bare = plots.latent_scatter(np.zeros((10, 2)), np.arange(10), colorbar=False, axis_names="z")
    assert len(bare.axes) == 1 and bare.axes[0].get_xlabel() == "$z_1$"
    with pytest.raises(ValueError, match=r"needs \(count, 2\)"):
        plots.latent_scatter(np.zeros((10, 3)), np.arange(10))
    with pytest.raises(ValueError, match="one per code"):
        plots.latent_scatter(np.zeros((10, 2)), np.arange(9))


def test_grid_axis_linear_and_gaussian_quantiles():
    np.testing.assert_allclose(plots.grid_axis(3), [0.05, 0.5, 0.95])
    np.testing.assert_allclose(plots.grid_axis(3, "gaussian"), norm.ppf([0.05, 0.5, 0.95]), atol=1e-12)
    with pytest.raises(ValueError, match="high < 1"):
        plots.grid_axis(3, "gaussian", high=1.0)
    with pytest.raises(ValueError, match="'linear' or 'gaussian'"):
        plots.grid_axis(3, "log")


def test_manifold_grid_puts_low_h1_left_and_high_h2_on_top():
    def decode(codes: np.ndarray) -> np.ndarray:
        # each tile is a constant image: left half shows h1, right half shows h2
        tiles = np.empty((len(codes), 4, 4), np.float32)
        tiles[:, :, :2] = codes[:, :1, None]
        tiles[:, :, 2:] = codes[:, 1:, None]
        return tiles

    fig = plots.manifold_grid(decode, n=3, low=0.1, high=0.9, image_shape=(4, 4))
    canvas = fig.axes[0].images[0].get_array()
    assert canvas.shape == (12, 12)
    assert canvas[0, 0] == pytest.approx(0.1) and canvas[0, 2] == pytest.approx(0.9)  # top-left tile
    assert canvas[11, 8] == pytest.approx(0.9) and canvas[11, 10] == pytest.approx(0.1)  # bottom-right


def test_manifold_grid_reports_a_decoder_of_the_wrong_size():
    with pytest.raises(ValueError, match="decoded images"):
        plots.manifold_grid(lambda codes: np.zeros((len(codes), 10)), n=3)


def test_interpolation_strip_captions_each_step(figures_folder):
    fig = plots.interpolation_strip(np.zeros((4, 28, 28)), labels=["0", "1/3", "2/3", "1"], save="strip")
    assert [ax.get_title() for ax in fig.axes] == ["0", "1/3", "2/3", "1"]
    assert (figures_folder / "strip.png").exists()


@pytest.mark.parametrize("name", ["", "../escape", ".hidden"])
def test_save_figure_refuses_paths(name):
    with pytest.raises(ValueError, match="plain file stem"):
        plots.save_figure(plt.figure(), name)


def test_epoch_snapshots_write_one_gif_frame_per_epoch(figures_folder):
    import keras
    from PIL import Image

    from aecourse.snapshots import EpochSnapshots

    inputs = keras.Input((784,))
    model = keras.Model(inputs, keras.layers.Dense(784, activation="sigmoid")(inputs))
    model.compile(optimizer="adam", loss="mse")
    images = np.random.default_rng(0).random((50, 784)).astype("float32")
    rng = np.random.default_rng(1)  # a new picture every epoch: GIF writers merge identical frames
    snapshots = EpochSnapshots("tiny", encode=lambda x: x[:, :2], decode=lambda z: rng.random((len(z), 784)),
                               images=images, labels=np.arange(50) % 10, n=3)
    model.fit(images, images, epochs=3, verbose=0, callbacks=[snapshots])
    for kind in ("manifold", "latent"):
        with Image.open(figures_folder / f"tiny_{kind}.gif") as gif:
            assert gif.n_frames == 3
