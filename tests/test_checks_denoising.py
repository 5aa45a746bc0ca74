"""Notebook 06's self-checks: each passes the companion's own answer and fails deliberately wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from aecourse import definitions_from
from aecourse.checks import denoising
from aecourse.checks.denoising import (check_beats_filters, check_block_mask, check_flatter_psnr_curve,
                                       check_noise_factor_sampler, check_salt_and_pepper)
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


# --- exercise 1: is the curve of the range-trained model flatter?


@pytest.fixture(scope="module")
def digits_like() -> np.ndarray:
    """200 smooth random 28x28 images in [0, 1] with dark backgrounds: stand-ins for digits."""
    rng = np.random.default_rng(1)
    images = ndimage.gaussian_filter(rng.random((200, 28, 28, 1)), (0, 1.5, 1.5, 0))
    images = (images - images.min(axis=(1, 2, 3), keepdims=True)) / np.ptp(images, axis=(1, 2, 3), keepdims=True)
    return np.clip(2 * images - 0.8, 0, 1).astype("float32")


class Denoiser:
    """A stand-in denoiser that knows the clean images: it keeps a share of the noise, set per noise level
    (judged from how far the input is from the clean image), so its PSNR at each level is set by construction."""

    def __init__(self, clean: np.ndarray, kept_at_low: float, kept_at_high: float):
        self.clean, self.kept = clean, (kept_at_low, kept_at_high)
        level = {factor: np.mean(np.abs(add_noise(clean, factor) - clean)) for factor in (0.1, 0.8)}
        self.threshold = (level[0.1] + level[0.8]) / 2

    def predict(self, noisy, batch_size=None, verbose=0):
        noise = np.asarray(noisy) - self.clean
        return self.clean + self.kept[int(np.mean(np.abs(noise)) > self.threshold)] * noise


def add_noise(images: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(images + factor * np.random.default_rng(9).standard_normal(images.shape), 0, 1)


def test_a_flatter_curve_passes(digits_like):
    for kept_at_low in (0.05, 0.054):  # two "trainings": the second 0.7 dB behind at low noise
        range_model = Denoiser(digits_like, kept_at_low, 0.06)  # loses little at high noise
        fixed_model = Denoiser(digits_like, 0.05, 0.15)  # the specialist: best at low noise, worse far from it
        result = check_flatter_psnr_curve(range_model, fixed_model, digits_like)
        assert result, result.message


def test_the_unchanged_model_or_the_same_model_twice_fails(digits_like):
    fixed_model = Denoiser(digits_like, 0.05, 0.15)
    assert_fails(check_flatter_psnr_curve(fixed_model, fixed_model, digits_like))  # the chapter's model as the answer
    assert_fails(check_flatter_psnr_curve(Denoiser(digits_like, 0.05, 0.14), fixed_model, digits_like))


def test_the_two_models_swapped_fail(digits_like):
    assert_fails(check_flatter_psnr_curve(Denoiser(digits_like, 0.05, 0.15), Denoiser(digits_like, 0.05, 0.06),
                                          digits_like))


def test_a_model_trained_on_high_noise_only_fails(digits_like):
    """Flat, but far behind at low noise: a fixed factor of 0.7, not the range."""
    result = check_flatter_psnr_curve(Denoiser(digits_like, 0.12, 0.06), Denoiser(digits_like, 0.05, 0.15), digits_like)
    assert_fails(result)
    assert "behind" in result.message


def test_a_model_trained_on_low_noise_only_fails(digits_like):
    """One factor drawn for all images, and a small one: no better than a filter at strong noise."""
    result = check_flatter_psnr_curve(Denoiser(digits_like, 0.05, 1.0), Denoiser(digits_like, 0.05, 0.15), digits_like)
    assert_fails(result)
    assert "not one for all" in result.message


def test_an_untrained_model_fails(digits_like):
    import keras

    keras.utils.set_random_seed(0)
    untrained = definitions_from("06_denoising.ipynb")["make_mnist_denoiser"]()
    result = check_flatter_psnr_curve(untrained, Denoiser(digits_like, 0.05, 0.15), digits_like)
    assert_fails(result)
    assert "best filter" in result.message
    assert_fails(check_flatter_psnr_curve(Denoiser(digits_like, 0.05, 0.06), untrained, digits_like))


def test_broken_arguments_give_a_message(digits_like):
    fixed_model = Denoiser(digits_like, 0.05, 0.15)
    assert_fails(check_flatter_psnr_curve(None, fixed_model, digits_like))
    assert_fails(check_flatter_psnr_curve(fixed_model, fixed_model, digits_like[:, :, :, 0]))
    assert_fails(check_flatter_psnr_curve(fixed_model, fixed_model, "x_test"))
