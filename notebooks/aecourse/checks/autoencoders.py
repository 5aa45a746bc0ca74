"""Self-checks for the exercises of notebooks 01 and 02: the dense autoencoder, its code and its weights.

Each check measures the answer it is given (a model's error, a distance, a recount, a Monte-Carlo sample)
instead of comparing it with a stored number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

from . import CheckResult, attempt, failed, passed

FILTER_COUNT = 10  # exercise 3 of notebook 02: the ten largest filters


def _mse(model: keras.Model, images: np.ndarray) -> float:
    """Test MSE per pixel of an autoencoder on flattened images."""
    return float(np.mean((np.asarray(model.predict(images, verbose=0)) - images) ** 2))


def _code_layer_output(model: keras.Model, images: np.ndarray) -> np.ndarray | None:
    """The output of the layer named 'code' on the images, or None if the model has no such layer."""
    try:
        code = model.get_layer("code").output
    except ValueError:  # no layer of that name
        return None
    return np.asarray(keras.Model(model.inputs, code).predict(images, verbose=0))


def _unusable_models(problem: CheckResult) -> CheckResult:
    """The verdict when the models passed in cannot be run on the images."""
    return failed(f"could not run your models on the images: {problem.message.split(' Hint:')[0].split(': ', 1)[-1]}",
                  "pass the two trained Keras autoencoders (3-D first, then 2-D) and the flattened test images.")


def check_code_size_3(autoencoder_3: keras.Model, autoencoder_2: keras.Model, images: np.ndarray) -> CheckResult:
    """Notebook 01, exercise 1: the model's code layer has 3 units; both models are trained, and the 3-D one wins."""
    try:
        images = np.asarray(images, dtype="float32").reshape(len(images), -1)
    except (TypeError, ValueError) as error:
        return failed(f"the images cannot be read as an array ({error}).",
                      "pass the test images, e.g. x_test, as the third argument.")
    codes, problem = attempt(_code_layer_output, autoencoder_3, images[:16])
    if problem is not None:  # a failed verdict is falsy
        return _unusable_models(problem)
    if codes is None:
        return failed("your model has no layer named 'code'.",
                      "build it from the chapter's model, changing only the units of the layer named 'code'.")
    if codes.shape != (len(images[:16]), 3):
        return failed(f"the code layer gives codes of shape {codes.shape[1:]}, not (3,).",
                      "set units=3 in the layer named 'code' and keep the other layers as they are.")
    errors, problem = attempt(lambda: (_mse(autoencoder_3, images), _mse(autoencoder_2, images)))
    if problem is not None:
        return _unusable_models(problem)
    mse_3, mse_2 = errors
    mean_image = float(np.mean((images.mean(axis=0) - images) ** 2))  # drawing one average image for every digit
    for name, mse in (("3-D", mse_3), ("2-D", mse_2)):
        if not mse < 0.95 * mean_image:
            return failed(f"the {name} model's MSE on these images ({mse:.4f}) is no better than drawing their mean "
                          f"image for every digit ({mean_image:.4f}): it has not learnt to reconstruct.",
                          "train both models (fit) before comparing them; a freshly built model is no reference.")
    if not mse_3 < mse_2:
        return failed(f"the 3-D model's test MSE ({mse_3:.4f}) is not below the 2-D model's ({mse_2:.4f}).",
                      "train both models with the same settings (data, epochs, batch size, learning rate) "
                      "and measure both on the same test images.")
    return passed("a 3-number code, and a lower test error than the 2-D model trained the same way.")


