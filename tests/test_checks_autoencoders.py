"""The self-checks of notebooks 01 and 02's exercises pass the reference answers and fail wrong ones.

The references that are functions come from the companion notebooks themselves (their cells tagged
`definitions`); those that need training are replaced by stand-ins that are right by construction.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from aecourse import definitions_from
from aecourse.checks.autoencoders import (check_code_size_3, check_far_code, check_gaussian_codes,
                                          check_largest_filters, check_most_confused_pair,
                                          check_nearly_constant_units)
from verdicts import assert_fails


@pytest.fixture(scope="module")
def exercises_01() -> dict:
    return definitions_from("exercises/01_exercises.ipynb")


@pytest.fixture(scope="module")
def exercises_02() -> dict:
    return definitions_from("exercises/02_exercises.ipynb")



# ------------------------------------------------------------------ notebook 01, exercise 1


@pytest.fixture(scope="module")
def low_rank_images() -> np.ndarray:
    """Images in [0, 1] that lie near a 3-D subspace: PCA with 3 components reconstructs them better than with 2."""
    rng = np.random.default_rng(0)
    factors = rng.uniform(0, 1, (600, 3)) * [1.0, 0.7, 0.5]
    patterns = rng.uniform(0, 1, (3, 784)) / 3
    return np.clip(factors @ patterns + 0.01 * rng.standard_normal((600, 784)), 0, 1).astype("float32")


def _pca_autoencoder(images: np.ndarray, code_size: int, fitted: bool = True) -> keras.Model:
    """A linear autoencoder whose layer named 'code' projects onto the first principal directions (a stand-in)."""
    mean = images.mean(axis=0)
    components = np.linalg.svd(images - mean, full_matrices=False)[2][:code_size]
    inputs = keras.Input(shape=(784,))
    code = keras.layers.Dense(code_size, name="code")
    reconstruction = keras.layers.Dense(784, name="reconstruction")
    model = keras.Model(inputs, reconstruction(code(inputs)))
    if fitted:
        code.set_weights([components.T, -mean @ components.T])
        reconstruction.set_weights([components, mean])
    return model


def test_a_3d_code_that_beats_the_2d_one_passes(low_rank_images):
    result = check_code_size_3(_pca_autoencoder(low_rank_images, 3), _pca_autoencoder(low_rank_images, 2),
                               low_rank_images)
    assert result, result.message


def test_a_2d_code_fails_the_code_size_check(low_rank_images):
    assert_fails(check_code_size_3(_pca_autoencoder(low_rank_images, 2), _pca_autoencoder(low_rank_images, 2),
                                    low_rank_images))


def test_an_untrained_3d_model_fails_the_code_size_check(low_rank_images):
    keras.utils.set_random_seed(0)
    assert_fails(check_code_size_3(_pca_autoencoder(low_rank_images, 3, fitted=False),
                                    _pca_autoencoder(low_rank_images, 2), low_rank_images))


def test_an_untrained_2d_reference_fails_the_code_size_check(low_rank_images):
    keras.utils.set_random_seed(0)  # a freshly built 2-D model: anything trained beats it
    result = check_code_size_3(_pca_autoencoder(low_rank_images, 3),
                               _pca_autoencoder(low_rank_images, 2, fitted=False), low_rank_images)
    assert_fails(result)
    assert "2-D model" in result.message


def test_the_3d_model_against_a_better_trained_2d_one_fails(low_rank_images):
    # The chapter's fully trained 2-D model against a briefly trained 3-D one: here a 3-D model that
    # reconstructs only a little better than the mean image, against the exact 2-D projection.
    weak_3 = _pca_autoencoder(low_rank_images, 3)
    code, reconstruction = weak_3.get_layer("code"), weak_3.get_layer("reconstruction")
    kernel, bias = code.get_weights()
    code.set_weights([0.1 * kernel, 0.1 * bias])  # codes shrunk tenfold: the decoder draws little of the image
    assert_fails(check_code_size_3(weak_3, _pca_autoencoder(low_rank_images, 2), low_rank_images))


@pytest.mark.parametrize("images", [None, "x_test"], ids=["None", "a string"])
def test_unreadable_images_give_a_message(images, low_rank_images):
    assert_fails(check_code_size_3(_pca_autoencoder(low_rank_images, 3), _pca_autoencoder(low_rank_images, 2),
                                   images))


def test_a_model_without_a_code_layer_fails(low_rank_images):
    inputs = keras.Input(shape=(784,))
    model = keras.Model(inputs, keras.layers.Dense(784)(keras.layers.Dense(3)(inputs)))
    assert_fails(check_code_size_3(model, _pca_autoencoder(low_rank_images, 2), low_rank_images))


# ------------------------------------------------------------------ notebook 01, exercise 3


@pytest.fixture(scope="module")
def codes_with_a_hole() -> np.ndarray:
    """4 000 codes spread over the unit square, none within 0.15 of (0.3, 0.7)."""
    codes = np.random.default_rng(1).uniform(0, 1, (5000, 2))
    return codes[np.linalg.norm(codes - [0.3, 0.7], axis=1) > 0.15][:4000]


def test_the_notebooks_farthest_code_lies_in_the_hole(exercises_01, codes_with_a_hole):
    code, distance = exercises_01["farthest_code"](codes_with_a_hole)
    assert np.linalg.norm(code - [0.3, 0.7]) < 0.05 and distance > 0.1
    result = check_far_code(code, codes_with_a_hole)
    assert result, result.message


@pytest.mark.parametrize("code", [[0.8, 0.2], [1.5, 1.5], [0.3]], ids=["crowded", "outside", "one number"])
def test_codes_that_are_not_in_an_empty_region_fail(code, codes_with_a_hole):
    assert_fails(check_far_code(code, codes_with_a_hole))


def test_the_code_nearest_to_the_others_fails(codes_with_a_hole):
    """The argmin instead of the argmax: the grid point closest to the test codes."""
    axis = np.linspace(0.05, 0.95, 91)
    grid = np.array([(h1, h2) for h2 in axis for h1 in axis])
    from sklearn.neighbors import NearestNeighbors
    distances = NearestNeighbors(n_neighbors=1).fit(codes_with_a_hole).kneighbors(grid)[0][:, 0]
    assert_fails(check_far_code(grid[distances.argmin()], codes_with_a_hole))


def test_farthest_codes_whole_result_or_images_instead_of_codes_give_a_message(exercises_01, codes_with_a_hole):
    code_and_distance = exercises_01["farthest_code"](codes_with_a_hole)
    assert_fails(check_far_code(code_and_distance, codes_with_a_hole))  # (code, distance), not the code
    images = np.random.default_rng(0).uniform(0, 1, (500, 784))
    assert_fails(check_far_code(code_and_distance[0], images))  # images where the codes belong
    assert_fails(check_far_code(code_and_distance[0], None))


# ------------------------------------------------------------------ notebook 01, exercise 5


@pytest.fixture(scope="module")
def digits_with_look_alikes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ten classes of 'images' around centres in a plane of pixel space: classes 3 and 8 nearly share one,
    4 and 9 are close (the runner-up), the others lie apart on a circle."""
    rng = np.random.default_rng(2)
    plane = np.linalg.qr(rng.standard_normal((784, 2)))[0].T  # two orthonormal directions
    angles = 2 * np.pi * np.arange(10) / 10
    centres = 4 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    centres[8] = centres[3] + 0.05
    centres[9] = centres[4] + 0.6
    train_labels, test_labels = rng.integers(0, 10, 3000), rng.integers(0, 10, 1500)

    def images(labels):
        return (centres[labels] + 0.4 * rng.standard_normal((len(labels), 2))) @ plane \
            + 0.01 * rng.standard_normal((len(labels), 784))
    return images(train_labels), images(test_labels), test_labels


