"""Benchmark: wall time of retraining each shipped model, as `python -m aecourse retrain` does it.

    python benchmarks/retraining.py [all | NN | WEIGHT_NAME ...]      (from the project root; default all)

Runs each notebook in training mode, exactly as the retrain command does, but into a scratch copy of
weights/ and figures/ (AECOURSE_WEIGHTS, AECOURSE_FIGURES), so the shipped files are never touched.
Writes benchmarks/retraining.md: per model the fit time now and when the shipped weights were trained,
the test metric now and shipped, and whether the retrained file is byte-identical; per notebook the
wall time of the whole training-mode run. All models together take about 40 minutes on 2 CPU cores.
"""

from __future__ import annotations

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

from aecourse.commands import runner  # noqa: E402
from aecourse.weights import describe_machine, file_sha256, read_manifest  # noqa: E402

REPORT = PROJECT_ROOT / "benchmarks" / "retraining.md"
SHIPPED_WEIGHTS = PROJECT_ROOT / "weights"


def _metric(entry: dict) -> tuple[str, float]:
    """The headline test metric of a manifest entry: -ELBO for VAEs, the loss otherwise."""
    key = "neg_elbo" if "neg_elbo" in entry["metrics"] else "loss"
    return key, entry["metrics"][key]


def retrain_into(scratch: Path, targets: list[str]) -> list[tuple[str, float, list[str]]]:
    """Retrain the targets into the scratch folders; the wall time and trained names of each notebook."""
    os.environ["AECOURSE_WEIGHTS"] = str(scratch / "weights")
    os.environ["AECOURSE_FIGURES"] = str(scratch / "figures")
    shipped = read_manifest(SHIPPED_WEIGHTS)
    runs = []
    for path, train in runner.resolve_targets(targets).items():
        names = sorted(name for name, entry in shipped.items()
                       if entry["notebook"] == path.name and (train is True or name in train))
        print(f"training {path.name}: {', '.join(names)}", flush=True)
        start = time.perf_counter()
        runner.execute(path, train=train, timeout=runner.TRAINING_CELL_TIMEOUT_S)
        runs.append((path.stem, time.perf_counter() - start, names))
        print(f"  {runs[-1][1]:.0f} s", flush=True)
    return runs


def render(runs: list[tuple[str, float, list[str]]], scratch: Path, load: tuple[float, float]) -> str:
    """The markdown report."""
    shipped, retrained = read_manifest(SHIPPED_WEIGHTS), read_manifest(scratch / "weights")
    lines = [
        "# Retraining speed",
        "",
        f"`python benchmarks/retraining.py` on {dt.date.today()}: {describe_machine()}; load average "
        f"{load[0]:.1f} before and {load[1]:.1f} after (2 means both cores busy). Fit time is the `fit` call "
        "alone, as `train_or_load` records it; \"when shipped\" is the manifest's record of the shipped run.",
        "",
        "| weights | epochs | fit time now (s) | when shipped (s) | test metric now | shipped | same file |",
        "|---|--:|--:|--:|---|---|---|",
    ]
    for _, _, names in runs:
        for name in names:
            now, then = retrained[name], shipped[name]
            key, value = _metric(now)
            same = file_sha256(scratch / "weights" / now["file"]) == then["sha256"]
            lines.append(f"| `{name}` | {now['training']['epochs']} | {now['wall_time_s']:.0f} | "
                         f"{then['wall_time_s']:.0f} | {key} {value:.4g} | {_metric(then)[1]:.4g} | "
                         f"{'yes' if same else 'no'} |")
    lines += ["", "| notebook, whole training-mode run | wall time |", "|---|--:|"]
    lines += [f"| {stem} | {seconds / 60:.1f} min |" for stem, seconds, _ in runs]
    lines += [f"| **all** | **{sum(seconds for _, seconds, _ in runs) / 60:.1f} min** |", ""]
    return "\n".join(lines)


def main() -> int:
    targets = sys.argv[1:] or ["all"]
    scratch = Path(tempfile.mkdtemp(prefix="aecourse-retraining-"))
    shutil.copytree(SHIPPED_WEIGHTS, scratch / "weights")
    (scratch / "figures").mkdir()
    load_before = os.getloadavg()[0]
    runs = retrain_into(scratch, targets)
    REPORT.write_text(render(runs, scratch, (load_before, os.getloadavg()[0])))
    shutil.rmtree(scratch)
    print(f"wrote {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
