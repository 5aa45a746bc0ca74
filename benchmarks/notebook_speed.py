"""Benchmark: how long each notebook takes to run headless with the shipped weights, against a floor.

    python benchmarks/notebook_speed.py [--runs 3] [--backends tensorflow,jax,torch] [NN ...]   (project root)

Each run executes one notebook top to bottom in a fresh kernel (as a student's "Run all" does, kernel
start included), in a fresh Python process so that the kernel's peak memory is measured per run. The
floor is a notebook with one cell that imports everything the course's notebooks import (TensorFlow,
Keras, scikit-learn, matplotlib, the helper package, ...), timed the same way in the same rounds, so that
each notebook's time is reported as a multiple of it: machines of one kind differ twofold in absolute
seconds, but not in that ratio. With several Keras backends, each notebook runs on each (KERAS_BACKEND in
the kernel), and each backend gets its own floor in the same rounds. Writes the medians, the ratios and
the slowest cells to benchmarks/notebook_speed.md. This reports; it never fails on a slow machine.
Goal: every notebook at most FLOOR_GOAL times the floor.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "notebooks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported, here and in the kernels
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import nbformat  # noqa: E402

from backend_option import parse_backends  # noqa: E402
from aecourse.commands.runner import course_notebooks, execute, resolve_targets  # noqa: E402
from aecourse.weights import describe_machine  # noqa: E402

REPORT = PROJECT_ROOT / "benchmarks" / "notebook_speed.md"
FLOOR_GOAL = 2.5
FLOOR_NAME = "import-only kernel (floor)"


def _seconds(start: str, end: str) -> float:
    return (dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
            - dt.datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def run_once(path: Path) -> dict:
    """Execute the notebook once; wall time, the kernel's peak memory and each code cell's time."""
    start = time.perf_counter()
    notebook = execute(path, record_timing=True, timeout=600)
    wall = time.perf_counter() - start
    cells = []
    for index, cell in enumerate(notebook.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "iopub.status.busy" in timing:
            first_line = next((line for line in cell.source.splitlines() if not line.startswith("#")), "")
            cells.append([index, first_line[:60], _seconds(timing["iopub.status.busy"], timing["iopub.status.idle"])])
    # The kernel is this process's child and has been waited for, so its peak RSS is in RUSAGE_CHILDREN (kB).
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall_s": wall, "peak_kernel_mb": peak_mb, "cells": cells}


def imports_of_the_course(notebooks: list[Path]) -> str:
    """Every import statement of the course's notebooks, once each: the floor's only cell."""
    statements: dict[str, None] = {}
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:  # IPython magics; the course has none, but a student copy might
                continue
            for node in tree.body:  # top level only: the Colab cell's conditional imports are not run either
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    statements.setdefault(ast.unparse(node))
    return "\n".join(statements)


def write_floor_notebook(notebooks: list[Path], folder: Path) -> Path:
    """A notebook that only imports the course's libraries, in a scratch folder."""
    path = folder / "00_import_floor.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(imports_of_the_course(notebooks))]),
                   path)
    return path


