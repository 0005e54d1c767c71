"""`gradscope bench --quick --json` runs end to end and names every figure with its unit."""
import json

from gradscope.cli import main


def test_bench_quick_reports_every_figure(capsys):
    assert main(["bench", "--quick", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    for name, figure in figures["probe_overhead"].items():
        assert figure["ratio"] > 0 and figure["probes_per_s"] > 0 and figure["bare_ms_per_step"] > 0, name
    assert figures["spectral_speedup"] > 0
    assert figures["spectral"]["max_relative_difference"] < 1e-4   # the same numbers as the naive way
    assert figures["record_ms_per_step"] > 0 and figures["load_10k_s"] > 0
    assert "cnn_residual_L4_digits" in figures["probe_overhead"]      # an image net's probes too
    comparison = figures["plain_vs_residual"]
    assert comparison["steps_trained"] >= 20 and comparison["wall_s"] > 0
    assert comparison["plain_loss"] > 0 and comparison["residual_loss"] > 0