def check_far_code(code: Sequence[float] | np.ndarray, test_codes: np.ndarray) -> CheckResult:
    """Notebook 01, exercise 3: a code inside the unit square, farther from every test code than 99 % of gaps."""
    try:
        code = np.asarray(code, dtype="float64").reshape(-1)
    except (TypeError, ValueError):
        return failed(f"expected one 2-D code (two numbers), got {code!r}.",
                      "pass the code alone, e.g. np.array([0.3, 0.7]); farthest_code returns (code, distance).")
    try:
        test_codes = np.asarray(test_codes, dtype="float64")
    except (TypeError, ValueError) as error:
        return failed(f"the test codes cannot be read as an array ({error}).",
                      "pass the encoder's codes of the test images, an array (images, 2).")
    if test_codes.ndim != 2 or test_codes.shape[1] != 2 or len(test_codes) < 100:
        return failed(f"expected the 2-D codes of the test images, an array (images, 2), got shape {test_codes.shape}.",
                      "encode the test images first: split_autoencoder(model)[0].predict(x_test).")
    if code.shape != (2,) or not np.all(np.isfinite(code)):
        return failed(f"expected one 2-D code (two numbers), got an array of shape {code.shape}.",
                      "pass a single code (h1, h2), e.g. np.array([0.3, 0.7]).")
    if np.any(code < 0) or np.any(code > 1):
        return failed(f"{code.round(3).tolist()} lies outside the unit square, where the encoder never puts a code.",
                      "the sigmoid code layer keeps every code in [0, 1]²: search for an empty region inside it.")
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=2).fit(test_codes)
    gaps = index.kneighbors(test_codes)[0][:, 1]  # column 0 is the point itself
    d_99 = float(np.quantile(gaps, 0.99))
    distance = float(index.kneighbors(code[None], n_neighbors=1)[0][0, 0])
    if distance <= d_99:
        return failed(f"your code is {distance:.4f} from the nearest test code; 1 % of test codes have no "
                      f"neighbour within {d_99:.4f}, so this region is not empty.",
                      "compute, for every point of a fine grid over the square, the distance to the nearest "
                      "test code, and take the grid point where it is largest.")
    return passed("your code lies in an empty region: farther from every test code than 99 % of the test codes "
                  "are from their nearest neighbour.")


