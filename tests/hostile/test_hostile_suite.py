"""Every case of the hostile-input suite (hostile_cases.py) holds: one line naming the problem,
exit status 2 (or a clean success where the input is odd but honest), no traceback, under
500 MB with the address space capped at 2 GB, nothing left behind that the case does not allow.

The cases run four at a time in child processes, once for the module; each is then its own
test, so a failure names the case. `python tests/hostile/hostile_cases.py` prints the table."""
from __future__ import annotations

import pytest

from hostile_cases import CASES, run_all


@pytest.fixture(scope="module")
def outcomes():
    return run_all()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_input_gets_one_clear_line_and_bounded_memory(outcomes, name):
    case, outcome, problems = outcomes[name]
    assert not problems, (f"{name}: {'; '.join(problems)}\nexit {outcome.code}, {outcome.peak_mb:.0f} MB\n"
                          f"stderr:\n{outcome.err[-3000:]}\nstdout:\n{outcome.out[-1000:]}")
