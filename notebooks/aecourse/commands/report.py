"""The results report: RESULTS.md, built from what the committed notebooks measured and recorded.

A notebook records each shipped model's numbers with `record_result()` in a cell tagged `result`; the
executed notebook keeps them as a JSON output. `python -m aecourse report` reads those outputs and the
weight manifest (sizes, training time, machine) and writes the table: it runs no model and imports no
TensorFlow. It refuses to write when a recorded value misses the bound its notebook states.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..definitions import tagged_cells
from ..paths import PROJECT_ROOT, course_notebooks, replaced_atomically
from ..results import LIKELIHOOD_MIME, RESULT_MIME, RESULT_TAG, significant
from ..weights import read_manifest

RESULTS_FILE = PROJECT_ROOT / "RESULTS.md"


@dataclass(frozen=True)
class Result:
    """One shipped model's numbers, as its notebook recorded them."""

    notebook: str
    weights: str
    model: str
    metric: str
    value: float
    terms: list[tuple[str, float]]  # the parts that add up to value, in order
    baseline: str
    anchor: str
    bound: float | None  # an upper limit
    at_least: float | None = None  # a lower limit, for numbers where higher is better
    log_likelihood: str = "–"  # a VAE's importance-weighted estimate of -log p(x), with K and the subset

    @property
    def meets_bound(self) -> bool:
        """True when the value is within the limits the notebook states (if any)."""
        return ((self.bound is None or self.value <= self.bound)
                and (self.at_least is None or self.value >= self.at_least))

    @property
    def stated_bound(self) -> str:
        """The limits as the notebook states them, e.g. "≤ 0.047"; "–" for none."""
        limits = ([] if self.bound is None else [f"≤ {self.bound:g}"]) + \
            ([] if self.at_least is None else [f"≥ {self.at_least:g}"])
        return " and ".join(limits) or "–"


class BoundError(RuntimeError):
    """A recorded value misses the bound its notebook states."""


def recorded_results(notebooks: list[Path] | None = None) -> list[Result]:
    """Every result recorded in the executed notebooks, in notebook and cell order.

    A likelihood recorded by another notebook (record_likelihood) joins the row of its model.
    """
    results, likelihoods = [], {}
    for path in course_notebooks() if notebooks is None else notebooks:
        for cell in tagged_cells(path, RESULT_TAG):
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if RESULT_MIME in data:
                    results.append(Result(notebook=path.stem, **data[RESULT_MIME]))
                if LIKELIHOOD_MIME in data:
                    likelihoods[data[LIKELIHOOD_MIME]["weights"]] = data[LIKELIHOOD_MIME]["log_likelihood"]
    return [replace(result, log_likelihood=likelihoods.get(result.weights, result.log_likelihood))
            for result in results]


def bound_failures(results: list[Result]) -> list[str]:
    """One line for each recorded value that misses its bound."""
    return [f"{result.weights}: {result.metric} {significant(result.value)} misses the bound {result.stated_bound} "
            f"stated in {result.notebook}" for result in results if not result.meets_bound]


def unreported(results: list[Result], manifest: dict[str, Any]) -> list[str]:
    """Shipped weights that no notebook records a result for."""
    return sorted(set(manifest) - {result.weights for result in results})


def _measured(result: Result) -> str:
    terms = " + ".join(significant(value) for _, value in result.terms)
    return significant(result.value) + (f" ({terms})" if terms else "")


def _size(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:.1f} MB" if size_bytes >= 1e6 else f"{size_bytes / 1e3:.0f} kB"


