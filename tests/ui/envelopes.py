"""What a curve over training steps must show of its records: the records themselves where the
plot has room for each, or, narrower, a min/max envelope whose every bucket holds exactly the
lowest and highest value of its steps (no spike lost, nothing invented)."""
import numpy as np
import pytest

from gradscope.ui.panels.bars import paired


def assert_drawn_from(curve, steps: np.ndarray, values: np.ndarray) -> None:
    x, y = np.asarray(curve.x_values), np.asarray(curve.y_values)
    steps, values = np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if not paired(x) or np.array_equal(x, steps):
        assert np.array_equal(x, steps) and np.allclose(y, values, equal_nan=True)
        return
    starts = x[0::2]
    assert starts[0] == steps[0] and starts.size <= steps.size
    ends = np.append(starts[1:], np.inf)
    for k, (start, end) in enumerate(zip(starts, ends)):
        inside = values[(steps >= start) & (steps < end)]
        inside = inside[np.isfinite(inside)]
        assert y[2 * k] == pytest.approx(inside.min()) and y[2 * k + 1] == pytest.approx(inside.max())
