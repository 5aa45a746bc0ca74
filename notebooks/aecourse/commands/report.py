"""The results report: every shipped model run on its test set, beside its baselines and published anchors.

`python -m aecourse report` rebuilds each architecture from its notebook's cells tagged `definitions`,
loads the shipped weights, measures the model in the course's conventions and writes RESULTS.md. When a
model no longer meets the bound its notebook states, it says which and leaves RESULTS.md as it was.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data import load_mnist, load_olivetti, split_by_person
from ..paths import PROJECT_ROOT, replaced_atomically
from ..definitions import definitions_from
from ..weights import load_pretrained, read_manifest, weight_path

RESULTS_FILE = PROJECT_ROOT / "RESULTS.md"
SEED = 42  # the seed of every notebook: held-out faces, noise draws, VAE sampling
MNIST_NOISE, FACE_NOISE = 0.4, 0.2  # the noise factors notebook 06 trains its denoisers at


@dataclass(frozen=True)
class Bound:
    """An upper bound a shipped model must meet, and the notebook that states it."""

    limit: float
    notebook: str

    def met_by(self, value: float) -> bool:
        """True when the measured value is within the bound."""
        return value <= self.limit


@dataclass
class Result:
    """One shipped model measured on its test set."""

    weight: str
    model: str
    metric: str
    value: float
    parameters: int
    baseline: str = "–"
    anchor: str = "–"
    bound: Bound | None = None
    details: dict[str, float] = field(default_factory=dict)

    @property
    def meets_bound(self) -> bool:
        """True when there is no bound or the value meets it."""
        return self.bound is None or self.bound.met_by(self.value)


def significant(value: float, digits: int = 4) -> str:
    """A number rounded to a few significant digits (as the notebooks print them)."""
    return f"{value:.{digits}g}"


def mse(reconstructions: Any, images: np.ndarray) -> float:
    """Mean squared error per pixel."""
    return float(np.mean((np.asarray(reconstructions).reshape(images.shape) - images) ** 2))


def pca_mse(train: np.ndarray, test: np.ndarray, components: int) -> float:
    """Test MSE per pixel of PCA with this many components, fitted on the training images."""
    from sklearn.decomposition import PCA

    flat_train, flat_test = train.reshape(len(train), -1), test.reshape(len(test), -1)
    # The notebooks' solvers: the covariance route for 60 000 digits, the full SVD for 640 faces.
    solver = "covariance_eigh" if len(flat_train) > flat_train.shape[1] else "full"
    pca = PCA(n_components=components, svd_solver=solver).fit(flat_train)
    return mse(pca.inverse_transform(pca.transform(flat_test)), flat_test)


def pixel_baseline_nats(train: np.ndarray, test: np.ndarray) -> float:
    """-log P(x) in nats per image under independent Bernoulli pixels with the training means."""
    from ..vae import reconstruction_nats

    flat_train, flat_test = train.reshape(len(train), -1), test.reshape(len(test), -1)
    pixel_means = np.clip(flat_train.mean(axis=0), 1e-6, 1 - 1e-6)
    return float(np.mean(reconstruction_nats(flat_test, np.broadcast_to(pixel_means, flat_test.shape))))


@functools.cache
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    """MNIST training and test images, (N, 28, 28) in [0, 1]."""
    (train_images, _), (test_images, _) = load_mnist()
    return train_images, test_images


@functools.cache
def _faces() -> tuple[np.ndarray, np.ndarray]:
    """Notebook 05's split: two held-out photographs of every person, each followed by the mirror images."""
    faces, person = load_olivetti()
    train_index, test_index = split_by_person(person, held_out_per_person=2, seed=SEED)
    return tuple(np.concatenate([faces[index], faces[index][:, :, ::-1]]) for index in (train_index, test_index))


def _vae(encoder: Any, decoder: Any, weight: str, input_shape: tuple[int, ...], beta: float = 1.0):
    """A notebook's encoder and decoder in the course's VAE, holding the shipped weights."""
    from ..vae import VAE

    vae = VAE(encoder, decoder, beta=beta, seed=SEED, name=weight[3:])
    vae.build((None, *input_shape))
    vae.compile()  # evaluate() needs a compiled model; no optimizer is used
    load_pretrained(vae, weight)
    return vae


