"""Notebook 06's self-checks: each passes the companion's own answer and fails deliberately wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from aecourse import definitions_from
from aecourse.checks import denoising
from aecourse.checks.denoising import (check_beats_filters, check_block_mask, check_noise_factor_sampler,
                                       check_salt_and_pepper)
from verdicts import assert_fails


@pytest.fixture(scope="module")
def companion() -> dict:
    """The companion's definitions: chapter 06's functions and the reference answers that train nothing."""
    return definitions_from("exercises/06_exercises.ipynb")



# --- exercise 1: the noise-factor sampler


def test_the_reference_sampler_passes(companion):
    result = check_noise_factor_sampler(companion["random_noise_factors"])
    assert result, result


@pytest.mark.parametrize("sampler", [
    lambda count, low, high, rng: np.full(count, (low + high) / 2),  # one level for all
    lambda count, low, high, rng: np.clip(rng.normal((low + high) / 2, (high - low) / 6, count), low, high),
    lambda count, low, high, rng: rng.uniform(0.0, 1.0, count),  # ignores the range
    lambda count, low, high, rng: np.random.default_rng(0).uniform(low, high, count),  # ignores rng
    lambda count, low, high, rng: rng.uniform(low, high, count + 1),
    lambda count, low, high, rng: rng.uniform(low, high),  # one number, not one per image
], ids=["constant", "normal", "wrong range", "own generator", "one too many", "scalar"])
def test_wrong_samplers_fail(sampler):
    assert_fails(check_noise_factor_sampler(sampler))


def test_a_sampler_that_raises_fails_with_a_hint():
    def broken(count, low, high, rng):
        raise ValueError("not yet")

    result = check_noise_factor_sampler(broken)
    assert_fails(result)
    assert "raised ValueError" in result.message


# --- exercise 3: salt and pepper


def test_the_reference_salt_and_pepper_passes(companion):
    result = check_salt_and_pepper(companion["salt_and_pepper"])
    assert result, result


def _only_salt(images, fraction, rng):
    corrupted = images.copy()
    corrupted[rng.random(images.shape) < fraction] = 1.0
    return corrupted


def _twice_the_fraction(images, fraction, rng):
    corrupted = images.copy()
    hit = rng.random(images.shape) < 2 * fraction
    corrupted[hit] = rng.integers(0, 2, size=int(hit.sum()))
    return corrupted


def _one_pattern_for_all(images, fraction, rng):
    corrupted = images.copy()
    hit = rng.random(images.shape[1:]) < fraction
    corrupted[:, hit] = rng.integers(0, 2, size=int(hit.sum()))
    return corrupted


def _in_place(images, fraction, rng):
    hit = rng.random(images.shape) < fraction
    images[hit] = rng.integers(0, 2, size=int(hit.sum()))
    return images


def _gaussian(images, fraction, rng):
    return np.clip(images + fraction * rng.standard_normal(images.shape), 0, 1)


@pytest.mark.parametrize("corrupt", [_only_salt, _twice_the_fraction, _one_pattern_for_all, _in_place, _gaussian])
def test_wrong_salt_and_pepper_fails(corrupt):
    assert_fails(check_salt_and_pepper(corrupt))


# --- exercise 4: the random block mask


def test_the_reference_block_mask_passes(companion):
    result = check_block_mask(companion["mask_random_block"])
    assert result, result


def _masked_at(images, size, tops, lefts, value=0.0):
    masked = images.copy()
    for image, top, left in zip(masked, tops, lefts):
        image[top:top + size, left:left + size] = value
    return masked


def _always_the_centre(images, size, rng):
    top, left = (images.shape[1] - size) // 2, (images.shape[2] - size) // 2
    return _masked_at(images, size, [top] * len(images), [left] * len(images))


def _may_stick_out(images, size, rng):  # corners drawn over the whole image: blocks cut off at the edges
    return _masked_at(images, size, rng.integers(0, images.shape[1], len(images)),
                      rng.integers(0, images.shape[2], len(images)))


def _one_too_big(images, size, rng):
    return _masked_at(images, size + 1, rng.integers(0, images.shape[1] - size, len(images)),
                      rng.integers(0, images.shape[2] - size, len(images)))


def _set_to_one(images, size, rng):
    return _masked_at(images, size, rng.integers(0, images.shape[1] - size + 1, len(images)),
                      rng.integers(0, images.shape[2] - size + 1, len(images)), value=1.0)


def _rows_and_columns_swapped(images, size, rng):  # the top drawn with the width's range, the left with the height's
    return _masked_at(images, size, rng.integers(0, images.shape[2] - size + 1, len(images)),
                      rng.integers(0, images.shape[1] - size + 1, len(images)))


def _same_place_for_all(images, size, rng):
    top, left = rng.integers(0, images.shape[1] - size + 1), rng.integers(0, images.shape[2] - size + 1)
    return _masked_at(images, size, [top] * len(images), [left] * len(images))


@pytest.mark.parametrize("mask_block", [_always_the_centre, _may_stick_out, _one_too_big, _set_to_one,
                                        _rows_and_columns_swapped, _same_place_for_all])
def test_wrong_block_masks_fail(mask_block):
    assert_fails(check_block_mask(mask_block))


# --- the denoiser against the filters


@pytest.fixture(scope="module")
def smooth_images() -> tuple[np.ndarray, np.ndarray]:
    """Smooth random images in [0, 1] and a noisy version of them."""
    rng = np.random.default_rng(0)
    clean = ndimage.gaussian_filter(rng.random((60, 28, 28, 1)), (0, 2, 2, 0))
    clean = (clean - clean.min()) / (clean.max() - clean.min())
    return clean, np.clip(clean + 0.3 * rng.standard_normal(clean.shape), 0, 1)


def test_a_perfect_denoiser_beats_the_filters(smooth_images):
    clean, noisy = smooth_images
    result = check_beats_filters(clean, noisy, clean)
    assert result, result


def test_the_noisy_input_or_a_filter_itself_does_not_beat_the_filters(companion, smooth_images):
    clean, noisy = smooth_images
    assert_fails(check_beats_filters(clean, noisy, noisy))
    for sigma in companion["GAUSSIAN_WIDTHS"]:  # a filter cannot beat itself at its best width
        assert_fails(check_beats_filters(clean, noisy, ndimage.gaussian_filter(noisy, (0, sigma, sigma, 0))))


def test_mismatched_arrays_fail_with_a_hint(smooth_images):
    clean, noisy = smooth_images
    assert_fails(check_beats_filters(clean, noisy[:10], clean))
    assert_fails(check_beats_filters(clean, noisy, clean[:10]))
    assert_fails(check_beats_filters(clean, clean, clean))


def test_the_check_measures_as_the_chapter_does(companion, smooth_images):
    clean, noisy = smooth_images
    best = denoising._best_filters(noisy, clean)
    assert best["median filter"][0] == pytest.approx(companion["best_filter_psnr"](
        noisy, clean, companion["median_filter"], companion["MEDIAN_SIZES"]), rel=1e-6)
    assert best["Gaussian blur"][0] == pytest.approx(companion["best_filter_psnr"](
        noisy, clean, companion["gaussian_blur"], companion["GAUSSIAN_WIDTHS"]), rel=1e-6)
