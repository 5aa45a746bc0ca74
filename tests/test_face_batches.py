"""Notebook 05's training data: the split keeps the test faces apart, shifted batches are honest pairs."""

from __future__ import annotations

import numpy as np
import pytest

from aecourse import definitions_from


@pytest.fixture(scope="module")
def faces_05() -> dict:
    return definitions_from("05_faces_autoencoders.ipynb")


def test_face_split_gives_every_person_7_1_and_2_photographs_with_no_overlap(faces_05):
    person = np.repeat(np.arange(40), 10)
    split = faces_05["face_split"](person, seed=42)
    for name, per_person in (("training", 7), ("validation", 1), ("test", 2)):
        assert np.array_equal(np.bincount(person[split[name]], minlength=40), np.full(40, per_person)), name
    everything = np.concatenate(list(split.values()))
    assert np.array_equal(np.sort(everything), np.arange(400))


def test_shifted_batches_are_input_target_pairs_moved_by_at_most_the_shift(faces_05):
    rng = np.random.default_rng(0)
    faces = rng.random((10, 64, 64)).astype("float32")
    batches = faces_05["ShiftedFaces"](faces, batch_size=4, seed=1, shift=2)
    assert len(batches) == 3
    seen = []
    for index in range(len(batches)):
        inputs, targets = batches[index]
        assert inputs is targets or np.array_equal(inputs, targets)
        assert inputs.shape == (4 if index < 2 else 2, 64, 64)
        for shifted in inputs:
            # the interior of a shifted face is the original's interior moved by (dy, dx), |dy|, |dx| <= 2
            matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                       for original in faces
                       if np.array_equal(shifted[4:-4, 4:-4], original[4 + dy:60 + dy, 4 + dx:60 + dx])]
            assert len(matches) == 1
            seen.append(matches[0])
    assert len(set(seen)) > 1, "every face was moved the same way"


def test_shifted_batches_repeat_with_the_seed_and_keep_a_channel_axis(faces_05):
    faces = np.random.default_rng(0).random((6, 64, 64, 1)).astype("float32")
    first, second = (faces_05["ShiftedFaces"](faces, batch_size=6, seed=3)[0][0] for _ in range(2))
    assert first.shape == (6, 64, 64, 1)
    assert np.array_equal(first, second)
