"""Every architecture has one family; each family's section is the settings declared for it,
and its rules say what a setting means to it."""
from __future__ import annotations

import json

import pytest

from gradscope.config import ARCHITECTURES, ConfigError, RunConfig
from gradscope.config.stored import CONFIG_VERSION
from gradscope.families import FAMILIES, family_of


def test_every_arch_has_exactly_one_family_and_the_lookup_names_unknown_ones():
    owners = {arch: [family.name for family in FAMILIES.values() if arch in family.archs] for arch in ARCHITECTURES}
    assert all(len(names) == 1 for names in owners.values()), owners
    assert {arch: family_of(arch).name for arch in ("lstm", "lenet", "cnn", "mlp")} == {
        "lstm": "recurrent", "lenet": "conv", "cnn": "conv", "mlp": "dense"}
    with pytest.raises(KeyError, match="transformer"):
        family_of("transformer")


def test_sections_hold_the_settings_each_family_reads():
    assert {"depth", "residual", "channels", "kernel", "stride", "padding", "pool", "batch_norm"} <= set(
        FAMILIES["conv"].settings)
    assert {"layers", "hidden"} <= set(FAMILIES["dense"].settings) & set(FAMILIES["recurrent"].settings)
    assert "depth" not in FAMILIES["dense"].settings and "seq_len" not in FAMILIES["conv"].settings
    config = RunConfig(arch="cnn", task="digits", depth=12, residual=True)
    assert config.family == "conv" and config.section()["depth"] == 12 and "seq_len" not in config.section()
    assert "task" in config.common() and "depth" not in config.common()


@pytest.mark.parametrize("settings, option, words", [
    (dict(arch="cnn", task="adding"), "task", "adding is a sequence task"),
    (dict(arch="lstm", task="digits"), "task", "digits is an image task"),
    (dict(arch="rnn", init="kaiming"), "init", "a recurrent net takes default, orthogonal, identity"),
    (dict(arch="cnn", task="digits", init="orthogonal"), "init", "cnn takes default, kaiming, xavier"),
    (dict(arch="gru", nonlinearity="sigmoid"), "nonlinearity", "a recurrent net takes tanh or relu"),
    (dict(arch="rnn", layers=0), "layers", "between 1 and 3"),
    (dict(arch="mlp", task="digits", tbptt=5), "tbptt", "mlp reads images"),
    (dict(arch="cnn", task="digits", kernel=3, padding=3), "padding", "at most 2"),
    (dict(arch="cnn", task="images"), "images", "needs your images"),
    (dict(arch="cnn", task="digits", images="/tmp/x.npz"), "images", "brings its own data"),
])
def test_a_combination_a_family_refuses_names_the_option(settings, option, words):
    with pytest.raises(ConfigError, match=words) as refused:
        RunConfig(**settings)
    assert refused.value.option == option


def test_shared_settings_take_each_family_s_range():
    assert RunConfig(arch="mlp", task="digits", layers=0).layers == 0
    assert RunConfig(arch="mlp", task="mnist", layers=4, hidden=128, nonlinearity="sigmoid", init="xavier")


def test_the_stored_config_is_versioned_in_sections_and_reads_back_equal():
    config = RunConfig(arch="cnn", task="digits", depth=20, residual=True, hidden=64, seq_len=9)
    stored = json.loads(config.to_json())
    assert stored["config_version"] == CONFIG_VERSION and stored["family"] == "conv"
    assert stored["sections"]["conv"]["depth"] == 20 and stored["sections"]["recurrent"]["seq_len"] == 9
    assert "depth" not in stored["common"]
    assert RunConfig.from_json(config.to_json()) == config


def test_version_1_flat_json_still_loads_and_a_newer_version_is_refused():
    flat = {"arch": "lstm", "task": "copy", "hidden": 8, "seq_len": 5}
    assert RunConfig.from_json(json.dumps(flat)) == RunConfig(arch="lstm", task="copy", hidden=8, seq_len=5)
    with pytest.raises(ConfigError, match="version 3"):
        RunConfig.from_json(json.dumps({"config_version": 3, "common": {}, "sections": {}}))
    clash = {"config_version": 2, "common": {}, "sections": {"recurrent": {"hidden": 8}, "dense": {"hidden": 9}}}
    with pytest.raises(ConfigError, match="two different values"):
        RunConfig.from_json(json.dumps(clash))


def test_each_family_describes_its_model_for_a_label():
    assert family_of("rnn").describe(RunConfig(layers=2)) == "RNN H=32 x2 T=50"
    assert family_of("cnn").describe(RunConfig(arch="cnn", task="digits", depth=20, residual=True)) == \
        "CNN L=20 residual C=16 3x3 tanh"
    assert family_of("mlp").describe(RunConfig(arch="mlp", task="digits", layers=0)) == "MLP linear"


def test_the_image_size_setting_allows_what_the_image_loaders_read():
    from gradscope.config import run_config
    from gradscope.tasks.images import dataset

    assert (run_config.MIN_IMAGE_SIZE, run_config.MAX_IMAGE_SIZE) == (dataset.MIN_IMAGE_SIZE, dataset.MAX_IMAGE_SIZE)
    assert RunConfig(arch="cnn", task="mnist", image_size=16).image_size == 16
    with pytest.raises(ConfigError, match="give 0"):
        RunConfig(arch="cnn", task="mnist", image_size=2)
