"""The character language model: vocabulary, windows, metrics, sampling, the bundled text."""
from __future__ import annotations

import math

import pytest
import torch

from gradscope import tasks
from gradscope.config import RunConfig
from gradscope.tasks.charlm import BUNDLED_TEXT, CharLMTask

TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 4


@pytest.fixture
def task():
    return CharLMTask(TEXT, seq_len=10)


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


def test_vocabulary_is_the_sorted_unique_characters(task):
    assert task.vocab == "".join(sorted(set(TEXT)))
    assert task.input_size == task.output_size == len(task.vocab)


def test_encode_decode_round_trip(task):
    ids = task.encode("the dog.\n")
    assert ids.dtype == torch.int64
    assert task.decode(ids) == "the dog.\n"
    assert task.decode(ids.tolist()) == "the dog.\n"
    assert task.decode(task.encode(TEXT)) == TEXT
    with pytest.raises(ValueError, match="'Z'"):
        task.encode("Zebra")


def test_windows_are_slices_of_the_text_with_next_character_targets(task):
    x, target = task.sample(16, generator())
    assert x.shape == (16, 10, task.input_size) and target.shape == (16, 10)
    assert (x.sum(dim=2) == 1).all()
    for i in range(16):
        window = task.decode(x[i].argmax(dim=1))
        following = task.decode(target[i])
        start = TEXT.find(window + following[-1])
        assert start >= 0, "the window and its target are contiguous text"
        assert window[1:] == following[:-1]


def test_bits_per_char_is_loss_over_ln2(task):
    x, target = task.sample(8, generator())
    output = torch.randn(8, 10, task.output_size, generator=generator(1))
    metrics = task.metrics(output, target)
    assert metrics["bits_per_char"] == pytest.approx(float(task.loss(output, target)) / math.log(2))
    perfect = 20 * torch.nn.functional.one_hot(target, task.output_size).float()
    assert task.metrics(perfect, target)["accuracy"] == 1.0
    assert 0 < metrics["unigram_bits_per_char"] < math.log2(task.output_size)


def favouring(task, char, log=None):
    """A stub model: always puts its weight on one character, and records what it was fed."""
    def step_fn(x, state):
        assert x.shape == (1, 1, task.input_size)
        if log is not None:
            log.append(task.decode(x[0, 0].argmax().reshape(1)))
        logits = torch.zeros(1, 1, task.output_size)
        logits[0, 0, task.encode(char)[0]] = 50.0
        return logits, (0 if state is None else state + 1)
    return step_fn


def test_generate_follows_the_model(task):
    fed = []
    text = task.generate(favouring(task, "a", fed), length=12, temperature=1.0,
                         generator=generator(), prime="the ")
    assert text == "a" * 12
    assert "".join(fed) == "the " + "a" * 11, "the prime goes in first, then each sample"


def test_generate_is_deterministic_and_uses_temperature(task):
    def uniform(x, state):
        return torch.zeros(1, 1, task.output_size), state
    one = task.generate(uniform, 40, 1.0, generator(5))
    two = task.generate(uniform, 40, 1.0, generator(5))
    assert one == two and len(one) == 40 and set(one) <= set(task.vocab)
    assert len(set(one)) > 3
    # a mild preference becomes near certainty at a low temperature
    mild = favouring(task, "o")

    def softly(x, state):
        logits, state = mild(x, state)
        return logits / 25.0, state  # 2.0 nats ahead of the rest
    hot = task.generate(softly, 200, 1.0, generator(1))
    cold = task.generate(softly, 200, 0.05, generator(1))
    assert cold.count("o") == 200
    assert hot.count("o") < 150
    assert task.generate(softly, 5, 0.0, generator(1)) == "ooooo", "temperature 0 is greedy"


def test_generate_survives_a_diverged_model(task):
    def broken(x, state):
        return torch.full((1, 1, task.output_size), float("nan")), state
    text = task.generate(broken, 20, 0.8, generator())
    assert len(text) == 20


def test_generate_default_prime_and_bad_prime(task):
    assert len(task.generate(favouring(task, "t"), 3, 1.0, generator())) == 3
    with pytest.raises(ValueError):
        task.generate(favouring(task, "t"), 3, 1.0, generator(), prime="")
    with pytest.raises(ValueError, match="vocabulary"):
        task.generate(favouring(task, "t"), 3, 1.0, generator(), prime="Q")


def test_bundled_sonnets():
    raw = BUNDLED_TEXT.read_text(encoding="utf-8")
    assert len(raw.encode("utf-8")) > 30_000
    assert "public domain" in raw.splitlines()[0].lower()
    task = tasks.build(RunConfig(task="charlm", seq_len=50))
    assert task.text.startswith("FROM fairest creatures we desire increase,")
    assert task.text.rstrip().endswith("Love's fire heats water, water cools not love.")
    assert "Shall I compare thee to a summer's day?" in task.text
    assert "#" not in task.vocab, "the provenance line is not training text"
    assert 40 < len(task.vocab) < 100
    assert task.source == "the bundled sonnets"


def test_user_text_file(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_bytes(("\ufeff" + "abc\r\nabd\r\n" * 10).encode("utf-8"))
    task = tasks.build(RunConfig(task="charlm", seq_len=5, text=str(path)))
    assert task.vocab == "\nabcd", "BOM dropped, CRLF normalised"
