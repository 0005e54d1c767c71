"""The window's first run (no saved settings, Run pressed) tells its story within the 30 s a
class watches: the error signal dies on its way back through time, as the dashed m^(T-t) line
predicts, and the network cannot learn the task.

It trains through the lab model, the window's own path (its training process, the automatic
probe cadence), for the steps the lab trained in 30 s on this 2-core machine while it was busy
(1,528; an RNN of the same size took 3,457 when it was quieter): 1,500."""
from __future__ import annotations

import numpy as np

from gradscope.lab import DEFAULT_CONFIG, LabModel
from gradscope.session import open_session

STEPS = 1500


def test_the_first_run_shows_the_error_signal_vanishing_through_time(tmp_path):
    lab = LabModel(tmp_path / "sessions")
    try:
        assert lab.config == DEFAULT_CONFIG
        lab.reset()
        assert lab.wait_until(lambda: lab.state == "paused", 120)
        lab.run_to(STEPS - 1)
        assert lab.wait_until(lambda: lab.state == "paused" and lab.cursor == STEPS - 1, 300), (lab.state, lab.cursor)
        history = lab.slots[0].history
        latest = history.latest["hidden_grad_norm"]          # what the error-signal panel draws
        assert latest.size == DEFAULT_CONFIG.seq_len and latest[0] / latest[-1] < 1e-10
        path = lab.session_path
    finally:
        lab.close()
    with open_session(path) as session:
        run = session.runs[0]
        assert run.state.value == "stopped" and len(run.steps) == STEPS
        hidden = run.series("hidden_grad_norm")               # every probe, probes x T
        assert len(hidden) >= 20
        reach = hidden[:, 0] / hidden[:, -1]                  # what reaches t = 0 of what leaves t = T-1
        assert np.all(reach < 1e-6) and np.median(reach) < 1e-12
        # every step contracts, on average: the dashed line m^(T-t) falls, and at the first probe
        # (m = rho = 0.5) it lies within a decade of the measured long-range Jacobian at t = 0
        steps = run.series("step_jacobian_norm")[:, 1:]
        m = np.exp(np.log(steps).mean(axis=1))
        assert np.all(m < 0.95) and abs(m[0] - 0.5) < 0.05
        jacobian = run.series("jacobian_norm")
        assert abs(np.log10(jacobian[0, 0]) - (DEFAULT_CONFIG.seq_len - 1) * np.log10(m[0])) < 1
        # not saturation's doing, no clipping to mistake for the cause, and no learning: the
        # error stays at the constant predictor's
        assert float(np.max(run.series("activation_saturation"))) < 0.05
        assert not np.any(run.series("clipped") > 0.5)
        mse, baseline = run.series("metric/mse")[-300:], run.series("metric/baseline_mse")[-300:]
        assert np.mean(mse) > 0.8 * np.mean(baseline)
