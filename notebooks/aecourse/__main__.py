"""Command line: `python -m aecourse {list,verify,retrain,execute}` (run from the notebooks/ folder)."""

from __future__ import annotations

import argparse
import sys

from . import runner, weights


def _list() -> int:
    manifest = weights.read_manifest()
    if not manifest:
        print("No weights recorded yet.")
    for name, entry in sorted(manifest.items()):
        metrics = ", ".join(f"{key}={value:.4g}" for key, value in entry["metrics"].items())
        print(f"{name:28s} {entry['notebook']:34s} {entry['training']['epochs']:>4} epochs "
              f"{entry['wall_time_s']:>8.0f} s  {metrics}")
    return 0


def _verify() -> int:
    """Check every recorded file's size and hash, and that no weight file is unrecorded."""
    manifest = weights.read_manifest()
    problems = []
    for name, entry in sorted(manifest.items()):
        path = weights.weight_path(name)
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif weights.file_sha256(path) != entry["sha256"]:
            problems.append(f"{path}: SHA-256 differs from the manifest")
    for path in sorted(weights.weights_dir().glob("*.weights.h5")):
        if path.name.removesuffix(".weights.h5") not in manifest:
            problems.append(f"{path}: not recorded in the manifest")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(manifest)} weight files checked, {len(problems)} problems.")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aecourse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="show the recorded weights, their training and metrics")
    commands.add_parser("verify", help="check every weight file against its recorded SHA-256")
    retrain = commands.add_parser("retrain", help="retrain weights by running notebooks in training mode")
    retrain.add_argument("targets", nargs="+", help="'all', notebook numbers or stems, or weight names")
    retrain.add_argument("--keep-outputs", action="store_true",
                         help="do not re-run the notebook in load mode to refresh its outputs afterwards")
    execute = commands.add_parser("execute", help="re-run notebooks headless (load mode), saving outputs")
    execute.add_argument("targets", nargs="+", help="'all', notebook numbers or stems")
    args = parser.parse_args(argv)

    if args.command == "list":
        return _list()
    if args.command == "verify":
        return _verify()
    plan = runner.resolve_targets(args.targets)
    for path, train in plan.items():
        if args.command == "retrain":
            print(f"Training {path.name} ({'all its models' if train is True else ', '.join(sorted(train))})…",
                  flush=True)
            print(f"  training run saved to {runner.retrain(path, train)}")
        if args.command == "execute" or not args.keep_outputs:
            print(f"Executing {path.name} with the saved weights…", flush=True)
            runner.refresh_outputs(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