def _run_worker(path: Path, backend: str) -> dict:
    completed = subprocess.run([sys.executable, __file__, "--worker", str(path)], capture_output=True,
                               text=True, check=False, env={**os.environ, "KERAS_BACKEND": backend})
    if completed.returncode != 0:
        raise SystemExit(f"{path.name} failed on {backend}:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure_rounds(paths: list[Path], runs: int, backends: list[str]) -> dict[tuple[str, Path], list[dict]]:
    """Run every notebook on every backend once per round, floor first, so that all see the same load."""
    measurements: dict[tuple[str, Path], list[dict]] = {(b, path): [] for b in backends for path in paths}
    for run in range(runs):
        for backend in backends:
            for path in paths:
                result = _run_worker(path, backend)
                measurements[backend, path].append(result)
                print(f"  round {run + 1}, {backend}: {path.name} {result['wall_s']:.1f} s, "
                      f"{result['peak_kernel_mb']:.0f} MB", flush=True)
    return measurements


def _summary(path: Path, measurements: list[dict]) -> dict:
    walls = [m["wall_s"] for m in measurements]
    cell_medians: dict[int, tuple[str, float]] = {}
    for index, first_line, _ in measurements[0]["cells"]:
        times = [seconds for m in measurements for i, _, seconds in m["cells"] if i == index]
        cell_medians[index] = (first_line, statistics.median(times))
    slowest = sorted(cell_medians.items(), key=lambda item: -item[1][1])[:3]
    cells_total = sum(seconds for _, seconds in cell_medians.values())
    return {"name": path.stem, "median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
            "peak_mb": max(m["peak_kernel_mb"] for m in measurements),
            "outside_cells_s": statistics.median(walls) - cells_total, "slowest": slowest}


def _backend_table(floor: dict, summaries: list[dict]) -> list[str]:
    """One backend's table: the floor, then each notebook with its ratio and slowest cells."""
    lines = [
        "| notebook | median (s) | × floor | min–max (s) | outside the cells¹ (s) | peak kernel memory (MB) "
        "| slowest cells (median s) |",
        "|---|--:|--:|--:|--:|--:|---|",
        f"| {FLOOR_NAME} | {floor['median_s']:.1f} | 1.0 | {floor['min_s']:.1f}–{floor['max_s']:.1f} "
        f"| {floor['outside_cells_s']:.1f} | {floor['peak_mb']:.0f} | |",
    ]
    for summary in summaries:
        slowest = "; ".join(f"[{index}] `{line}` {seconds:.1f}" for index, (line, seconds) in summary["slowest"])
        lines.append(f"| {summary['name']} | {summary['median_s']:.1f} | {summary['median_s'] / floor['median_s']:.1f} "
                     f"| {summary['min_s']:.1f}–{summary['max_s']:.1f} | {summary['outside_cells_s']:.1f} "
                     f"| {summary['peak_mb']:.0f} | {slowest} |")
    suite = sum(summary["median_s"] for summary in summaries)
    worst = max(summaries, key=lambda summary: summary["median_s"])
    worst_ratio = worst["median_s"] / floor["median_s"]
    verdict = "met" if worst_ratio <= FLOOR_GOAL else "NOT met"
    return lines + [f"| **all notebooks** | **{suite:.1f}** | | | | | |", "",
                    f"Goal: every notebook at most {FLOOR_GOAL:g} times the floor: **{verdict}** (slowest: "
                    f"{worst['name']}, {worst_ratio:.1f} times).", ""]


def render(results: dict[str, tuple[dict, list[dict]]], runs: int) -> str:
    """The markdown report: a side-by-side summary, then one table per backend."""
    backends = list(results)
    names = [summary["name"] for summary in next(iter(results.values()))[1]]
    lines = [
        "# Notebook speed",
        "",
        f"`python benchmarks/notebook_speed.py --runs {runs} --backends {','.join(backends)}` on {dt.date.today()}: "
        f"{describe_machine()}, Python {platform.python_version()}. Each notebook runs headless, top to bottom, "
        f"in a fresh kernel with the shipped weights, {runs} time{'s' if runs > 1 else ''} per backend; the "
        "kernel's start is included. Each backend's floor is a kernel that only imports what the notebooks "
        "import, on that backend, timed in the same rounds.",
        "",
        "| notebook | " + " | ".join(f"{backend}: s (× its floor)" for backend in backends) + " |",
        "|---|" + "--:|" * len(backends),
        f"| {FLOOR_NAME} | " + " | ".join(f"{floor['median_s']:.1f} (1.0)" for floor, _ in results.values()) + " |",
    ]
    for index, name in enumerate(names):
        cells = [f"{summaries[index]['median_s']:.1f} ({summaries[index]['median_s'] / floor['median_s']:.1f})"
                 for floor, summaries in results.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for backend, (floor, summaries) in results.items():
        lines += [f"## {backend}", "", *_backend_table(floor, summaries)]
    lines += ["¹ Wall time outside the cells: starting the kernel and connecting to it. The first code cell's "
              "import of the backend and Keras is a cell of its own and shows up among the slowest cells."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", default=["all"], help="'all' or notebook numbers (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="runs per notebook (default 3)")
    parser.add_argument("--backends", type=parse_backends, default=["tensorflow"],
                        help="Keras backends, comma-separated, to run each notebook on (default: tensorflow)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_once(args.worker)))
        return 0
    # Figures the notebooks save go to a scratch folder: a benchmark must not rewrite the committed ones.
    scratch = Path(tempfile.mkdtemp(prefix="aecourse-benchmark-"))
    os.environ["AECOURSE_FIGURES"] = str(scratch / "figures")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT / "notebooks"),
                                                             os.environ.get("PYTHONPATH")]))  # for the floor
    notebooks = [path for path in course_notebooks() if path in resolve_targets(args.targets)]
    floor = write_floor_notebook(course_notebooks(), scratch)
    measurements = measure_rounds([floor, *notebooks], args.runs, args.backends)
    results = {backend: (_summary(floor, measurements[backend, floor]),
                         [_summary(path, measurements[backend, path]) for path in notebooks])
               for backend in args.backends}
    REPORT.write_text(render(results, args.runs))
    print(f"wrote {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