def render_markdown(results: list[Result], manifest: dict[str, Any]) -> str:
    """The RESULTS.md text: one table row per recorded result, then how to read it."""
    lines = [
        "# Results",
        "",
        "Every shipped model's test numbers, as the cell of its notebook that measures it recorded them (cells",
        "tagged `result`); `cd notebooks && python -m aecourse report` collects them into this file without",
        "running a model, and refuses to write if a value misses the bound its notebook states. Parameters,",
        "file size, training time and machine come from the weight manifest.",
        "",
        "| weights | notebook | model | parameters | file | test metric | measured | −log p(x), IWAE "
        "| baseline at the same code size | published anchor | bound | training | machine |",
        "|---|---|---|--:|--:|---|--:|---|---|---|---|---|---|",
    ]
    for result in results:
        entry = manifest[result.weights]
        bound = result.stated_bound
        bound += "" if bound == "–" else f" ({'met' if result.meets_bound else 'MISSED'})"
        lines.append(" | ".join([
            f"| `{result.weights}`", result.notebook, result.model, f"{entry['architecture']['parameters']:,}",
            _size(entry["size_bytes"]), result.metric, _measured(result), result.log_likelihood, result.baseline,
            result.anchor, bound,
            f"{entry['training']['epochs']} epochs, {entry['wall_time_s']:.0f} s", f"{entry['machine']} |"]))
    missing = unreported(results, manifest)
    if missing:
        lines += ["", "Shipped weights that no notebook reports on: " + ", ".join(f"`{name}`" for name in missing) + "."]
    lines += ["", READING_NOTES.rstrip("\n"), *identical_rows(results, manifest), ""]
    return "\n".join(lines) + "\n"


def identical_rows(results: list[Result], manifest: dict[str, Any]) -> list[str]:
    """A reading note for rows that the table shows equal: the same architecture and the same measured value."""
    notes = []
    for index, first in enumerate(results):
        for second in results[index + 1:]:
            if (first.model, first.metric, first.value) == (second.model, second.metric, second.value) and \
                    manifest[first.weights]["architecture"]["weight_shapes"] == \
                    manifest[second.weights]["architecture"]["weight_shapes"]:
                same_recipe = manifest[first.weights]["training"] == manifest[second.weights]["training"]
                notes.append(f"* **Identical rows.** `{first.weights}` and `{second.weights}` have the same "
                             f"architecture and the same {first.metric} ({significant(first.value)})"
                             + (", trained with the same recipe and seed (the manifest)." if same_recipe else "."))
    return notes


READING_NOTES = """\
## How to read it

* **Conventions.** Autoencoders: mean squared error per pixel, pixels in [0, 1]. VAEs: −ELBO in nats per
  image, reconstruction as binary cross-entropy summed over the pixels plus the KL term; in brackets the two
  terms. Each VAE number is a single seeded sample per image, so it repeats to the last digit. The MNIST
  denoiser: binary cross-entropy per pixel against the clean digits (as keras.io reports it), and PSNR.
  Values are rounded to four significant digits.
* **−log p(x), IWAE.** For every VAE, the importance-weighted estimate of Burda, Grosse & Salakhutdinov
  (2016) with the K samples of q(z|x) per image and the first test images that the entry states, and
  beside it the −ELBO of the same images and samples. Notebook 07 defines it once and measures every VAE
  of the course with it. The estimate is an upper bound on −log p(x) in expectation, tighter than −ELBO;
  on 100 images its own standard error is several nats, so compare models by the gap to their −ELBO on
  the same images, or digit by digit as the notebooks do. Like −ELBO, it treats grey pixels as Bernoulli probabilities: it
  is not comparable with published numbers on binarised MNIST.
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
  from a 784-1000-500-250-30 network pretrained as stacked RBMs: the anchor of `02_ae_code32` converts our
  32-D model and a PCA with 30 components to that unit, beside their numbers. Their face results used
  25×25 patches, not comparable with the 64×64 faces here.
* **Bounds.** A bound a notebook states is also asserted by a claim cell there; the notebook says when a
  bound is a regression guard, set after the model had been measured.
"""


def write_report(results: list[Result], path: Path = RESULTS_FILE, manifest: dict[str, Any] | None = None) -> Path:
    """Write the report atomically, or raise BoundError (leaving the old report) if a bound is missed."""
    failures = bound_failures(results)
    if failures:
        raise BoundError(f"Not writing {path}:\n  " + "\n  ".join(failures)
                         + "\nRetrain the model (`python -m aecourse retrain NAME`) or restore its weights, "
                           "then re-run its notebook (`python -m aecourse execute NN`).")
    text = render_markdown(results, read_manifest() if manifest is None else manifest)
    with replaced_atomically(path) as temporary:
        temporary.write_text(text)
    return path
