"""aecourse.read_scalars reads back what Keras's TensorBoard callback logged, epoch by epoch."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from aecourse import read_scalars


def test_it_returns_each_epochs_losses_per_split_as_keras_reported_them(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    inputs = np.random.default_rng(0).standard_normal((64, 3)).astype("float32")
    history = model.fit(inputs, inputs[:, :1], epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(tmp_path / "logs")])

    scalars = read_scalars(tmp_path / "logs")

    assert set(scalars["loss"]) == {"train", "validation"}
    np.testing.assert_allclose(scalars["loss"]["train"], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(scalars["loss"]["validation"], history.history["val_loss"], rtol=1e-6)
    assert not any(tag.startswith(("epoch_", "evaluation_")) for tag in scalars)


def test_a_folder_without_runs_is_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no TensorBoard runs"):
        read_scalars(tmp_path / "nothing here")