def _vae_result(vae, weight: str, model: str, images: np.ndarray, metric: str = "−ELBO, nats per image",
                **fields: Any) -> Result:
    """-ELBO (one seeded sample per image), with its two terms as details."""
    scores = vae.evaluate(images, verbose=0, return_dict=True)
    return Result(weight, model, metric, float(scores["neg_elbo"]), vae.count_params(),
                  details={"reconstruction": float(scores["reconstruction"]), "KL": float(scores["kl"])},
                  **fields)


def evaluate_01() -> Iterator[Result]:
    """Notebook 01: the dense autoencoder with a 2-D code."""
    train, test = _mnist()
    autoencoder = definitions_from("01_autoencoder_mnist.ipynb")["autoencoder"]
    load_pretrained(autoencoder, "01_dense_ae")
    flat_test = test.reshape(len(test), -1)
    yield Result("01_dense_ae", "dense AE 784-100-2-100-784", "MSE per pixel",
                 mse(autoencoder.predict(flat_test, verbose=0), flat_test), autoencoder.count_params(),
                 baseline=f"PCA-2: {significant(pca_mse(train, test, 2))}", bound=Bound(0.047, "01"))


def evaluate_02() -> Iterator[Result]:
    """Notebook 02: the same autoencoder with codes of 2, 8 and 32 numbers."""
    train, test = _mnist()
    make_autoencoder = definitions_from("02_autoencoder_visualization.ipynb")["make_autoencoder"]
    flat_test = test.reshape(len(test), -1)
    for code_size in (2, 8, 32):
        autoencoder = make_autoencoder(code_size)
        load_pretrained(autoencoder, f"02_ae_code{code_size}")
        value = mse(autoencoder.predict(flat_test, verbose=0), flat_test)
        anchor = "–"
        if code_size == 32:  # the paper sums squared errors over the 784 pixels and uses a 30-D code
            anchor = (f"Hinton & Salakhutdinov 2006, 30-D code, squared error per image: deep AE 3.00, PCA 13.87 "
                      f"(here: this AE {value * 784:.2f}, PCA-30 {pca_mse(train, test, 30) * 784:.2f})")
        yield Result(f"02_ae_code{code_size}", f"dense AE 784-100-{code_size}-100-784", "MSE per pixel", value,
                     autoencoder.count_params(),
                     baseline=f"PCA-{code_size}: {significant(pca_mse(train, test, code_size))}", anchor=anchor)


def evaluate_03() -> Iterator[Result]:
    """Notebook 03: the dense VAE with beta = 1 and beta = 2."""
    train, test = _mnist()
    definitions = definitions_from("03_variational_autoencoder.ipynb")
    baseline = f"independent pixels: {pixel_baseline_nats(train, test):.1f}"
    anchor = "784-512-2 dense VAE (the classic Keras example), 30 epochs, trained here with this loss: 151.6"
    flat_test = test.reshape(len(test), -1)
    for beta in (1, 2):
        vae = _vae(definitions["make_encoder"](), definitions["make_decoder"](), f"03_vae_beta{beta}", (784,), beta)
        yield _vae_result(vae, f"03_vae_beta{beta}", f"dense VAE 784-512-256-2, β = {beta}", flat_test,
                          baseline=baseline, anchor=anchor if beta == 1 else "–",
                          bound=Bound(150.0, "03") if beta == 1 else None)


def evaluate_04() -> Iterator[Result]:
    """Notebook 04: the convolutional VAE."""
    train, test = _mnist()
    definitions = definitions_from("04_convolutional_vae.ipynb")
    vae = _vae(definitions["make_conv_encoder"](), definitions["make_conv_decoder"](), "04_conv_vae", (28, 28, 1))
    yield _vae_result(vae, "04_conv_vae", "conv VAE 16/32 channels, 2-D code", test[..., None],
                      baseline=f"independent pixels: {pixel_baseline_nats(train, test):.1f}",
                      anchor="keras.io convolutional VAE, 2-D code: training loss 146.95–150.4",
                      bound=Bound(146.0, "04"))


