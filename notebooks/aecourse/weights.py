"""Pretrained weights: a manifest with hashes, safe loading, and the train-or-load switch.

Every shipped ``weights/NAME.weights.h5`` has an entry in ``weights/manifest.json`` with its SHA-256,
size, notebook, architecture fingerprint, training configuration, wall time, machine, test metrics
and per-epoch history. Loading checks all of that before Keras reads a byte of the file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import re
import time
import warnings
from contextlib import contextmanager
from collections.abc import Collection
from pathlib import Path
from typing import Any

from .paths import NOTEBOOKS_DIR, replaced_atomically, weights_dir

MANIFEST_FILE = "manifest.json"
_MANIFEST_REMEDY = f"Restore it with `git checkout -- weights/{MANIFEST_FILE}`."
# What loading, listing and verifying read from an entry; save_trained() writes all of it.
REQUIRED_ENTRY_KEYS = (("file",), ("sha256",), ("size_bytes",), ("notebook",), ("architecture", "weight_shapes"),
                       ("training", "epochs"), ("wall_time_s",), ("metrics",), ("history",))
NAME_PATTERN = re.compile(r"^(\d\d)_[a-z0-9_]+$")
# fit() arguments worth recording; arrays and callbacks are not configuration.
RECORDED_FIT_ARGS = ("epochs", "batch_size", "shuffle", "validation_split")
# Set by headless training runs: one line per epoch, instead of a live bar nobody watches.
FIT_VERBOSE_ENV = "AECOURSE_FIT_VERBOSE"

Entry = dict[str, Any]


class WeightsError(RuntimeError):
    """A weight file is missing, damaged, unrecorded or made for another architecture."""


def retrain_command(name: str) -> str:
    """The shell command that retrains the named weights."""
    return f"cd notebooks && python -m aecourse retrain {name}"


def weight_path(name: str, directory: Path | None = None) -> Path:
    """Path of the weight file for a name such as '01_dense_ae'."""
    _check_name(name)
    return (directory or weights_dir()) / f"{name}.weights.h5"


def _check_name(name: str) -> str:
    """The notebook number of a well-formed weight name."""
    match = NAME_PATTERN.match(name)
    if not match:
        raise ValueError(f"Weight name {name!r} must look like '01_dense_ae': the two-digit number of "
                         "its notebook, an underscore, then lowercase letters, digits and underscores.")
    return match.group(1)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(directory: Path | None = None) -> dict[str, Entry]:
    """All manifest entries by weight name (empty if there is no manifest yet)."""
    path = (directory or weights_dir()) / MANIFEST_FILE
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WeightsError(f"{path} is not valid JSON ({error}). {_MANIFEST_REMEDY}") from None
    if not isinstance(manifest, dict) or not all(isinstance(entry, dict) for entry in manifest.values()):
        raise WeightsError(f"{path} should hold a JSON object of entries (objects) by weight name. "
                           + _MANIFEST_REMEDY)
    return manifest


def entry_problem(name: str, entry: Entry) -> str | None:
    """What a manifest entry lacks that loading or listing it needs, or None if it is complete."""
    for keys in REQUIRED_ENTRY_KEYS:
        value = entry
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return (f"the manifest entry for {name!r} lacks {'.'.join(keys)!r}. {_MANIFEST_REMEDY} Or "
                        f"retrain with `{retrain_command(name)}`.")
            value = value[key]
    return None


def recorded_entry(name: str, directory: Path | None = None) -> Entry:
    """The complete manifest entry of the named weights; a WeightsError says what to do if there is none."""
    directory = directory or weights_dir()
    entry = read_manifest(directory).get(name)
    if entry is None:
        number = _check_name(name)
        raise WeightsError(f"No weights named {name!r} are recorded in {directory / MANIFEST_FILE}. Train "
                           f"them: set TRAIN = True in notebook {number}, or run "
                           f"`cd notebooks && python -m aecourse retrain {number}`.")
    problem = entry_problem(name, entry)
    if problem:
        raise WeightsError(f"{directory / MANIFEST_FILE}: {problem}")
    return entry


def file_problem(entry: Entry, path: Path, manifest: dict[str, Entry] | None = None) -> str | None:
    """Why the weight file does not match its manifest entry (missing, swapped, wrong size or hash), or None."""
    if not path.is_file():
        return f"{path} is missing."
    size, digest = path.stat().st_size, file_sha256(path)
    if size == entry["size_bytes"] and digest == entry["sha256"]:
        return None
    twin = next((name for name, other in (manifest or {}).items() if other.get("sha256") == digest), None)
    if twin is not None:
        return f"{path} holds the weights recorded for {twin!r}: the files were swapped or renamed."
    if size != entry["size_bytes"]:
        return (f"{path} has {size} bytes but the manifest records {entry['size_bytes']}: the file is "
                f"{'truncated' if size < entry['size_bytes'] else 'longer than recorded'} or was replaced "
                "(an interrupted copy, or a Git LFS pointer?).")
    return (f"{path} is corrupted or was modified: its SHA-256 is {digest[:12]}…, the manifest records "
            f"{entry['sha256'][:12]}….")


def _write_json_atomically(path: Path, data: dict) -> None:
    """Write JSON next to the target, then rename, so a crash never leaves half a file."""
    with replaced_atomically(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def weight_shapes(model) -> list[str]:
    """The model's architecture fingerprint: the shape of every weight array, in order."""
    return ["x".join(str(int(size)) for size in weight.shape) or "scalar" for weight in model.weights]


