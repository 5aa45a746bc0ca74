"""Command line, run from the notebooks/ folder: `python -m aecourse COMMAND`.

Weights: list, verify, retrain, execute, report. Classroom: fetch-data, student-copies, slides, colab.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import weights
from ..data import DataError


def _list() -> int:
    manifest = weights.read_manifest()
    if not manifest:
        print("No weights recorded yet.")
    for name in sorted(manifest):
        entry = weights.recorded_entry(name)  # a WeightsError names a missing key and the fix
        metrics = ", ".join(f"{key}={value:.4g}" for key, value in entry["metrics"].items())
        print(f"{name:28s} {entry['notebook']:34s} {entry['training']['epochs']:>4} epochs "
              f"{entry['wall_time_s']:>8.0f} s  {metrics}")
    return 0


def _verify() -> int:
    """Check every recorded file's size and hash, and that no weight file is unrecorded."""
    manifest = weights.read_manifest()
    problems = []
    for name, entry in sorted(manifest.items()):
        problem = (weights.entry_problem(name, entry)
                   or weights.file_problem(entry, weights.weight_path(name), manifest))
        if problem:
            problems.append(problem)
    for path in sorted(weights.weights_dir().glob("*.weights.h5")):
        if path.name.removesuffix(".weights.h5") not in manifest:
            problems.append(f"{path}: not recorded in the manifest.")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(manifest)} weight files checked, {len(problems)} problems.")
    if problems:
        print("Restore damaged files with `git checkout -- weights/`, or retrain them with "
              "`python -m aecourse retrain NAME`.", file=sys.stderr)
    return 1 if problems else 0


def _report() -> int:
    """Collect the results the notebooks recorded into RESULTS.md, unless one misses its notebook's bound."""
    from . import report

    results, manifest = report.recorded_results(), weights.read_manifest()
    for result in results:
        status = "" if result.bound is None else ("  bound met" if result.meets_bound else "  BOUND MISSED")
        print(f"{result.weights:20s} {result.metric:32s} {report.significant(result.value):>8s}{status}")
    for name in report.unreported(results, manifest):
        print(f"{name}: shipped, but no notebook records a result for it (a cell tagged `result`)", file=sys.stderr)
    try:
        print(f"wrote {report.write_report(results, manifest=manifest)}")
    except report.BoundError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB" if path.is_file() else "size unknown"


def _fetch_data(to: Path | None) -> int:
    """Fetch both datasets into the usual caches, or into a folder for AECOURSE_DATA; say where they are."""
    from ..data import fetch_datasets
    from ..paths import DATA_ENV, data_dir

    source = data_dir()
    if source is not None:
        print(f"{DATA_ENV}={source} is set: reading the datasets from that folder, not downloading.")
    try:
        fetched = fetch_datasets(to)
    except DataError as error:
        print(f"fetch-data failed: {error}", file=sys.stderr)
        return 1
    notes = {"written": "written", "kept": "already there, kept", "cached": "in the loader's cache",
             "found": f"in {DATA_ENV}"}
    for name, result in fetched.items():
        origin = "" if result.status in ("kept", "found") else f"; from {result.source}"
        print(f"{name:9s} {result.path}  ({_size(result.path)}, {notes[result.status]}{origin})")
    if to is not None:
        print(f"Done. Copy the folder to each laptop if need be; then, before starting Jupyter:\n"
              f"  export {DATA_ENV}={Path(to).expanduser().resolve()}")
    elif source is not None:
        print(f"The notebooks read the datasets from there while {DATA_ENV} stays set.")
    else:
        print("Done: the notebooks now load both datasets from these caches without a network.")
    return 0


def _student_copies(out: Path) -> int:
    """Write the student edition of the notebooks and what they need, refusing a non-empty folder."""
    from .classroom import StudentCopyError, write_student_copies

    out = out.expanduser().resolve()
    try:
        written = write_student_copies(out)
    except StudentCopyError as error:
        print(f"student-copies: {error}", file=sys.stderr)
        return 1
    print(f"Wrote the student edition to {out}:")
    for path, note in written.items():
        print(f"  {path.relative_to(out)}  ({note})")
    print("Hand out that folder; its README.md tells students how to set up and open the notebooks.")
    return 0


