"""`gradscope record --dry-run`: each layer's output shape, for every family, before training;
a combination that shrinks a map below 1x1 is refused naming the layer and the numbers."""
from __future__ import annotations

import json

from gradscope.cli import main


def run(*args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_cnn_s_shapes_follow_the_arithmetic_and_nothing_is_written(tmp_path, capsys):
    code, out, err = run("record", "--arch", "cnn", "--task", "digits", "--depth", "4", "--stride", "2",
                         "--pool", "none", "--dry-run", "--json", "-o", tmp_path / "x.gscope", capsys=capsys)
    assert code == 0, err
    layers = json.loads(out)["layers"]
    # (8 + 2 - 3)/2 + 1 = 4, then 2, then 1, then (1 + 2 - 3)/2 + 1 = 1; then the head
    assert [row["shape"] for row in layers] == [[1, 8, 8], [16, 4, 4], [16, 2, 2], [16, 1, 1], [16, 1, 1],
                                                [16], [10]]
    assert [row["layer"] for row in layers][-2:] == ["global average pool", "classifier"]
    assert not (tmp_path / "x.gscope").exists()


def test_every_family_prints_its_layers(capsys):
    for args, last in ((["--arch", "lenet", "--task", "mnist"], ["dense layer 2 84", "classifier 10"]),
                       (["--arch", "mlp", "--task", "digits", "--layers", "2", "--hidden", "40"],
                        ["dense layer 2 40", "classifier 10"]),
                       (["--arch", "lstm", "--task", "adding", "--seq-len", "7", "--layers", "2"],
                        ["lstm layer 2 7 x 32", "readout 1"])):
        code, out, err = run("record", *args, "--dry-run", capsys=capsys)
        assert code == 0, err
        assert [" ".join(line.split()) for line in out.strip().splitlines()[-2:]] == last, out


def test_the_pools_between_the_layers_are_rows_of_their_own(capsys):
    code, out, err = run("record", "--arch", "lenet", "--task", "digits", "--dry-run", capsys=capsys)
    assert code == 0, err
    rows = [" ".join(line.split()) for line in out.strip().splitlines()[1:]]
    # "same" 5x5 convolutions: the pools, shown between the layers, halve the map
    assert rows == ["input 1 x 8 x 8", "conv layer 1 6 x 8 x 8", "max pool after conv layer 1 6 x 4 x 4",
                    "conv layer 2 16 x 4 x 4", "max pool after conv layer 2 16 x 2 x 2", "dense layer 1 120",
                    "dense layer 2 84", "classifier 10"]


def test_a_map_below_1x1_is_refused_with_the_layer_and_the_numbers(capsys):
    code, out, err = run("record", "--arch", "cnn", "--task", "digits", "--kernel", "5", "--padding", "0",
                         "--dry-run", capsys=capsys)
    assert code == 2 and out == ""
    assert "conv layer 2: (2 + 2*0 - 5)/1 + 1 = -2, below 1x1" in err and len(err.strip().splitlines()) == 1
    assert "--padding" in err                      # a padding short of the kernel is what shrinks the maps


def test_record_without_a_file_or_a_dry_run_is_refused(capsys):
    code, _, err = run("record", "--arch", "rnn", capsys=capsys)
    assert code == 2 and "-o FILE.gscope" in err