def test_the_notebooks_most_confused_pair_passes(exercises_01, digits_with_look_alikes):
    from sklearn.decomposition import PCA

    x_train, x_test, labels = digits_with_look_alikes
    codes = PCA(n_components=2, svd_solver="covariance_eigh").fit(x_train).transform(x_test)
    votes = definitions_from("01_autoencoder_mnist.ipynb")["neighbour_votes"](codes, labels)
    pair, _ = exercises_01["most_confused_pair"](votes, labels)
    assert set(pair) == {3, 8}, "the look-alike classes should be the most confused"
    result = check_most_confused_pair(pair, x_train, x_test, labels)
    assert result, result.message
    assert check_most_confused_pair(pair[::-1], x_train, x_test, labels), "the order of the two digits is free"


@pytest.mark.parametrize("pair", [(0, 1), (3, 3), (3, 11), None, (3, 8, 1)],
                         ids=["other pair", "same", "not a digit", "nothing", "three digits"])
def test_other_pairs_fail_the_confusion_check(pair, digits_with_look_alikes):
    assert_fails(check_most_confused_pair(pair, *digits_with_look_alikes))


def test_the_runner_up_pair_fails(digits_with_look_alikes):
    """The second most confused pair (e.g. the autoencoder's pair, read off the other scatter) is not the answer."""
    from sklearn.decomposition import PCA

    from aecourse.checks.autoencoders import _confusion_counts

    x_train, x_test, labels = digits_with_look_alikes
    codes = PCA(n_components=2, svd_solver="covariance_eigh").fit(x_train).transform(x_test)
    counts = _confusion_counts(definitions_from("01_autoencoder_mnist.ipynb")["neighbour_votes"](codes, labels),
                               labels)
    counts[3, 8] = counts[8, 3] = 0  # the look-alike pair out of the way: what remains is the runner-up
    runner_up = np.unravel_index(counts.argmax(), counts.shape)
    assert_fails(check_most_confused_pair(runner_up, x_train, x_test, labels))