def _colab(repository: str, branch: str) -> int:
    """Point the Colab badges and the notebooks' bootstrap cell at a published repository."""
    from .colab import retarget

    try:
        changed = retarget(repository, branch)
    except (ValueError, OSError) as error:
        print(f"colab: {error}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"  updated {path.name}")
    print(f"The badges and clone URLs now name {repository} (branch {branch}); {len(changed)} files changed.")
    return 0


def _slides(targets: list[str]) -> int:
    """Write the slide decks of the chosen notebooks to build/slides/."""
    from .runner import RunError, resolve_targets
    from .slides import export, nbconvert_command

    try:
        paths = resolve_targets(targets or ["all"])
    except RunError as error:
        print(f"slides: {error}", file=sys.stderr)
        return 1
    for path in paths:
        try:
            print(f"  {export(path)}", flush=True)
        except ValueError as error:
            print(f"slides: {error}", file=sys.stderr)
            return 1
    print(f"Open a deck in a browser; it needs no network (reveal.js and MathJax are in build/slides/assets/,\n"
          f"copy the whole folder to present elsewhere). The decks alone, with nbconvert itself:\n"
          f"  {nbconvert_command()}")
    return 0


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aecourse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="show the recorded weights, their training and metrics")
    commands.add_parser("verify", help="check every weight file against its recorded SHA-256")
    commands.add_parser("report", help="collect the results the executed notebooks recorded into RESULTS.md")
    fetch = commands.add_parser("fetch-data", help="fetch both datasets before class, for offline use")
    fetch.add_argument("--to", type=Path, metavar="DIR",
                       help="write mnist.npz and olivetti_faces.npz here (for AECOURSE_DATA) instead of "
                            "filling the Keras and scikit-learn caches")
    copies = commands.add_parser("student-copies",
                                 help="write the notebooks without outputs or solutions, ready to hand out")
    copies.add_argument("--out", type=Path, metavar="DIR", default=None,
                        help="an empty or new folder (default: build/student-copies/ in the project)")
    retrain = commands.add_parser("retrain", help="retrain weights by running notebooks in training mode")
    retrain.add_argument("targets", nargs="+", help="'all', notebook numbers or stems, or weight names")
    retrain.add_argument("--keep-outputs", action="store_true",
                         help="do not re-run the notebook in load mode to refresh its outputs afterwards")
    execute = commands.add_parser("execute", help="re-run notebooks headless (load mode), saving outputs")
    execute.add_argument("targets", nargs="+", help="'all', notebook numbers or stems, 'exercises' or 'exercises/NN'")
    colab = commands.add_parser("colab", help="point the Colab badges and clone URLs at the published repository")
    colab.add_argument("--repository", required=True, metavar="OWNER/NAME", help="the course's GitHub repository")
    colab.add_argument("--branch", default="main", help="the branch the badges open (default: main)")
    slides = commands.add_parser("slides", help="write the notebooks as reveal.js slide decks to build/slides/")
    slides.add_argument("targets", nargs="*", help="'all' (the default) or notebook numbers or stems")
    args = parser.parse_args(argv)

    if args.command == "list":
        return _list()
    if args.command == "verify":
        return _verify()
    if args.command == "report":
        return _report()
    if args.command == "fetch-data":
        return _fetch_data(args.to)
    if args.command == "student-copies":
        from .classroom import DEFAULT_OUT

        return _student_copies(args.out or DEFAULT_OUT)
    if args.command == "colab":
        return _colab(args.repository, args.branch)
    if args.command == "slides":
        return _slides(args.targets)
    return _run_notebooks(args.command, args.targets, keep_outputs=getattr(args, "keep_outputs", False))


def _run_notebooks(command: str, targets: list[str], keep_outputs: bool) -> int:
    """Retrain or execute each notebook in turn; a failure is reported and the others still run."""
    from . import runner  # nbclient and nbformat take seconds to import; only these commands need them

    try:
        plan = runner.resolve_targets(targets, exercises=command == "execute")
    except runner.RunError as error:
        print(f"python -m aecourse: {error}", file=sys.stderr)
        return 1
    failures = []
    for path, train in plan.items():
        try:
            if command == "retrain":
                print(f"Training {path.name} ({'all its models' if train is True else ', '.join(sorted(train))})…",
                      flush=True)
                print(f"  training run saved to {runner.retrain(path, train)}")
            if command == "execute" or not keep_outputs:
                print(f"Executing {path.name} with the saved weights…", flush=True)
                runner.refresh_outputs(path)
        except runner.RunError as error:
            print(f"  {error}\n  {path.name} itself was not changed.", file=sys.stderr)
            failures.append(path.name)
    if failures:
        print(f"{len(failures)} of {len(plan)} notebooks failed: {', '.join(failures)}.", file=sys.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; a known fault prints one message (no traceback) and returns 1."""
    try:
        return _main(argv)
    except (weights.WeightsError, DataError) as error:
        print(f"python -m aecourse: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