def describe_machine() -> str:
    """A one-line description of the CPU (and GPU, if TensorFlow sees one) doing the training."""
    cpu, vector = platform.processor() or platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                # The widest vector instructions decide float rounding in training: AVX-512 and AVX2
                # machines with the same model name do not retrain byte-identical weights.
                flags = line.split()
                vector = ", AVX-512" if "avx512f" in flags else ", AVX2" if "avx2" in flags else ""
                break
    except OSError:
        pass
    description = f"{cpu}{vector}, {os.cpu_count()} cores, {platform.system()}"
    accelerators = _accelerators()
    return description + (f", GPU: {len(accelerators)}x {accelerators[0]}" if accelerators else "")


def _accelerators() -> list[str]:
    """The names of the GPUs that the Keras backend in use sees (the helper's only backend-specific code)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [tf.config.experimental.get_device_details(gpu).get("device_name", "unknown")
                for gpu in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [device.device_kind for device in jax.devices() if device.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]
    return []


def _remedy(name: str, path: Path) -> str:
    return (f"Restore it with `git checkout -- weights/{path.name}`, "
            f"or retrain it with `{retrain_command(name)}`.")


def load_pretrained(model, name: str, directory: Path | None = None) -> Entry:
    """Check the named weight file against the manifest, load it into the model, return its entry."""
    directory = directory or weights_dir()
    path = weight_path(name, directory)
    entry = recorded_entry(name, directory)
    problem = file_problem(entry, path, read_manifest(directory))
    if problem:
        raise WeightsError(f"{problem} {_remedy(name, path)}")
    shapes = weight_shapes(model)
    recorded = entry["architecture"]["weight_shapes"]
    if not shapes:
        raise WeightsError(f"Model {model.name!r} has no weights yet; build it (call it on a batch) "
                           f"before loading {path.name}.")
    if shapes != recorded:
        raise WeightsError(f"{path.name} was trained for a different architecture: the manifest records "
                           f"{len(recorded)} weight arrays {recorded}, model {model.name!r} has "
                           f"{len(shapes)}: {shapes}. Restore the model cell as it was, or retrain after "
                           f"changing it with `{retrain_command(name)}`.")
    try:
        with warnings.catch_warnings():  # shipped files carry no optimizer state, on purpose
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(path)
    except Exception as error:  # h5py and Keras raise many types for unreadable files
        raise WeightsError(f"Keras could not load {path} ({error}). " + _remedy(name, path)) from None
    return entry


def _finite_floats(values: list) -> list[float]:
    return [round(float(value), 6) for value in values]


@contextmanager
def _without_optimizer(model):
    """Hide the optimizer while saving: shipped files hold the model only (Adam's state would triple them)."""
    optimizer = getattr(model, "optimizer", None)
    model.optimizer = None
    try:
        yield
    finally:
        model.optimizer = optimizer


def save_trained(model, name: str, *, history: dict[str, list], training: dict[str, Any],
                 metrics: dict[str, float], wall_time_s: float,
                 directory: Path | None = None) -> Entry:
    """Save freshly trained weights and record them in the manifest; refuses non-finite results."""
    directory = directory or weights_dir()
    path = weight_path(name, directory)
    bad = {key: value for key, value in metrics.items() if not math.isfinite(value)}
    if bad or any(not math.isfinite(v) for values in history.values() for v in values):
        raise WeightsError(f"Training {name!r} diverged (non-finite loss or metrics {bad}); the existing "
                           f"{path.name} and its manifest entry are left untouched.")
    manifest = read_manifest(directory)  # fail before writing anything if it is unreadable
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{name}.tmp.weights.h5"
    try:
        with _without_optimizer(model):
            model.save_weights(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    import keras

    number = NAME_PATTERN.match(name).group(1)
    notebooks = sorted(NOTEBOOKS_DIR.glob(f"{number}_*.ipynb"))
    entry: Entry = {
        "file": path.name,
        "sha256": file_sha256(path),
        "size_bytes": path.stat().st_size,
        "notebook": notebooks[0].name if notebooks else number,
        "architecture": {"model": model.name, "parameters": int(model.count_params()),
                         "weight_shapes": weight_shapes(model)},
        "training": training,
        "wall_time_s": round(wall_time_s, 1),
        "machine": describe_machine(),
        "trained_on": _dt.date.today().isoformat(),
        "versions": {"keras": keras.__version__, "backend": f"{keras.backend.backend()}"},
        "metrics": {key: round(float(value), 6) for key, value in metrics.items()},
        "history": {key: _finite_floats(values) for key, values in history.items()},
    }
    manifest[name] = entry
    _write_json_atomically(directory / MANIFEST_FILE, manifest)
    return entry


def names_spelled_in(notebook: Path) -> set[str]:
    """Every weight-like name (its own number, then _name) that a notebook's source spells out, trained or not."""
    number = notebook.name[:2]
    return set(re.findall(rf"\b{number}_[a-z0-9_]+", notebook.read_text(encoding="utf-8")))


def wants_training(name: str, train: bool | Collection[str]) -> bool:
    """Whether the TRAIN switch (True, False, or a set of weight names) asks to train this model.

    A set may name only weights this notebook trains, so that a typo fails instead of silently loading.
    """
    if isinstance(train, bool):
        return train
    if isinstance(train, Collection) and not isinstance(train, str):
        number = _check_name(name)
        known = {recorded for recorded in read_manifest() if recorded.startswith(f"{number}_")} | {name}
        spelled = {found for path in NOTEBOOKS_DIR.glob(f"{number}_*.ipynb") for found in names_spelled_in(path)}
        unknown = sorted(set(train) - known - spelled)  # a model the notebook spells out may not be trained yet
        if unknown:
            raise ValueError(f"TRAIN names {', '.join(map(repr, unknown))}, which notebook {number} does not "
                             f"train. Its weights are: {', '.join(sorted(known))}. Correct the name, or set "
                             "TRAIN = True to train them all.")
        return name in train
    raise TypeError(f"TRAIN must be True, False or a set of weight names, not {train!r}.")


def _optimizer_config(model) -> dict[str, Any]:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return {}
    learning_rate = optimizer.get_config().get("learning_rate")
    if isinstance(learning_rate, (int, float)):
        learning_rate = float(f"{learning_rate:.6g}")  # float32 storage: 0.01 comes back as 0.0099999998
    elif isinstance(learning_rate, dict):  # a schedule, serialised by Keras
        learning_rate = {"schedule": learning_rate.get("class_name"), **learning_rate.get("config", {})}
    # config["name"] is per instance ("adam", "adam_2", …); the class name says what it is
    return {"name": type(optimizer).__name__, "learning_rate": learning_rate}


def train_or_load(model, name: str, *, train: bool | Collection[str], seed: int | None = None,
                  evaluation_data: tuple | None = None, **fit_args) -> Entry:
    """Train the compiled model with ``model.fit(**fit_args)`` and save it, or load the shipped weights.

    Returns the manifest entry, whose "history" holds the per-epoch losses in both modes.
    """
    if not wants_training(name, train):
        return load_pretrained(model, name)
    import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
    if "verbose" not in fit_args and os.environ.get(FIT_VERBOSE_ENV):
        fit_args["verbose"] = int(os.environ[FIT_VERBOSE_ENV])
    started = time.perf_counter()
    history = model.fit(**fit_args)
    wall_time_s = time.perf_counter() - started
    metrics = {}
    if evaluation_data is not None:
        metrics = model.evaluate(*evaluation_data, verbose=0, return_dict=True)
    training = {key: fit_args[key] for key in RECORDED_FIT_ARGS if key in fit_args}
    batches = fit_args.get("x")
    if hasattr(batches, "batch_size") and hasattr(batches, "__getitem__"):  # a PyDataset makes its own batches
        training.update(batch_size=batches.batch_size, batches=type(batches).__name__)
    training.update(epochs=len(history.epoch), optimizer=_optimizer_config(model), seed=seed)
    return save_trained(model, name, history=history.history, training=training, metrics=metrics,
                        wall_time_s=wall_time_s)
