"""Other Keras backends train the notebooks' own models, and TensorFlow loads what they saved.

Each test runs a course notebook in a JAX or PyTorch kernel through its own TRAIN switch, up to the cell that trains
one model (for 2 epochs instead of the notebook's count), into a scratch weights folder. The kernel saves
the trained model's outputs on fixed test images; this process, on TensorFlow, rebuilds the model from the
notebook's definitions, loads the weight file through the manifest, and must give the same outputs.
"""

from __future__ import annotations

import importlib.util
import re

import keras
import nbformat
import numpy as np
import pytest

from aecourse import definitions_from, load_mnist, load_pretrained
from aecourse.commands import runner
from aecourse.paths import NOTEBOOKS_DIR
from aecourse.weights import read_manifest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the loading side runs on TensorFlow"),
]
BACKENDS = [pytest.param(backend, marks=pytest.mark.skipif(
                importlib.util.find_spec(module) is None,
                reason=f"{backend} is not installed: pip install -r requirements-{backend}.txt"))
            for backend, module in (("jax", "jax"), ("torch", "torch"))]
PROBE_COUNT = 256  # test images whose outputs are compared
TRAINING_EPOCHS = 2


def _train_on(backend: str, notebook_name: str, weights: str, probe: str, folder, monkeypatch):
    """Run the notebook on the backend up to the cell that trains `weights`, then the probe; what it saved."""
    path = NOTEBOOKS_DIR / notebook_name
    notebook = nbformat.read(path, as_version=4)
    runner.inject_training_switch(notebook, {weights})
    trains = next(index for index, cell in enumerate(notebook.cells)
                  if "train_or_load(" in cell.source and f'"{weights}"' in cell.source)
    notebook.cells = notebook.cells[:trains + 1]
    notebook.cells[trains].source, cuts = re.subn(r"epochs=\d+", f"epochs={TRAINING_EPOCHS}",
                                                  notebook.cells[trains].source)
    assert cuts == 1, "the training cell should set its epochs once"
    outputs = folder / "outputs.npz"
    notebook.cells.append(nbformat.v4.new_code_cell(
        f"np.savez({str(outputs)!r}, backend=keras.backend.backend(), {probe})"))
    monkeypatch.setenv("KERAS_BACKEND", backend)  # the kernel inherits it; this process stays on TensorFlow
    monkeypatch.setenv("AECOURSE_WEIGHTS", str(folder))
    runner.run_cells(notebook, path, timeout=900)
    monkeypatch.delenv("KERAS_BACKEND")
    entry = read_manifest(folder)[weights]
    assert entry["versions"]["backend"] == backend and entry["training"]["epochs"] == TRAINING_EPOCHS
    saved = np.load(outputs)
    assert str(saved["backend"]) == backend
    return saved


@pytest.fixture(scope="module")
def probe_images() -> np.ndarray:
    (_, _), (test_images, _) = load_mnist()
    return test_images[:PROBE_COUNT].reshape(PROBE_COUNT, -1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_dense_autoencoder_trained_on_another_backend_loads_on_tensorflow(backend, tmp_path, monkeypatch,
                                                                           probe_images):
    saved = _train_on(backend, "01_autoencoder_mnist.ipynb", "01_dense_ae",
                          f"reconstructions=autoencoder.predict(x_test[:{PROBE_COUNT}], verbose=0)",
                          tmp_path, monkeypatch)
    autoencoder = definitions_from("01_autoencoder_mnist.ipynb")["autoencoder"]
    load_pretrained(autoencoder, "01_dense_ae")  # from the scratch folder: AECOURSE_WEIGHTS is still set
    np.testing.assert_allclose(autoencoder.predict(probe_images, verbose=0), saved["reconstructions"], atol=1e-5)
    shipped = read_manifest(NOTEBOOKS_DIR.parent / "weights")["01_dense_ae"]["sha256"]
    assert read_manifest(tmp_path)["01_dense_ae"]["sha256"] != shipped, "two epochs cannot give the shipped file"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_dense_vae_trained_on_another_backend_loads_on_tensorflow(backend, tmp_path, monkeypatch, probe_images):
    probe = (f"means=encoder.predict(x_test[:{PROBE_COUNT}], verbose=0)[0], "
             f"log_vars=encoder.predict(x_test[:{PROBE_COUNT}], verbose=0)[1], "
             f"decoded=decoder.predict(encoder.predict(x_test[:{PROBE_COUNT}], verbose=0)[0], verbose=0)")
    saved = _train_on(backend, "03_variational_autoencoder.ipynb", "03_vae_beta1", probe, tmp_path, monkeypatch)
    notebook_03 = definitions_from("03_variational_autoencoder.ipynb")
    VAE = notebook_03["VAE"]
    encoder, decoder = notebook_03["make_encoder"](), notebook_03["make_decoder"]()
    vae = VAE(encoder, decoder)
    vae.build((None, 784))
    load_pretrained(vae, "03_vae_beta1")
    means, log_vars = encoder.predict(probe_images, verbose=0)
    np.testing.assert_allclose(means, saved["means"], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(log_vars, saved["log_vars"], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(decoder.predict(means, verbose=0), saved["decoded"], atol=1e-5)