def evaluate_05() -> Iterator[Result]:
    """Notebook 05: three autoencoders and a VAE on held-out faces."""
    train, test = _faces()
    definitions = definitions_from("05_faces_autoencoders.ipynb")
    for weight, maker, code_size, inputs in (
            ("05_shallow_ae", "make_shallow_autoencoder", 100, test),
            ("05_deep_ae", "make_deep_autoencoder", 20, test),
            ("05_conv_ae", "make_conv_autoencoder", 32, test[..., None])):
        autoencoder = definitions[maker]()
        load_pretrained(autoencoder, weight)
        yield Result(weight, f"{autoencoder.name.replace('_', ' ')}, {code_size}-number code",
                     "held-out MSE per pixel", mse(autoencoder.predict(inputs, verbose=0), test),
                     autoencoder.count_params(),
                     baseline=f"PCA-{code_size} (eigenfaces): {significant(pca_mse(train, test, code_size))}")
    vae = _vae(definitions["make_face_encoder"](), definitions["make_face_decoder"](), "05_face_vae", (64, 64))
    yield _vae_result(vae, "05_face_vae", "face VAE 4096-512-128-2", test, metric="held-out −ELBO, nats per face",
                      baseline=f"independent pixels: {pixel_baseline_nats(train, test):.0f}")