def _confusion_counts(votes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Symmetric 10x10 counts: entry (a, b) is how often an a was voted a b or a b an a (diagonal zero)."""
    counts = np.zeros((10, 10), dtype=int)
    np.add.at(counts, (labels, votes), 1)
    both_ways = counts + counts.T
    np.fill_diagonal(both_ways, 0)
    return both_ways


def check_most_confused_pair(pair: Sequence[int], x_train: np.ndarray, x_test: np.ndarray,
                             test_labels: np.ndarray) -> CheckResult:
    """Notebook 01, exercise 5: the pair of digits that 2-D PCA codes confuse most, recounted from the data."""
    try:
        first, second = sorted(int(digit) for digit in pair)
    except (TypeError, ValueError):
        return failed(f"expected a pair of two digits, got {pair!r}.", "answer with two digits, e.g. (3, 5).")
    if first == second or not 0 <= first < second <= 9:
        return failed(f"{pair!r} is not a pair of two different digits from 0 to 9.",
                      "answer with two different digits, e.g. (3, 5).")
    from sklearn.decomposition import PCA

    from aecourse import definitions_from

    neighbour_votes = definitions_from("01_autoencoder_mnist.ipynb")["neighbour_votes"]  # section 6's vote
    try:
        x_train = np.asarray(x_train, dtype="float32").reshape(len(x_train), -1)
        x_test = np.asarray(x_test, dtype="float32").reshape(len(x_test), -1)
        labels = np.asarray(test_labels).astype(int).reshape(-1)
    except (TypeError, ValueError) as error:
        return failed(f"the images and labels cannot be read as arrays ({error}).",
                      "pass the training images, the test images and their labels, as arrays.")
    if len(labels) != len(x_test) or x_train.shape[1] != x_test.shape[1]:
        return failed(f"{len(x_test)} test images of {x_test.shape[1]} pixels, {len(labels)} labels, training images "
                      f"of {x_train.shape[1]} pixels.",
                      "pass the training images, the test images of section 6 and the labels of those same images.")
    pca_codes = PCA(n_components=2, svd_solver="covariance_eigh").fit(x_train).transform(x_test)
    counts = _confusion_counts(neighbour_votes(pca_codes, labels), labels)
    top = int(counts.max())
    # The recount uses the chapter's vote on the same data; only another implementation's ties can move a few votes.
    if counts[first, second] < top - max(3, 0.03 * top):
        return failed(f"with 5 nearest PCA codes voting (as in section 6), a {first} and a {second} are taken for "
                      f"each other {counts[first, second]} times; the most confused pair, {top} times.",
                      "count, for every pair of digits, how often one is voted as the other (both ways), "
                      "and take the pair with the largest count.")
    return passed("that pair is the one the 2-D PCA codes confuse most (recounted from the 5-neighbour vote).")


def _synthetic_codes() -> tuple[np.ndarray, list[int]]:
    """Codes whose units 1, 2 and 3 are nearly constant; unit 4 has a variance, not a spread, below 0.01."""
    rng = np.random.default_rng(0)
    count = 600
    columns = [
        rng.uniform(0, 1, count),                    # 0: spread out
        np.full(count, 0.7),                         # 1: constant
        0.5 + 0.003 * rng.standard_normal(count),    # 2: nearly constant
        0.95 + 0.002 * rng.standard_normal(count),   # 3: nearly constant, near the top of the sigmoid
        0.5 + 0.05 * rng.standard_normal(count),     # 4: std 0.05, variance 0.0025: alive
        np.where(rng.uniform(size=count) < 0.05, 0.2, 0.0),  # 5: mostly 0 (mean 0.01), std 0.04: alive
        0.3 + 0.2 * rng.standard_normal(count),      # 6: spread out
    ]
    return np.stack(columns, axis=1).astype("float32"), [1, 2, 3]


def _as_indices(answer, unit_count: int) -> list[int] | None:
    """The unit indices in an answer given as indices or as a boolean mask; None if it is neither."""
    values = np.asarray(answer).reshape(-1)
    if values.dtype == bool:
        return np.flatnonzero(values).tolist() if len(values) == unit_count else None
    if values.size and not np.issubdtype(values.dtype, np.integer):
        return None
    return sorted(int(value) for value in values)


def check_nearly_constant_units(nearly_constant_units: Callable[[np.ndarray, float], np.ndarray]) -> CheckResult:
    """Notebook 02, exercise 2: nearly_constant_units(codes, threshold) finds the units whose spread is below it."""
    codes, expected = _synthetic_codes()
    found, problem = attempt(nearly_constant_units, codes, 0.01)
    if problem is not None:  # a failed verdict is falsy
        return problem
    indices = _as_indices(found, codes.shape[1])
    if indices is None:
        return failed(f"expected unit indices (or a mask over the {codes.shape[1]} units), got {found!r}.",
                      "return np.flatnonzero(spread < threshold), with one spread per code unit.")
    if indices != expected:
        hint = ("compute one standard deviation per unit (a column of codes: axis=0), not per image."
                if any(index >= codes.shape[1] for index in indices) else
                "compare each unit's standard deviation over the images (codes.std(axis=0)) with the threshold, "
                "not its variance or its mean.")
        return failed(f"on codes whose units {expected} are nearly constant (spread below 0.01), "
                      f"your function returned {indices}.", hint)
    wider, problem = attempt(nearly_constant_units, codes, 0.1)
    if problem is not None:  # a failed verdict is falsy
        return problem
    if _as_indices(wider, codes.shape[1]) != [1, 2, 3, 4, 5]:
        return failed(f"with threshold 0.1 your function returned {_as_indices(wider, codes.shape[1])}, "
                      "not the units [1, 2, 3, 4, 5] whose spreads are below 0.1.",
                      "use the threshold argument instead of a fixed number.")
    return passed("your function finds exactly the nearly constant units, for two thresholds.")


def _first_kernel(autoencoder: keras.Model) -> np.ndarray:
    """The first layer's kernel, (784, hidden units)."""
    return keras.ops.convert_to_numpy(autoencoder.get_layer("encoder_hidden").kernel)


def _filter_norms(autoencoder: keras.Model, pixel_mask: np.ndarray | None) -> np.ndarray:
    """The norm of each first-layer filter (a column of the kernel), over the masked pixels if a mask is given."""
    kernel = _first_kernel(autoencoder)
    if pixel_mask is not None:
        kernel = kernel * np.asarray(pixel_mask, dtype=bool).reshape(-1)[:, None]
    return np.linalg.norm(kernel, axis=0)


def _still_initial(autoencoder: keras.Model) -> bool:
    """Whether the first layer looks untrained: Glorot-uniform weights, none beyond the initial limit."""
    layer = autoencoder.get_layer("encoder_hidden")
    if type(layer.kernel_initializer).__name__ != "GlorotUniform":
        return False  # another initialisation: nothing to compare with
    kernel = _first_kernel(autoencoder)
    limit = np.sqrt(6 / sum(kernel.shape))
    return bool(np.mean(np.abs(kernel) > 1.01 * limit) < 0.01)


def check_largest_filters(indices: Sequence[int], autoencoder: keras.Model,
                          pixel_mask: np.ndarray | None = None) -> CheckResult:
    """Notebook 02, exercise 3: the ten encoder filters of largest norm, recomputed from the model's kernel."""
    norms, problem = attempt(_filter_norms, autoencoder, pixel_mask)
    if problem is not None:
        return failed(f"could not read the first layer of the model: {problem.message.split(' Hint:')[0]}",
                      "pass the autoencoder itself, built with the chapter's make_autoencoder (its first layer "
                      "is named 'encoder_hidden'), and a mask of 784 booleans or None.")
    if _still_initial(autoencoder):
        return failed("every weight of the model's first layer still lies within its random initial range: "
                      "the model has not been trained, so its filters are noise.",
                      "load the shipped weights first (load_pretrained(model, \"02_ae_code32\")) or train the model.")
    try:
        chosen = [int(index) for index in np.asarray(indices).reshape(-1)]
    except (TypeError, ValueError):
        return failed(f"expected {FILTER_COUNT} filter indices, got {indices!r}.",
                      "return the indices of the filters, e.g. np.argsort(norms)[::-1][:10].")
    if len(chosen) != FILTER_COUNT or len(set(chosen)) != FILTER_COUNT:
        return failed(f"expected {FILTER_COUNT} different filter indices, got {len(chosen)} "
                      f"({len(set(chosen))} different).", f"take the {FILTER_COUNT} largest norms, e.g. "
                      "np.argsort(norms)[::-1][:10].")
    if max(chosen) >= len(norms) or min(chosen) < 0:
        return failed(f"the first layer has {len(norms)} filters, but you chose index {max(chosen)}.",
                      "a filter is a column of the kernel (784 × hidden units): take the norms along axis=0, "
                      "one per hidden unit, not one per pixel.")
    largest = set(np.argsort(norms)[::-1][:FILTER_COUNT].tolist())
    if set(chosen) == largest:
        return passed(f"these are the {FILTER_COUNT} encoder filters of largest norm.")
    if set(chosen) == set(np.argsort(norms)[:FILTER_COUNT].tolist()):
        return failed(f"these are the {FILTER_COUNT} filters of smallest norm.", "sort the norms in decreasing order.")
    measured = "over the pixels of your mask" if pixel_mask is not None else "over all 784 pixels"
    return failed(f"{len(set(chosen) & largest)} of your {FILTER_COUNT} filters are among the {FILTER_COUNT} of "
                  f"largest norm (measured {measured}).",
                  "a filter is a column of the first layer's kernel: np.linalg.norm(kernel, axis=0), then the "
                  "indices of the ten largest; if you blanked some pixels first, pass the same mask as pixel_mask.")


def check_gaussian_codes(gaussian_codes: Callable[[np.ndarray, int, np.random.Generator], np.ndarray]) -> CheckResult:
    """Notebook 02, exercise 5: gaussian_codes(real_codes, count, rng) matches the real codes' mean and covariance."""
    rng = np.random.default_rng(0)
    mixing = np.array([[1.0, 0.0, 0.0, 0.0], [0.8, 0.6, 0.0, 0.0], [-0.5, 0.3, 0.8, 0.0], [0.1, -0.6, 0.2, 0.7]])
    real_codes = 1 / (1 + np.exp(-(rng.standard_normal((4000, 4)) @ mixing.T + [-1.0, 0.0, 0.8, 0.3])))
    count = 20_000
    samples, problem = attempt(gaussian_codes, real_codes, count, np.random.default_rng(1))
    if problem is not None:  # a failed verdict is falsy
        return problem
    try:
        samples = np.asarray(samples, dtype="float64")
    except (TypeError, ValueError):
        return failed(f"gaussian_codes returned {type(samples).__name__}, not an array of codes.",
                      "return an array (count, code size), one random code per row.")
    if samples.shape != (count, real_codes.shape[1]):
        return failed(f"asked for {count} codes of 4 numbers, got an array of shape {samples.shape}.",
                      "return an array (count, code size), one random code per row.")
    again, problem = attempt(gaussian_codes, real_codes, count, np.random.default_rng(1))
    if problem is not None:  # a failed verdict is falsy
        return problem
    if not np.array_equal(np.asarray(again, dtype="float64"), samples):
        return failed("two calls with equally seeded generators gave different codes.",
                      "draw with the rng you are given (rng.multivariate_normal), not with np.random.")
    mean, covariance = real_codes.mean(axis=0), np.cov(real_codes, rowvar=False)
    mean_error = np.abs(samples.mean(axis=0) - mean) / np.sqrt(np.diag(covariance) / count)
    if mean_error.max() > 6:
        return failed(f"the mean of your codes is {samples.mean(axis=0).round(3).tolist()}, the real codes' is "
                      f"{mean.round(3).tolist()}.", "centre the Gaussian on real_codes.mean(axis=0).")
    relative = np.linalg.norm(np.cov(samples, rowvar=False) - covariance) / np.linalg.norm(covariance)
    if relative > 0.06:
        return failed(f"the covariance of your codes is {relative:.0%} away from the real codes' (relative "
                      "Frobenius norm; a correct sampler stays within a few %).",
                      "use the full covariance np.cov(real_codes, rowvar=False), not only the variances "
                      "of the units: the units are correlated.")
    return passed("your Gaussian codes have the mean and the covariance of the real codes (measured on 20 000).")