def test_labels_of_other_images_give_a_message(digits_with_look_alikes):
    x_train, x_test, labels = digits_with_look_alikes
    assert_fails(check_most_confused_pair((3, 8), x_train, x_test, labels[:100]))
    assert_fails(check_most_confused_pair((3, 8), x_train, None, labels))


# ------------------------------------------------------------------ notebook 02, exercise 2


def test_the_notebooks_nearly_constant_units_pass(exercises_02):
    result = check_nearly_constant_units(exercises_02["nearly_constant_units"])
    assert result, result.message
    as_mask = check_nearly_constant_units(lambda codes, threshold: codes.std(axis=0) < threshold)
    assert as_mask, as_mask.message  # a boolean mask over the units is a right answer too


@pytest.mark.parametrize("wrong", [
    lambda codes, threshold: np.flatnonzero(codes.var(axis=0) < threshold),
    lambda codes, threshold: np.flatnonzero(codes.std(axis=1) < threshold),
    lambda codes, threshold: np.flatnonzero(codes.std(axis=0) < 0.01),
    lambda codes, threshold: np.flatnonzero(codes.mean(axis=0) < threshold),
    lambda codes, threshold: codes.std(axis=0),
    lambda codes, threshold: np.flatnonzero(np.ptp(codes, axis=0) < threshold),
    lambda codes, threshold: None,
], ids=["variance", "per image", "fixed threshold", "mean", "spreads", "range", "nothing"])
def test_wrong_nearly_constant_units_fail(wrong):
    assert_fails(check_nearly_constant_units(wrong))


# ------------------------------------------------------------------ notebook 02, exercise 3


@pytest.fixture(scope="module")
def untrained_32() -> keras.Model:
    keras.utils.set_random_seed(3)
    return definitions_from("02_autoencoder_visualization.ipynb")["make_autoencoder"](32)


@pytest.fixture(scope="module", params=[3, 4], ids=["seed 3", "seed 4"])
def autoencoder_32(request, low_rank_images) -> keras.Model:
    """The chapter's 32-D model, trained briefly (two seeds): a stand-in for the shipped one."""
    keras.utils.set_random_seed(request.param)
    model = definitions_from("02_autoencoder_visualization.ipynb")["make_autoencoder"](32)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="mse")
    model.fit(low_rank_images, low_rank_images, epochs=3, batch_size=32, verbose=0)
    return model


def test_the_notebooks_largest_filters_pass(exercises_02, autoencoder_32):
    mask = np.random.default_rng(4).uniform(size=784) < 0.8
    for pixel_mask in (mask, np.ones(784, dtype=bool)):
        indices = exercises_02["largest_filters"](autoencoder_32, pixel_mask)
        result = check_largest_filters(indices, autoencoder_32, pixel_mask=pixel_mask)
        assert result, result.message
    assert check_largest_filters(exercises_02["largest_filters"](autoencoder_32, np.ones(784, bool)), autoencoder_32)


