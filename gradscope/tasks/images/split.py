"""A fixed, seeded, stratified train/test split that is the same on every machine.

A test accuracy is only comparable between two runs, or between a lecturer's session and a
student's replay on another computer, if both held out the same images. So the split uses no
library random generator, whose streams numpy and torch may change between versions: each
image's place in its class is the SplitMix64 hash of (seed, its index), plain 64-bit integer
arithmetic that every platform computes alike. Within each class the images with the smallest
hashes, round(n * test_fraction) of them (at least one, and at least one left to train on),
are the test images. The seed is the split's own, not the training seed: runs that differ
only in their training seed are tested on the same images.
"""
from __future__ import annotations

import math

import numpy as np

GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def splitmix64(values: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser of each uint64 value (Steele, Lea and Flood, 2014)."""
    z = values.astype(np.uint64)
    with np.errstate(over="ignore"):   # wrapping around 2**64 is the algorithm
        z = z + GOLDEN_GAMMA
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def held_out_counts(class_counts: np.ndarray, test_fraction: float) -> np.ndarray:
    """How many test images each class gives: round half up of n * test_fraction, kept within
    1..n-1 so that every class is both trained on and tested."""
    counts = np.asarray(class_counts, dtype=np.int64)
    wanted = np.array([math.floor(n * test_fraction + 0.5) for n in counts.tolist()], dtype=np.int64)
    return np.clip(wanted, 1, np.maximum(counts - 1, 1))


def stratified_split(labels, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices), each int64 and ascending, of `labels` (class ids 0..K-1).
    Every class present needs at least two images; the caller says so to the user first."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, not {test_fraction}")
    classes, counts = np.unique(labels, return_counts=True)
    if (counts < 2).any():
        raise ValueError(f"class {int(classes[np.argmax(counts < 2)])} has fewer than two images")
    seed_key = splitmix64(np.array([int(seed) % (1 << 64)], dtype=np.uint64))
    keys = splitmix64(np.arange(len(labels), dtype=np.uint64) ^ seed_key)
    # by class, then by hash; the index breaks ties, so the order is total
    order = np.lexsort((np.arange(len(labels)), keys, labels))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    is_test = np.zeros(len(labels), dtype=bool)
    for start, count in zip(starts.tolist(), held_out_counts(counts, test_fraction).tolist()):
        is_test[order[start:start + count]] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)
