"""Notebook 05's self-checks: the reference answers pass, deliberately wrong ones fail with a hint."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops
from scipy.ndimage import gaussian_filter
from sklearn.decomposition import PCA

from aecourse import definitions_from
from aecourse.checks.faces import (check_augmented_batches, check_constant_code_units, check_identity_accuracy,
                                   check_tied_decoder)
from verdicts import assert_fails


@pytest.fixture(scope="module")
def companion() -> dict:
    """The companion's definitions: the reference solutions that train nothing, and the chapter's models."""
    return definitions_from("exercises/05_exercises.ipynb")


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    """120 smooth random 64x64 images in [0, 1], each different: stand-ins for faces."""
    images = gaussian_filter(np.random.default_rng(0).random((120, 64, 64)), sigma=(0, 3, 3))
    return ((images - images.min()) / (images.max() - images.min())).astype("float32")



# ---------------------------------------------------------------- exercise 1: constant code units

@pytest.fixture(scope="module", params=[1, 2], ids=["seed 1", "seed 2"])
def low_rank_faces(request) -> np.ndarray:
    """120 stand-in faces that vary along 8 smooth patterns around a grey mean (two seeds)."""
    rng = np.random.default_rng(request.param)
    patterns = gaussian_filter(rng.standard_normal((8, 64, 64)), sigma=(0, 4, 4))
    patterns /= np.abs(patterns).max(axis=(1, 2), keepdims=True)
    images = 0.5 + np.tensordot(rng.normal(0, 0.1, (120, 8)), patterns, axes=1)
    return np.clip(images + 0.002 * rng.standard_normal(images.shape), 0, 1).astype("float32")


def relu_code_at_eigenfaces(model: keras.Model, faces: np.ndarray, used: int = 12) -> keras.Model:
    """The deep ReLU-code model given PCA's weights, right by construction: `used` code units carry the first
    eigenface coordinates (shifted to stay positive through every ReLU), the other units are 0 for every face."""
    pca = PCA(n_components=used, svd_solver="full").fit(faces.reshape(len(faces), -1))
    offset = 10 * np.abs(pca.transform(faces.reshape(len(faces), -1))).max()  # keeps every ReLU in its linear part
    mean = np.clip(pca.mean_, 0.01, 0.99)
    slope = mean * (1 - mean)  # the sigmoid's slope at the mean face, as the chapter's start_at_eigenfaces
    layer = {name: model.get_layer(name) for name in ("encoder_hidden", "code", "decoder_hidden", "reconstruction")}
    kernel = np.zeros((4096, 256))
    kernel[:, :used] = pca.components_.T
    layer["encoder_hidden"].set_weights([kernel, np.r_[offset - pca.mean_ @ pca.components_.T, np.zeros(256 - used)]])
    kernel = np.zeros((256, 20))
    kernel[:used, :used] = np.eye(used)
    layer["code"].set_weights([kernel, np.zeros(20)])  # code = coordinate + offset, or 0 for the unused units
    kernel = np.zeros((20, 256))
    kernel[:used, :used] = np.eye(used)
    layer["decoder_hidden"].set_weights([kernel, np.zeros(256)])
    kernel = np.zeros((256, 4096))
    kernel[:used] = pca.components_ / slope
    layer["reconstruction"].set_weights([kernel, np.log(mean / (1 - mean)) - offset * kernel[:used].sum(axis=0)])
    return model


def test_a_correct_count_of_a_trained_relu_code_passes(companion, low_rank_faces):
    model = relu_code_at_eigenfaces(companion["make_relu_code_autoencoder"](), low_rank_faces)
    count = int(np.sum(companion["code_spread"](model, low_rank_faces) < companion["CONSTANT_BELOW"]))
    assert count == 8  # the eight unused units, by construction
    result = check_constant_code_units(model, low_rank_faces, count)
    assert result, result.message


def test_a_wrong_count_fails(companion, low_rank_faces):
    model = relu_code_at_eigenfaces(companion["make_relu_code_autoencoder"](), low_rank_faces)
    count = int(np.sum(companion["code_spread"](model, low_rank_faces) < 0.01))
    for wrong in (count + 1, 20 - count, "a few", [3, 5], None, True):  # off by one, the live units, not a count
        assert_fails(check_constant_code_units(model, low_rank_faces, wrong))


def test_a_count_on_an_untrained_model_fails(companion, low_rank_faces):
    """The model built but not fitted: its count is right for it, but says nothing about training."""
    keras.utils.set_random_seed(0)
    model = companion["make_relu_code_autoencoder"]()
    count = int(np.sum(companion["code_spread"](model, low_rank_faces) < 0.01))
    result = check_constant_code_units(model, low_rank_faces, count)
    assert_fails(result)
    assert "not been trained" in result.message


def test_a_linear_code_is_not_a_relu_code(companion, faces):
    model = companion["make_deep_autoencoder"]()  # the chapter's model, unchanged
    assert_fails(check_constant_code_units(model, faces, 0))


def test_faces_that_are_not_images_give_a_message(companion, low_rank_faces):
    model = relu_code_at_eigenfaces(companion["make_relu_code_autoencoder"](), low_rank_faces)
    assert_fails(check_constant_code_units(model, low_rank_faces[:, :32], 8))


def test_a_model_without_a_code_layer_fails(faces):
    inputs = keras.Input((64, 64))
    model = keras.Model(inputs, keras.layers.Reshape((64, 64))(keras.layers.Dense(4096)(keras.layers.Flatten()(inputs))))
    assert_fails(check_constant_code_units(model, faces, 0))


# ---------------------------------------------------------------- exercise 2: augmented batches

def test_rotated_and_scaled_batches_pass(companion, faces):
    assert check_augmented_batches(companion["AffineFaces"](faces, batch_size=16, seed=0), faces)
    channels = faces[..., None]  # as the convolutional model takes them
    assert check_augmented_batches(companion["AffineFaces"](channels, batch_size=16, seed=0), channels)


def test_shifts_alone_fail(companion, faces):
    assert_fails(check_augmented_batches(companion["ShiftedFaces"](faces, batch_size=16, seed=0), faces))


class Batches:
    """A stand-in dataset whose first batch is whatever make() returns."""

    def __init__(self, make):
        self.make = make

    def __getitem__(self, index):
        return self.make()


def test_noise_out_of_range_pixels_and_unequal_pairs_fail(companion, faces):
    augmented = companion["AffineFaces"](faces, batch_size=16, seed=0)[0][0]
    noise = np.random.default_rng(1).random((16, 64, 64)).astype("float32")
    assert_fails(check_augmented_batches(Batches(lambda: (noise, noise)), faces))
    assert_fails(check_augmented_batches(Batches(lambda: (1.5 * augmented, 1.5 * augmented)), faces))
    assert_fails(check_augmented_batches(Batches(lambda: (augmented, faces[:16])), faces))
    assert_fails(check_augmented_batches(Batches(lambda: augmented), faces))
    assert_fails(check_augmented_batches(Batches(lambda: (augmented[:, :32], augmented[:, :32])), faces))


def test_a_dataset_that_raises_fails(faces):
    def broken():
        raise IndexError("no batch")
    assert_fails(check_augmented_batches(Batches(broken), faces))


# ---------------------------------------------------------------- exercise 3: tied weights

def eigenfaces_in(model, faces: np.ndarray, sigmoid: bool) -> keras.Model:
    """A tied model given PCA's weights: right by construction (scaled for the sigmoid, linear around the mean)."""
    pca = PCA(n_components=100, svd_solver="full").fit(faces.reshape(len(faces), -1))
    mean = np.clip(pca.mean_, 0.01, 0.99)
    scale = 1 / np.sqrt(np.mean(mean * (1 - mean))) if sigmoid else 1.0  # the sigmoid's slope, on average
    kernel = pca.components_.T * scale
    model.get_layer("code").set_weights([kernel, -pca.mean_ @ kernel])
    model.get_layer("reconstruction").bias.assign(np.log(mean / (1 - mean)) if sigmoid else pca.mean_)
    return model