def _best_filter_psnr(definitions: dict[str, Any], noisy: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    """PSNR of notebook 06's two baselines, each at its best width for these images."""
    best = definitions["best_filter_psnr"]
    return (best(noisy, clean, definitions["gaussian_blur"], definitions["GAUSSIAN_WIDTHS"]),
            best(noisy, clean, definitions["median_filter"], definitions["MEDIAN_SIZES"]))


def evaluate_06() -> Iterator[Result]:
    """Notebook 06: the two denoisers, at the noise levels they were trained for."""
    definitions = definitions_from("06_denoising.ipynb")
    add_noise, psnr = definitions["add_noise"], definitions["psnr"]
    train, test = (images[..., None] for images in _mnist())
    rng = np.random.default_rng(SEED)  # the notebook's draws, in its order: training, then test noise
    add_noise(train, MNIST_NOISE, rng)
    test_noisy = add_noise(test, MNIST_NOISE, rng)
    denoiser = definitions["make_mnist_denoiser"]()
    denoiser.compile(loss="binary_crossentropy")
    load_pretrained(denoiser, "06_mnist_denoiser")
    subset = test[:1000]
    subset_noisy = add_noise(subset, MNIST_NOISE, np.random.default_rng(SEED))
    gaussian, median = _best_filter_psnr(definitions, subset_noisy, subset)
    denoised = psnr(denoiser.predict(subset_noisy, verbose=0), subset)
    yield Result("06_mnist_denoiser", f"conv denoiser, MNIST, noise {MNIST_NOISE}", "BCE per pixel vs clean",
                 float(denoiser.evaluate(test_noisy, test, verbose=0)), denoiser.count_params(),
                 baseline=f"PSNR on 1 000 digits: AE {denoised:.1f} dB, median {median:.1f}, Gaussian {gaussian:.1f}",
                 anchor="keras.io denoising AE, 100 epochs: 0.0837", bound=Bound(0.0837, "06"))

    faces_train, faces_test = (faces[..., None] for faces in _faces())
    add_noise(faces_train, FACE_NOISE, rng)
    faces_noisy = add_noise(faces_test, FACE_NOISE, rng)
    face_denoiser = definitions_from("05_faces_autoencoders.ipynb")["make_conv_autoencoder"]()
    load_pretrained(face_denoiser, "06_face_denoiser")
    gaussian, median = _best_filter_psnr(definitions, faces_noisy, faces_test)
    yield Result("06_face_denoiser", f"conv AE as denoiser, faces, noise {FACE_NOISE}", "held-out PSNR, dB",
                 psnr(face_denoiser.predict(faces_noisy, verbose=0), faces_test), face_denoiser.count_params(),
                 baseline=f"noisy {psnr(faces_noisy, faces_test):.1f}, median {median:.1f}, Gaussian {gaussian:.1f}")


EVALUATIONS: tuple[Callable[[], Iterator[Result]], ...] = (
    evaluate_01, evaluate_02, evaluate_03, evaluate_04, evaluate_05, evaluate_06)


class BoundError(RuntimeError):
    """A shipped model no longer meets the bound its notebook states."""


def evaluate_all(evaluations: tuple[Callable[[], Iterator[Result]], ...] = EVALUATIONS) -> list[Result]:
    """Run every evaluation and return its results, in notebook order."""
    return [result for evaluate in evaluations for result in evaluate()]


def bound_failures(results: list[Result]) -> list[str]:
    """One line for each model that misses its bound."""
    return [f"{result.weight}: {result.metric} {significant(result.value)} exceeds the bound {result.bound.limit} "
            f"stated in notebook {result.bound.notebook}" for result in results if not result.meets_bound]


def _measured(result: Result) -> str:
    text = significant(result.value)
    if result.details:
        text += " (" + " + ".join(f"{value:.1f}" if value >= 100 else significant(value)
                                  for value in result.details.values()) + ")"
    return text


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def render_markdown(results: list[Result], manifest: dict[str, Any] | None = None) -> str:
    """The RESULTS.md text: one table row per shipped model, then how to read it."""
    manifest = read_manifest() if manifest is None else manifest
    lines = [
        "# Results",
        "",
        "Every shipped model, run on its test set by `cd notebooks && python -m aecourse report` (this file is",
        "its output). The numbers come from running the models, not from the manifest; the command fails if a",
        "model no longer meets the bound its notebook states. Training time and machine are those recorded",
        "when the weights were trained.",
        "",
        "| weights | notebook | model | parameters | file | test metric | measured | baseline at the same code size "
        "| published anchor | bound | training | machine |",
        "|---|---|---|--:|--:|---|--:|---|---|---|---|---|",
    ]
    for result in results:
        entry = manifest[result.weight]
        bound = "–" if result.bound is None else f"≤ {result.bound.limit:g} ({'met' if result.meets_bound else 'MISSED'})"
        lines.append(" | ".join([
            f"| `{result.weight}`", entry["notebook"].removesuffix(".ipynb"), result.model,
            f"{result.parameters:,}", _size(weight_path(result.weight)), result.metric, _measured(result),
            result.baseline, result.anchor, bound,
            f"{entry['training']['epochs']} epochs, {entry['wall_time_s']:.0f} s", f"{entry['machine']} |"]))
    lines += ["", READING_NOTES]
    return "\n".join(lines) + "\n"


READING_NOTES = """\
## How to read it

* **Conventions.** Autoencoders: mean squared error per pixel, pixels in [0, 1]. VAEs: −ELBO in nats per
  image, reconstruction as binary cross-entropy summed over the pixels plus the KL term; in brackets the two
  terms. Each VAE number is a single seeded sample per image, so it repeats to the last digit. The MNIST
  denoiser: binary cross-entropy per pixel against the clean digits (as keras.io reports it), and PSNR.
* **Test sets.** MNIST: the 10 000 test digits. Faces: two held-out photographs of each of the 40 people
  and their mirror images (160 faces), the split of notebook 05.
* **Baselines.** PCA with as many components as the model's code, fitted on the same training images.
  VAEs: independent pixels, each Bernoulli with its training mean (what a model without a latent code
  reaches). Denoisers: the noisy input, and a Gaussian blur and a median filter each at its best width
  for these very images (an advantage the filters are given).
* **Anchors.** keras.io's [convolutional VAE](https://keras.io/examples/generative/vae/) reports a
  *training* loss with a 2-D code; keras.io's [denoising autoencoder](https://keras.io/examples/vision/autoencoder/)
  a test binary cross-entropy after 100 epochs. Hinton & Salakhutdinov, *Reducing the dimensionality of
  data with neural networks*, Science 313 (2006) sum squared errors over the 784 pixels with 30-D codes
  from a 784-1000-500-250-30 network pretrained as stacked RBMs: the row converts our 32-D model and a PCA
  with 30 components to that unit, and our PCA-30 lands on their 13.87. Their face results used 25×25
  patches, not comparable with the 64×64 faces here.
* **Where the autoencoders lose.** On faces, eigenfaces beat every autoencoder: 640 training images are
  too few for 4 096 pixels (notebook 05 shows the over-fitting). And at the noise level it was trained
  for, the face denoiser is beaten by a Gaussian blur tuned on the same faces: through a 32-number code it
  removes detail along with the noise (notebook 06 shows both).
* **Two identical rows.** `02_ae_code2` is notebook 01's model trained by notebook 02 with the same recipe
  and seed; training on the CPU is deterministic, so it measures the same to the last digit.
"""


def write_report(results: list[Result], path: Path = RESULTS_FILE) -> Path:
    """Write the report atomically, or raise BoundError (leaving the old report) if a bound is missed."""
    failures = bound_failures(results)
    if failures:
        raise BoundError("Not writing " + str(path) + ":\n  " + "\n  ".join(failures)
                         + "\nRetrain the model (`python -m aecourse retrain NAME`) or restore its weights.")
    with replaced_atomically(path) as temporary:
        temporary.write_text(render_markdown(results))
    return path
