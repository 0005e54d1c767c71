"""`gradscope bench`: the engine's costs, measured side by side in one run.

Every figure is a ratio of two things measured here, now, on this machine, or a time with
its unit in its name. Nothing here is asserted: the tests check correctness, this reports.
"""
from __future__ import annotations

import json
import sys


def run_bench(args) -> int:
    if getattr(args, "gui", False):
        return run_gui_bench(args)
    if getattr(args, "replay", False):
        return run_replay_bench(args)
    if getattr(args, "soak", False):
        return run_soak(args)
    import torch

    from gradscope.bench import depth_comparison, probes, spectral, storage

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    quick = bool(getattr(args, "quick", False))
    say = (lambda text: None) if args.json else (lambda text: print(text, file=sys.stderr, flush=True))
    results = {
        "machine": {"cores": __import__("os").cpu_count(), "torch": torch.__version__, "torch_threads": 1,
                    "python": sys.version.split()[0]},
        "probe_overhead": probes.measure(quick, say),
        "spectral": spectral.measure(quick, say),
        "storage": storage.measure(quick, say),
        "plain_vs_residual": depth_comparison.measure(quick, say),
    }
    results["spectral_speedup"] = results["spectral"]["speedup"]
    results["record_ms_per_step"] = results["storage"]["record_ms_per_step"]
    results["load_10k_s"] = results["storage"]["load_10k_s"]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(format_results(results))
    return 0


def run_gui_bench(args) -> int:
    """`gradscope bench --gui`: the window's figures only (no torch in this process: the
    window's training process imports it)."""
    from gradscope.bench import gui

    return _run_window_bench(args, "gui", gui)


def run_replay_bench(args) -> int:
    """`gradscope bench --replay`: opening and seeking a 10,000-step session in the window."""
    from gradscope.bench import replay

    return _run_window_bench(args, "replay", replay)


def run_soak(args) -> int:
    """`gradscope bench --soak`: the window through random actions; exit 1 when one broke it."""
    from gradscope.bench import soak

    if not 1 <= args.actions <= 1_000_000:
        from gradscope.commands.usage import UsageError

        raise UsageError("gradscope bench: --actions must be 1 to 1,000,000")
    say = (lambda text: None) if args.json else (lambda text: print(text, file=sys.stderr, flush=True))
    report = soak.measure(args.actions, args.seed, say)
    print(json.dumps({"soak": report}, indent=2) if args.json else soak.format_results(report))
    return 1 if report["failures"] else 0


def _run_window_bench(args, name: str, module) -> int:
    say = (lambda text: None) if args.json else (lambda text: print(text, file=sys.stderr, flush=True))
    results = {name: module.measure(bool(getattr(args, "quick", False)), say)}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(module.format_results(results[name]))
    return 0


def format_results(results: dict) -> str:
    lines = ["probe overhead at the default cadence (training with probes / bare fused loop):"]
    for name, figure in results["probe_overhead"].items():
        lines.append(f"  {name:18s} {figure['ratio']:.3f}x   {figure['probes_per_s']:.2f} probes/s   "
                     f"probe {figure['probe_ms']:.0f} ms, every {figure['probe_every']} steps, "
                     f"bare step {figure['bare_ms_per_step']:.1f} ms")
    spectral = results["spectral"]
    lines.append(f"spectral profile ({spectral['model']}): {spectral['speedup']:.1f}x faster than the naive way "
                 f"({spectral['ours_s']:.3f} s against {spectral['naive_s']:.1f} s), "
                 f"largest relative difference {spectral['max_relative_difference']:.1e}")
    storage = results["storage"]
    lines.append(f"recording: {storage['record_ms_per_step']:.3f} ms per step "
                 f"({storage['record_probed_ms_per_step']:.3f} ms for a probed step)")
    lines.append(f"loading 10,000 steps of hidden_grad_norm at T=200: {storage['load_10k_s']:.3f} s")
    lines.append(f"a commit keeping room for a failure note: {storage['commit_ms_keeping_room']:.3f} ms per step, "
                 f"{storage['room_cost_ratio']:.2f}x a bare commit ({storage['commit_ms_bare']:.3f} ms)")
    comparison = results["plain_vs_residual"]
    shown = ("not within the steps trained" if comparison["point_shown_s"] is None else
             f"in {comparison['point_shown_s']:.1f} s (step {comparison['point_shown_at_step']})")
    lines.append(f"plain against residual, {comparison['layers']} layers on the digits: the point shown {shown}, "
                 f"plain loss {comparison['plain_loss']:.3f}, residual loss {comparison['residual_loss']:.3f}")
    return "\n".join(lines)
