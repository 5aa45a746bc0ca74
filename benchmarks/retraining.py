"""Benchmark: wall time of retraining each shipped model, as `python -m aecourse retrain` does it.

    python benchmarks/retraining.py [--backends tensorflow,jax,torch] [all | NN | WEIGHT_NAME ...]
                                                                       (from the project root; default all)

Runs each notebook in training mode, exactly as the retrain command does, but into a scratch copy of
weights/ and figures/ (AECOURSE_WEIGHTS, AECOURSE_FIGURES), so the shipped files are never touched.
Writes benchmarks/retraining.md: per model the fit time now and when the shipped weights were trained,
the test metric now and shipped, and whether the retrained file is byte-identical; per notebook the
wall time of the whole training-mode run. With several Keras backends, each retrains the same targets
(KERAS_BACKEND in the kernel) into its own scratch folder, and the report puts their fit times side by
side, as a ratio to TensorFlow's on the same machine in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "notebooks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from backend_option import parse_backends  # noqa: E402
from aecourse.commands import runner  # noqa: E402
from aecourse.weights import describe_machine, read_manifest  # noqa: E402

REPORT = PROJECT_ROOT / "benchmarks" / "retraining.md"
SHIPPED_WEIGHTS = PROJECT_ROOT / "weights"


def _metric(entry: dict) -> tuple[str, float]:
    """The headline test metric of a manifest entry: -ELBO for VAEs, the loss otherwise."""
    key = "neg_elbo" if "neg_elbo" in entry["metrics"] else "loss"
    return key, entry["metrics"][key]


def retrain_into(scratch: Path, targets: list[str], backend: str) -> list[tuple[str, float, list[str], str]]:
    """Retrain the targets on the backend into the scratch folders: per notebook its wall time, the names
    it trains, and where it stopped if it did not run to the end."""
    os.environ["AECOURSE_WEIGHTS"] = str(scratch / "weights")
    os.environ["AECOURSE_FIGURES"] = str(scratch / "figures")
    os.environ["KERAS_BACKEND"] = backend  # the kernels inherit it
    shipped = read_manifest(SHIPPED_WEIGHTS)
    runs = []
    for path, train in runner.resolve_targets(targets).items():
        names = sorted(name for name, entry in shipped.items()
                       if entry["notebook"] == path.name and (train is True or name in train))
        print(f"training {path.name} on {backend}: {', '.join(names)}", flush=True)
        start = time.perf_counter()
        stopped = ""
        try:
            runner.execute(path, train=train, timeout=runner.TRAINING_CELL_TIMEOUT_S)
        except runner.RunError as error:  # a claim that the retrained model breaks, say: report it, go on
            stopped = str(error)
        runs.append((path.stem, time.perf_counter() - start, names, stopped))
        print(f"  {runs[-1][1]:.0f} s{', ' + stopped if stopped else ''}", flush=True)
    return runs


def _model_row(name: str, then: dict, retrained: dict[str, dict]) -> str:
    """One model's row: fit time (and its ratio to the first backend's), metric and same-file, per backend."""
    backends, reference = list(retrained), next(iter(retrained))
    # a model that a stopped run did not reach keeps the shipped entry in its backend's scratch manifest
    now = {backend: entry for backend, entry in retrained.items() if entry != then}
    times = []
    for backend in backends:
        seconds = f"{now[backend]['wall_time_s']:.0f}" if backend in now else "–"
        if backend != reference and backend in now and reference in now:
            seconds += f" ({now[backend]['wall_time_s'] / now[reference]['wall_time_s']:.1f}×)"
        times.append(seconds)
    metrics = ["{} {:.4g}".format(*_metric(now[b])) if b in now else "–" for b in backends]
    same = [("yes" if now[b]["sha256"] == then["sha256"] else "no") if b in now else "–" for b in backends]
    return (f"| `{name}` | {then['training']['epochs']} | " + " | ".join(times) + f" | {then['wall_time_s']:.0f} | "
            + " | ".join(metrics) + f" | {_metric(then)[1]:.4g} | " + " | ".join(same) + " |")


def render(runs: dict[str, list[tuple[str, float, list[str], str]]], scratch: Path, load: tuple[float, float],
           command: str) -> str:
    """The markdown report: per model, each backend's fit time and metric; per notebook, the whole runs."""
    backends = list(runs)
    shipped = read_manifest(SHIPPED_WEIGHTS)
    retrained = {backend: read_manifest(scratch / backend / "weights") for backend in backends}
    lines = [
        "# Retraining speed",
        "",
        f"`{command}` on {dt.date.today()}: {describe_machine()}; load average "
        f"{load[0]:.1f} before and {load[1]:.1f} after (2 means both cores busy). Fit time is the `fit` call "
        "alone, as `train_or_load` records it; \"when shipped\" is the manifest's record of the shipped run; "
        "\"same file\" compares the retrained file with the shipped one.",
        "",
        "| weights | epochs | " + " | ".join(f"fit time, {backend} (s)" for backend in backends)
        + " | when shipped (s) | " + " | ".join(f"test metric, {backend}" for backend in backends)
        + " | shipped | " + " | ".join(f"same file, {backend}" for backend in backends) + " |",
        "|---|--:|" + "--:|" * len(backends) + "--:|" + "---|" * len(backends) + "---|" + "---|" * len(backends),
    ]
    for _, _, names, _ in runs[backends[0]]:
        lines += [_model_row(name, shipped[name], {b: retrained[b][name] for b in backends}) for name in names]
    lines += ["", "| notebook, whole training-mode run | " + " | ".join(backends) + " |",
              "|---|" + "--:|" * len(backends)]
    for index, (stem, _, _, _) in enumerate(runs[backends[0]]):
        walls = [f"{runs[b][index][1] / 60:.1f} min" + (" (stopped¹)" if runs[b][index][3] else "") for b in backends]
        lines.append(f"| {stem} | " + " | ".join(walls) + " |")
    totals = [f"**{sum(run[1] for run in runs[b]) / 60:.1f} min**" for b in backends]
    lines.append("| **all** | " + " | ".join(totals) + " |")
    stops = [f"- {b}: {run[3]}" for b in backends for run in runs[b] if run[3]]
    if stops:
        lines += ["", "¹ Where a training-mode run stopped: the weights trained before that point are timed above; "
                  "a model the run did not reach shows –.", *stops]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", default=["all"], help="'all', notebook numbers or weight names")
    parser.add_argument("--backends", type=parse_backends, default=["tensorflow"],
                        help="Keras backends, comma-separated, to retrain on; the first is the reference "
                             "(default: tensorflow)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="aecourse-retraining-"))
    load_before = os.getloadavg()[0]
    runs = {}
    for backend in args.backends:
        shutil.copytree(SHIPPED_WEIGHTS, scratch / backend / "weights")
        (scratch / backend / "figures").mkdir()
        runs[backend] = retrain_into(scratch / backend, args.targets, backend)
    command = " ".join(["python benchmarks/retraining.py", *(["--backends", ",".join(args.backends)]
                                                            if args.backends != ["tensorflow"] else []), *args.targets])
    REPORT.write_text(render(runs, scratch, (load_before, os.getloadavg()[0]), command))
    shutil.rmtree(scratch)
    print(f"wrote {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