def test_a_tied_model_with_the_eigenfaces_passes(companion, faces):
    linear = eigenfaces_in(companion["make_tied_autoencoder"](activation=None), faces, sigmoid=False)
    assert check_tied_decoder(linear, faces)
    sigmoid = eigenfaces_in(companion["make_tied_autoencoder"](), faces, sigmoid=True)
    assert check_tied_decoder(sigmoid, faces)


def test_an_untied_model_fails_even_when_it_reconstructs_well(companion, faces):
    untied = companion["make_shallow_autoencoder"]()
    companion["chapter"]["start_at_eigenfaces"](untied, faces)
    mse = np.mean((ops.convert_to_numpy(untied(faces)) - faces) ** 2)
    assert mse < np.mean((faces - faces.mean(axis=0)) ** 2)  # it does reconstruct: only the tying is wrong
    assert_fails(check_tied_decoder(untied, faces))


def test_an_untrained_tied_model_fails(companion, faces):
    keras.utils.set_random_seed(0)
    assert_fails(check_tied_decoder(companion["make_tied_autoencoder"](), faces))


def test_a_decoder_with_a_scaled_transpose_fails(companion, faces):
    class ScaledTranspose(companion["TransposedDense"]):
        def call(self, codes):
            return self.activation(ops.matmul(codes, 2.0 * ops.transpose(self.tied_to.kernel)) + self.bias)

    shallow = companion["make_shallow_autoencoder"]()
    code = shallow.get_layer("code")
    pixels = ScaledTranspose(code, activation="sigmoid", name="reconstruction")(code.output)
    model = eigenfaces_in(keras.Model(shallow.input, keras.layers.Reshape((64, 64))(pixels)), faces, sigmoid=True)
    assert_fails(check_tied_decoder(model, faces))


# ---------------------------------------------------------------- exercise 4: identity accuracy

PERSON_TEST = np.repeat(np.arange(40), 4)


def test_an_accuracy_measured_on_the_test_predictions_passes():
    predictions = PERSON_TEST.copy()
    predictions[:20] = (predictions[:20] + 1) % 40  # 20 of 160 wrong
    assert check_identity_accuracy(predictions, float(np.mean(predictions == PERSON_TEST)), PERSON_TEST)
    assert check_identity_accuracy(predictions, 0.88, PERSON_TEST)  # rounded to two decimals: 0.875


def test_an_accuracy_from_elsewhere_fails():
    predictions = PERSON_TEST.copy()
    predictions[:40] = (predictions[:40] + 1) % 40  # 75 % right on the test faces
    assert_fails(check_identity_accuracy(predictions, 1.0, PERSON_TEST))  # the training accuracy
    assert_fails(check_identity_accuracy(predictions, 75.0, PERSON_TEST))  # a percentage
    assert_fails(check_identity_accuracy(np.tile(predictions, 3)[:560], 0.75, PERSON_TEST))  # training faces


def test_an_accuracy_that_is_not_a_number_fails():
    for accuracy in ("0.87", None, [0.87], True):
        assert_fails(check_identity_accuracy(PERSON_TEST, accuracy, PERSON_TEST))


def test_chance_level_predictions_fail():
    predictions = np.random.default_rng(0).integers(0, 40, size=PERSON_TEST.size)
    assert_fails(check_identity_accuracy(predictions, float(np.mean(predictions == PERSON_TEST)), PERSON_TEST))
