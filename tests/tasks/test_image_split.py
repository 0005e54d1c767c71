"""The train/test split: fixed by its seed, the same on every machine, disjoint and stratified."""
from __future__ import annotations

import numpy as np
import pytest

from gradscope.tasks.images import load_digits, stratified_split
from gradscope.tasks.images.split import held_out_counts, splitmix64


def test_splitmix64_is_the_published_generator():
    # Vigna's splitmix64.c seeded with 0 gives these two first outputs; its state after n
    # steps is n * 0x9E3779B97F4A7C15, which is what our hash of n - 1 adds
    outputs = splitmix64(np.array([0, 0x9E3779B97F4A7C15], dtype=np.uint64))
    assert [int(value) for value in outputs] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]


def test_the_split_is_pinned_so_every_machine_holds_out_the_same_images():
    train, test = stratified_split(np.repeat(np.arange(3), 4), 0.5, seed=7)
    assert train.tolist() == [0, 3, 4, 6, 9, 11] and test.tolist() == [1, 2, 5, 7, 8, 10]
    train, test = stratified_split(load_digits().labels.numpy(), 0.2, seed=0)
    assert (len(train), len(test)) == (1438, 359)
    assert test[:12].tolist() == [1, 4, 18, 25, 27, 31, 33, 35, 38, 43, 47, 54] and int(test.sum()) == 317205


def test_disjoint_covering_sorted_and_stratified():
    labels = np.random.default_rng(3).integers(0, 7, 1000)
    train, test = stratified_split(labels, 0.25, seed=11)
    assert train.dtype == test.dtype == np.int64
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert not set(train.tolist()) & set(test.tolist())
    assert sorted(train.tolist() + test.tolist()) == list(range(1000))
    counts = np.bincount(labels)
    assert np.bincount(labels[test], minlength=7).tolist() == np.floor(counts * 0.25 + 0.5).astype(int).tolist()


def test_same_seed_same_split_other_seed_other_split():
    labels = np.repeat(np.arange(4), 50)
    first, again = stratified_split(labels, 0.2, 5), stratified_split(labels, 0.2, 5)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    other = stratified_split(labels, 0.2, 6)
    assert not np.array_equal(first[1], other[1])
    # a seed beyond 64 bits or below zero is still a seed, not an overflow
    for seed in (-1, 2**70):
        train, test = stratified_split(labels, 0.2, seed)
        assert len(test) == 40


def test_every_class_trains_and_tests_however_small_the_fraction():
    assert held_out_counts(np.array([2, 3, 10, 100]), 0.01).tolist() == [1, 1, 1, 1]
    assert held_out_counts(np.array([2, 3, 10, 100]), 0.99).tolist() == [1, 2, 9, 99]
    assert held_out_counts(np.array([4, 5, 10]), 0.5).tolist() == [2, 3, 5]          # half up


def test_impossible_splits_are_refused():
    with pytest.raises(ValueError, match="fewer than two"):
        stratified_split(np.array([0, 0, 1]), 0.5, 0)
    for fraction in (0, 1, -0.1, 1.5):
        with pytest.raises(ValueError, match="strictly between"):
            stratified_split(np.array([0, 0, 1, 1]), fraction, 0)
