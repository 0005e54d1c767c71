"""A few arrays kept from across a run's whole training, for a strip of snapshots (the first
conv layer's filters as they form): at most `capacity`, spread evenly over the probes seen.

Every probe is offered; while there is room each is kept, and when the store is full every
other one is dropped and only every other offer is kept from then on (`stride` doubles), as
the step envelopes halve. The probes kept are thus the first and then every `stride`-th one,
whatever the run's length, with no more than `capacity` arrays held.
"""
from __future__ import annotations

import numpy as np

SNAPSHOT_CAPACITY = 16
SNAPSHOTS_SHOWN = 6      # in one row at half a 1280 px stage, a 4x4 grid of 3x3 filters stays legible


def evenly_spread(items: list, count: int) -> list:
    """At most `count` of `items`, evenly spread, the first and the last among them."""
    if len(items) <= count:
        return list(items)
    picks = np.unique(np.round(np.linspace(0, len(items) - 1, count)).astype(int))
    return [items[i] for i in picks]


class Snapshots:
    def __init__(self, capacity: int = SNAPSHOT_CAPACITY) -> None:
        self.capacity = max(int(capacity), 2)
        self.steps: list[int] = []
        self.arrays: list[np.ndarray] = []
        self.stride = 1
        self._offered = 0

    def __len__(self) -> int:
        return len(self.steps)

    def offer(self, step: int, array: np.ndarray) -> None:
        """A probe's array, in step order; kept if it falls on the stride."""
        if self._offered % self.stride == 0:
            self.steps.append(int(step))
            self.arrays.append(array)
            if len(self.steps) > self.capacity:
                self.steps, self.arrays = self.steps[::2], self.arrays[::2]
                self.stride *= 2
        self._offered += 1

    def spread(self, count: int = SNAPSHOTS_SHOWN) -> list[tuple[int, np.ndarray]]:
        """At most `count` of the kept (step, array) pairs, evenly spread, the first and the
        newest kept among them."""
        return evenly_spread(list(zip(self.steps, self.arrays)), count)
