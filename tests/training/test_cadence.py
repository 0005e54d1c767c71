"""The automatic cadence is a feedback loop on measured throughput; drive it with a
synthetic machine where a probe in flight slows training by a known factor."""
from gradscope.training.cadence import BUDGET, AutoCadence


def simulate(cadence: AutoCadence, steps: int, step_time: float, probe_steps: int, slowdown: float) -> list[int]:
    """A probe occupies `probe_steps` steps and slows each of them by `slowdown`."""
    last, probes, busy_until = None, [], -1
    for step in range(steps):
        if busy_until < step and cadence.due(step, last):
            last, busy_until = step, step + probe_steps - 1
            probes.append(step)
            cadence.observe_probe(probe_steps * step_time)
        probing = step <= busy_until
        cadence.observe_step(step_time * (1 + slowdown if probing else 1), probing)
    return probes


def overhead(cadence: AutoCadence, probe_steps: int, slowdown: float) -> float:
    busy_fraction = min(1.0, probe_steps / cadence.every)
    return busy_fraction * slowdown


def test_an_expensive_overlap_spreads_the_probes_out_to_the_budget():
    cadence = AutoCadence()
    simulate(cadence, 3000, 0.01, probe_steps=10, slowdown=0.6)
    assert cadence.every > 10
    assert overhead(cadence, 10, 0.6) <= BUDGET * 1.05
    assert cadence.overhead is not None


def test_a_cheap_overlap_probes_back_to_back():
    cadence = AutoCadence()
    probes = simulate(cadence, 3000, 0.01, probe_steps=5, slowdown=0.02)
    assert cadence.every <= 5
    assert len(probes) > 3000 / 10


def test_idle_windows_hold_probes_back_now_and_then():
    cadence = AutoCadence()
    probes = simulate(cadence, 1000, 0.01, probe_steps=1, slowdown=0.0)
    gaps = [b - a for a, b in zip(probes, probes[1:])]
    assert max(gaps) >= 8          # the idle windows
    assert gaps.count(1) > 0.8 * len(gaps)


def test_a_fixed_cadence_is_kept_exactly():
    cadence = AutoCadence(fixed=7)
    probes = simulate(cadence, 200, 0.01, probe_steps=3, slowdown=5.0)
    assert probes == list(range(0, 200, 7))
