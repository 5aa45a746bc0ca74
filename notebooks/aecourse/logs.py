"""Reading TensorBoard's event files back, so a notebook can plot what the TensorBoard callback logged."""

from __future__ import annotations

from pathlib import Path


def read_scalars(log_dir: Path | str) -> dict[str, dict[str, list[float]]]:
    """Every scalar Keras's TensorBoard callback wrote under log_dir, as {tag: {run: per-epoch values}}.

    Keras writes one run folder per split (train/, validation/) and names its per-epoch tags
    epoch_<metric>; they come back without that prefix. Its evaluation_*_vs_iterations tags repeat the
    validation values and are left out.
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # slow; only here
    from tensorboard.util.tensor_util import make_ndarray

    runs = sorted(path for path in Path(log_dir).iterdir() if path.is_dir()) if Path(log_dir).is_dir() else []
    if not runs:
        raise FileNotFoundError(f"{log_dir} holds no TensorBoard runs: train with the TensorBoard callback first.")
    scalars: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        accumulator = EventAccumulator(str(run), size_guidance={"tensors": 0}).Reload()
        for tag in (tag for tag in accumulator.Tags()["tensors"] if tag.startswith("epoch_")):
            values = [float(make_ndarray(event.tensor_proto)) for event in accumulator.Tensors(tag)]
            scalars.setdefault(tag.removeprefix("epoch_"), {})[run.name] = values
    return scalars
