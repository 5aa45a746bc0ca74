"""The weight registry: train-or-load round trip, and a clear WeightsError for every bad file."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from aecourse import weights
from aecourse.commands.cli import main as cli
from aecourse.weights import WeightsError, load_pretrained, train_or_load

NAME = "99_tiny_ae"


def tiny_autoencoder(code_size: int = 2) -> keras.Model:
    inputs = keras.Input(shape=(6,))
    code = keras.layers.Dense(code_size, activation="sigmoid")(inputs)
    outputs = keras.layers.Dense(6, activation="sigmoid")(code)
    model = keras.Model(inputs, outputs, name="tiny_autoencoder")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model


@pytest.fixture
def weights_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AECOURSE_WEIGHTS", str(tmp_path))
    return tmp_path


@pytest.fixture
def trained(weights_folder):
    """A tiny model trained and saved through train_or_load; returns (model, entry, inputs)."""
    inputs = np.random.default_rng(0).random((64, 6)).astype(np.float32)
    model = tiny_autoencoder()
    entry = train_or_load(model, NAME, train=True, seed=1, x=inputs, y=inputs, epochs=3, batch_size=16,
                          verbose=0, evaluation_data=(inputs, inputs))
    return model, entry, inputs


def _snapshot(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_training_saves_weights_and_records_everything(trained, weights_folder):
    model, entry, inputs = trained
    path = weights_folder / f"{NAME}.weights.h5"
    recorded = weights.read_manifest()[NAME]
    assert recorded == json.loads(json.dumps(entry))
    assert recorded["sha256"] == weights.file_sha256(path)
    assert recorded["size_bytes"] == path.stat().st_size
    assert recorded["training"] == {"epochs": 3, "batch_size": 16, "seed": 1,
                                    "optimizer": {"name": "Adam", "learning_rate": 0.01}}
    assert recorded["architecture"] == {"model": "tiny_autoencoder", "parameters": 32,
                                        "weight_shapes": ["6x2", "2", "2x6", "6"]}
    assert len(recorded["history"]["loss"]) == 3
    expected_loss = model.evaluate(inputs, inputs, verbose=0)
    assert recorded["metrics"]["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert recorded["machine"] and recorded["wall_time_s"] >= 0


def test_loading_restores_the_trained_model(trained):
    model, entry, inputs = trained
    fresh = tiny_autoencoder()
    loaded = train_or_load(fresh, NAME, train=False)
    assert loaded["sha256"] == entry["sha256"]
    np.testing.assert_allclose(fresh.predict(inputs, verbose=0), model.predict(inputs, verbose=0))


def test_train_switch_may_name_some_models_only(trained):
    model, _, inputs = trained
    other = tiny_autoencoder()
    train_or_load(other, "99_other_ae", train=True, x=inputs, y=inputs, epochs=1, verbose=0)
    fresh = tiny_autoencoder()
    train_or_load(fresh, NAME, train={"99_other_ae"})  # not named: loads instead of training
    np.testing.assert_array_equal(fresh.get_weights()[0], model.get_weights()[0])
    with pytest.raises(TypeError, match="TRAIN must be"):
        train_or_load(fresh, NAME, train="yes")


def test_a_misspelled_name_in_train_is_refused_with_the_notebooks_names(trained):
    before = [weight.copy() for weight in trained[0].get_weights()]
    with pytest.raises(ValueError, match=r"TRAIN names '99_tiny_aee', which notebook 99 does not train\. "
                                         r"Its weights are: 99_tiny_ae\."):
        train_or_load(trained[0], NAME, train={"99_tiny_aee"})
    with pytest.raises(ValueError, match="'01_dense_ae'"):  # another notebook's weights are not this one's
        train_or_load(trained[0], NAME, train={NAME, "01_dense_ae"})
    for now, then in zip(trained[0].get_weights(), before):
        np.testing.assert_array_equal(now, then)


def test_a_typo_in_a_course_notebooks_train_set_lists_the_weights_it_trains(monkeypatch):
    monkeypatch.delenv("AECOURSE_WEIGHTS", raising=False)
    with pytest.raises(ValueError, match=r"TRAIN names '02_ae_code9', which notebook 02 does not train\. "
                                         r"Its weights are: 02_ae_code2, 02_ae_code32, 02_ae_code8\."):
        weights.wants_training("02_ae_code2", {"02_ae_code9"})
    assert weights.wants_training("02_ae_code8", {"02_ae_code8"})


def test_train_may_name_a_model_the_notebook_spells_out_but_has_not_recorded(monkeypatch, tmp_path):
    monkeypatch.setenv("AECOURSE_WEIGHTS", str(tmp_path))  # an empty manifest: nothing trained yet
    assert weights.wants_training("07_vae_latent8", {"07_vae_latent8"})
    assert not weights.wants_training("07_vae_latent2", {"07_vae_latent8"})
    with pytest.raises(ValueError, match=r"TRAIN names '07_vae_latent9', which notebook 07 does not train"):
        weights.wants_training("07_vae_latent2", {"07_vae_latent9"})


def test_unrecorded_name_says_how_to_train_it(weights_folder):
    with pytest.raises(WeightsError, match="No weights named '99_tiny_ae'.*TRAIN = True in notebook 99.*"
                                           "python -m aecourse retrain 99`"):
        load_pretrained(tiny_autoencoder(), NAME)


@pytest.mark.parametrize("key", ["size_bytes", "sha256", "architecture"])
def test_a_manifest_entry_missing_a_key_names_the_entry_and_the_key(trained, weights_folder, key):
    manifest = json.loads((weights_folder / "manifest.json").read_text())
    del manifest[NAME][key]
    (weights_folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match=f"manifest.json: the manifest entry for '99_tiny_ae' lacks '{key}.*"
                                           "git checkout -- weights/manifest.json"):
        load_pretrained(tiny_autoencoder(), NAME)


def test_missing_file_is_reported_with_both_remedies(trained, weights_folder):
    (weights_folder / f"{NAME}.weights.h5").unlink()
    with pytest.raises(WeightsError, match="is missing.*git checkout.*python -m aecourse retrain 99_tiny_ae"):
        load_pretrained(tiny_autoencoder(), NAME)


def test_truncated_file_is_refused_and_left_as_it_is(trained, weights_folder):
    path = weights_folder / f"{NAME}.weights.h5"
    path.write_bytes(path.read_bytes()[:500])
    before = _snapshot(weights_folder)
    with pytest.raises(WeightsError, match="truncated"):
        load_pretrained(tiny_autoencoder(), NAME)
    assert _snapshot(weights_folder) == before


def test_corrupted_file_fails_the_hash_check_before_keras_reads_it(trained, weights_folder):
    path = weights_folder / f"{NAME}.weights.h5"
    content = bytearray(path.read_bytes())
    content[-100] ^= 0xFF
    path.write_bytes(bytes(content))
    model = tiny_autoencoder()
    initial = [w.copy() for w in model.get_weights()]
    with pytest.raises(WeightsError, match="corrupted or was modified"):
        load_pretrained(model, NAME)
    for now, then in zip(model.get_weights(), initial):
        np.testing.assert_array_equal(now, then)


def test_wrong_architecture_is_named_and_nothing_is_touched(trained, weights_folder):
    before = _snapshot(weights_folder)
    with pytest.raises(WeightsError, match=r"different architecture.*'6x2', '2', '2x6', '6'.*'6x3'"):
        load_pretrained(tiny_autoencoder(code_size=3), NAME)
    assert _snapshot(weights_folder) == before


def test_damaged_manifest_is_reported_and_not_overwritten(trained, weights_folder):
    manifest = weights_folder / "manifest.json"
    manifest.write_text("{ not json")
    with pytest.raises(WeightsError, match="not valid JSON"):
        load_pretrained(tiny_autoencoder(), NAME)
    with pytest.raises(WeightsError, match="not valid JSON"):  # saving refuses too, before writing
        weights.save_trained(tiny_autoencoder(), "99_second", history={}, training={}, metrics={},
                             wall_time_s=1.0)
    assert manifest.read_text() == "{ not json"
    assert not (weights_folder / "99_second.weights.h5").exists()


def test_diverged_training_keeps_the_previous_weights(trained, weights_folder):
    before = _snapshot(weights_folder)
    with pytest.raises(WeightsError, match="diverged"):
        weights.save_trained(tiny_autoencoder(), NAME, history={"loss": [1.0, float("nan")]},
                             training={}, metrics={"loss": float("nan")}, wall_time_s=1.0)
    assert _snapshot(weights_folder) == before


@pytest.mark.parametrize("name", ["tiny", "1_tiny", "01-Tiny", "../01_tiny"])
def test_weight_names_carry_their_notebook_number(name):
    with pytest.raises(ValueError, match="must look like '01_dense_ae'"):
        weights.weight_path(name)


def test_verify_command_says_what_is_wrong_with_each_file(trained, weights_folder, capsys):
    assert cli(["verify"]) == 0
    path = weights_folder / f"{NAME}.weights.h5"
    content = path.read_bytes()
    (weights_folder / "99_stray.weights.h5").write_bytes(b"")
    for damaged, expected in [(content + b"\0", "longer than recorded"), (content[:-10], "truncated"),
                              (content[:-1] + bytes([content[-1] ^ 1]), "corrupted or was modified")]:
        path.write_bytes(damaged)
        assert cli(["verify"]) == 1
        errors = capsys.readouterr().err
        assert expected in errors and "99_stray.weights.h5: not recorded" in errors
    path.unlink()
    assert cli(["verify"]) == 1
    assert f"{path} is missing" in capsys.readouterr().err


def test_shipped_weights_match_their_manifest(monkeypatch, capsys):
    monkeypatch.delenv("AECOURSE_WEIGHTS", raising=False)
    status = cli(["verify"])
    assert status == 0, capsys.readouterr().err


def test_a_learning_rate_schedule_is_recorded_by_name_and_settings(weights_folder):
    inputs = np.random.default_rng(0).random((32, 6)).astype(np.float32)
    model = tiny_autoencoder()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=10, decay_rate=0.5)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    entry = train_or_load(model, NAME, train=True, x=inputs, y=inputs, epochs=1, verbose=0)
    learning_rate = entry["training"]["optimizer"]["learning_rate"]
    assert learning_rate["schedule"] == "ExponentialDecay"
    assert (learning_rate["decay_steps"], learning_rate["decay_rate"]) == (10, 0.5)
