"""The self-checks of the exercises of notebook 10: reference answers pass, wrong ones fail with a hint.

The reference answers come from the exercise notebook itself (its cells tagged `definitions`); other right
answers, written differently, must pass too, and the mistakes students make must fail with a hint.
"""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops
from scipy.optimize import nnls

from aecourse import definitions_from
from aecourse.checks.sparse import check_count_dead, check_fraction_unexplained, check_refit
from verdicts import assert_fails


@pytest.fixture(scope="module")
def exercises_10() -> dict:
    return definitions_from("exercises/10_exercises.ipynb")


# ---------------------------------------------------------------- check_fraction_unexplained

def test_the_reference_and_the_chapters_fraction_unexplained_pass(exercises_10):
    assert check_fraction_unexplained(exercises_10["fraction_unexplained"])
    assert check_fraction_unexplained(exercises_10["chapter"]["fraction_unexplained"])


def _fvu_from_variances(images, reconstructions):
    """The same number, as the mean squared error over the mean variance of a pixel."""
    return np.mean((images - reconstructions) ** 2) / np.mean(np.var(images, axis=0))


def _fvu_as_a_tensor(images, reconstructions):
    """The definition in keras.ops, returning a backend tensor."""
    return ops.sum(ops.square(images - reconstructions)) / ops.sum(ops.square(images - ops.mean(images, axis=0)))


@pytest.mark.parametrize("right", [_fvu_from_variances, _fvu_as_a_tensor])
def test_other_right_fraction_unexplained_pass(right):
    assert check_fraction_unexplained(right)


def _mean_squared_error(images, reconstructions):
    return np.mean((images - reconstructions) ** 2)


def _explained(images, reconstructions):
    return 1 - np.sum((images - reconstructions) ** 2) / np.sum((images - images.mean(axis=0)) ** 2)


def _about_zero(images, reconstructions):
    return np.sum((images - reconstructions) ** 2) / np.sum(images**2)


def _about_the_mean_of_all_pixels(images, reconstructions):
    return np.sum((images - reconstructions) ** 2) / np.sum((images - images.mean()) ** 2)


def _per_image(images, reconstructions):
    return np.sum((images - reconstructions) ** 2, axis=1) / np.sum((images - images.mean(axis=0)) ** 2, axis=1)


def _mean_of_per_image_ratios(images, reconstructions):
    return np.mean(_per_image(images, reconstructions))


def _mean_of_per_pixel_ratios(images, reconstructions):
    return np.mean(np.sum((images - reconstructions) ** 2, axis=0) / np.sum((images - images.mean(axis=0)) ** 2, axis=0))


def _not_written(images, reconstructions):
    raise NotImplementedError()


@pytest.mark.parametrize("wrong", [_mean_squared_error, _explained, _about_zero, _about_the_mean_of_all_pixels,
                                   _per_image, _mean_of_per_image_ratios, _mean_of_per_pixel_ratios, _not_written])
def test_wrong_fraction_unexplained_fail(wrong):
    assert_fails(check_fraction_unexplained(wrong))


# ---------------------------------------------------------------- check_count_dead

def test_the_reference_count_dead_passes(exercises_10):
    assert check_count_dead(exercises_10["count_dead"])


def test_the_chapters_measure_counts_the_same(exercises_10):
    """code_profile's dead units, from its firing rates, agree with the exercise's count."""
    assert check_count_dead(lambda codes: np.sum(np.mean(codes > 0, axis=0) == 0))


@pytest.mark.parametrize("wrong", [
    lambda codes: np.mean(np.all(codes <= 0, axis=0)),  # the share of dead units
    lambda codes: np.sum(np.mean(codes > 0, axis=0) < 0.01),  # rare units counted as dead
    lambda codes: np.sum(np.all(codes <= 0, axis=1)),  # images on which nothing fires
    lambda codes: np.all(codes <= 0, axis=0),  # one verdict per unit, not counted
    lambda codes: np.sum(np.any(codes == 0, axis=0)),  # zero on some image
    lambda codes: np.sum(np.any(codes > 0, axis=0)),  # the live units
    lambda codes: np.sum(codes <= 0, axis=1),  # silent units per image
])
def test_wrong_count_dead_fail(wrong):
    assert_fails(check_count_dead(wrong))


# ---------------------------------------------------------------- check_refit

def test_the_reference_refit_passes(exercises_10):
    assert check_refit(exercises_10["refit"])


def _refit_by_normal_equations(dictionary, offset, images, codes):
    refitted = np.zeros_like(codes)
    for row, (image, code) in enumerate(zip(images, codes)):
        units = np.flatnonzero(code > 0)
        patterns = dictionary[units].astype("float64")
        refitted[row, units] = np.linalg.solve(patterns @ patterns.T, patterns @ (image - offset))
    return refitted


def _refit_without_negative_values(dictionary, offset, images, codes):
    refitted = np.zeros_like(codes)
    for row, (image, code) in enumerate(zip(images, codes)):
        units = np.flatnonzero(code > 0)
        refitted[row, units] = nnls(dictionary[units].T.astype("float64"), (image - offset).astype("float64"))[0]
    return refitted


@pytest.mark.parametrize("right", [_refit_by_normal_equations, _refit_without_negative_values])
def test_other_right_refits_pass(right):
    assert check_refit(right)


def _unchanged(dictionary, offset, images, codes):
    return codes


def _on_every_unit(dictionary, offset, images, codes):
    return np.linalg.lstsq(dictionary.T, (images - offset).T, rcond=None)[0].T


def _without_the_offset(dictionary, offset, images, codes):
    return _refit_by_normal_equations(dictionary, np.zeros_like(offset), images, codes)


def _one_factor_for_all(dictionary, offset, images, codes):
    written = codes @ dictionary
    return codes * np.sum(written * (images - offset)) / np.sum(written**2)


def _one_value_per_image(dictionary, offset, images, codes):
    return _refit_by_normal_equations(dictionary, offset, images, codes).sum(axis=1)


def _refit_not_written(dictionary, offset, images, codes):
    raise NotImplementedError()


@pytest.mark.parametrize("wrong", [_unchanged, _on_every_unit, _without_the_offset, _one_factor_for_all,
                                   _one_value_per_image, _refit_not_written])
def test_wrong_refits_fail(wrong):
    assert_fails(check_refit(wrong))