def test_wrong_filters_fail(autoencoder_32):
    kernel = keras.ops.convert_to_numpy(autoencoder_32.get_layer("encoder_hidden").kernel)
    column_norms, row_norms = np.linalg.norm(kernel, axis=0), np.linalg.norm(kernel, axis=1)
    decoder_kernel = keras.ops.convert_to_numpy(autoencoder_32.get_layer("reconstruction").kernel)  # (100, 784)
    for wrong in (np.argsort(column_norms)[:10], np.argsort(row_norms)[::-1][:10],
                  np.argsort(column_norms)[::-1][:9], np.argsort(column_norms)[::-1][1:11],
                  np.argsort(np.linalg.norm(decoder_kernel, axis=1))[::-1][:10]):  # the decoder's filters
        assert_fails(check_largest_filters(wrong, autoencoder_32))


def test_the_filters_of_an_untrained_model_fail(exercises_02, untrained_32):
    """load_pretrained forgotten: the largest of the random initial filters."""
    indices = exercises_02["largest_filters"](untrained_32, np.ones(784, dtype=bool))
    result = check_largest_filters(indices, untrained_32)
    assert_fails(result)
    assert "not been trained" in result.message


def test_filters_found_with_a_mask_and_checked_without_it_fail(exercises_02, autoencoder_32):
    """The answer computed over the inked pixels, the check told nothing of the mask: the hint names the mask."""
    norms_all = np.linalg.norm(keras.ops.convert_to_numpy(autoencoder_32.get_layer("encoder_hidden").kernel), axis=0)
    mask = np.ones(784, dtype=bool)
    mask[np.argsort(np.abs(keras.ops.convert_to_numpy(
        autoencoder_32.get_layer("encoder_hidden").kernel)).max(axis=1))[-200:]] = False  # the strongest pixels out
    indices = exercises_02["largest_filters"](autoencoder_32, mask)
    if set(indices.tolist()) == set(np.argsort(norms_all)[::-1][:10].tolist()):
        pytest.skip("the mask changed nothing here")
    result = check_largest_filters(indices, autoencoder_32)
    assert_fails(result)
    assert "pixel_mask" in result.message


def test_filter_indices_that_are_not_numbers_give_a_message(autoencoder_32):
    assert_fails(check_largest_filters("the ten largest", autoencoder_32))
    assert_fails(check_largest_filters(list(range(10)), None))


# ------------------------------------------------------------------ notebook 02, exercise 5


def test_the_notebooks_gaussian_codes_pass(exercises_02):
    result = check_gaussian_codes(exercises_02["gaussian_codes"])
    assert result, result.message


@pytest.mark.parametrize("wrong", [
    lambda real, count, rng: rng.normal(real.mean(axis=0), real.std(axis=0), size=(count, real.shape[1])),
    lambda real, count, rng: rng.uniform(real.min(axis=0), real.max(axis=0), size=(count, real.shape[1])),
    lambda real, count, rng: rng.multivariate_normal(np.zeros(real.shape[1]), np.cov(real, rowvar=False), count),
    lambda real, count, rng: np.random.multivariate_normal(real.mean(axis=0), np.cov(real, rowvar=False), count),
    lambda real, count, rng: rng.multivariate_normal(real.mean(axis=0), np.cov(real, rowvar=False), 10),
], ids=["independent units", "box", "zero mean", "ignores rng", "too few"])
def test_wrong_gaussian_codes_fail(wrong):
    assert_fails(check_gaussian_codes(wrong))


def test_gaussian_codes_that_return_nothing_give_a_message():
    assert_fails(check_gaussian_codes(lambda real, count, rng: None))


def test_a_function_that_raises_gets_its_error_back_as_a_verdict():
    for check in (check_nearly_constant_units, check_gaussian_codes):
        result = check(lambda *arguments: 1 / 0)
        assert_fails(result)
        assert "ZeroDivisionError" in result.message
