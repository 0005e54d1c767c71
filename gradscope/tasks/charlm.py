"""A character-level language model on a text: the user's file or the bundled sonnets.

The vocabulary is the sorted set of characters in the text, so ids are stable for a given file
and a recorded run rebuilds the same model head. A batch is B random windows of T characters;
the target at each position is the next character. The loss is the mean cross-entropy over
all T positions, reported as bits per character.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from gradscope.bundled import resource_path
from gradscope.config import ConfigError
from gradscope.tasks.base import Task, cross_entropy_per_sequence, one_hot
from gradscope.tasks.files import read_text_file

BUNDLED_TEXT = resource_path("sonnets.txt")

#: one-hot inputs and the output head are V wide; a text in a script with thousands of
#: characters would make both huge, and a small RNN could not learn it anyway
MAX_VOCAB = 512

StepFn = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]


def load_text(path: str | None) -> tuple[str, str]:
    """(text, source name) for --text, or the bundled sonnets when path is None."""
    if path is not None:
        return read_text_file(path, "text"), str(path)
    if not BUNDLED_TEXT.is_file():
        raise ConfigError("text", f"the bundled sonnets are missing ({BUNDLED_TEXT}); "
                                  "give a text file with --text")
    text = read_text_file(BUNDLED_TEXT, "text")
    # The bundled file opens with a provenance note; keep it out of the training text.
    lines = text.split("\n")
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n"), "the bundled sonnets"


class CharLMTask(Task):
    name = "charlm"
    description = "predict the next character of a text"
    many_to_many = True
    metric_name = "bits_per_char"

    def __init__(self, text: str, seq_len: int, source: str = "the text", temperature: float = 0.8):
        if len(text) < seq_len + 1:
            raise ConfigError("text", f"{source} has only {len(text)} characters; a sequence length "
                                      f"of {seq_len} needs at least {seq_len + 1}")
        # Counting over the code-point range is linear; np.unique would sort 50 M characters.
        # The text is taken a chunk at a time: as one UTF-32 copy, a 50 MB text would cost 200 MB.
        all_counts = np.zeros(0, dtype=np.int64)
        for codepoints in _codepoint_chunks(text):
            counts = np.bincount(codepoints)
            if len(counts) > len(all_counts):
                counts[:len(all_counts)] += all_counts
                all_counts = counts
            else:
                all_counts[:len(counts)] += counts
        vocab_codepoints = np.flatnonzero(all_counts)
        counts = all_counts[vocab_codepoints]
        if len(vocab_codepoints) > MAX_VOCAB:
            raise ConfigError("text", f"{source} uses {len(vocab_codepoints)} different characters; "
                                      f"the character model handles up to {MAX_VOCAB}")
        self.source = source
        self.text = text
        self.vocab = "".join(map(chr, vocab_codepoints.tolist()))
        self._index = {char: i for i, char in enumerate(self.vocab)}
        # int16 keeps a 50 MB text at 100 MB instead of 400 MB; windows are widened on use.
        lookup = np.zeros(len(all_counts), dtype=np.int16)
        lookup[vocab_codepoints] = np.arange(len(vocab_codepoints), dtype=np.int16)
        ids = np.empty(len(text), dtype=np.int16)
        at = 0
        for codepoints in _codepoint_chunks(text):
            ids[at:at + len(codepoints)] = lookup[codepoints]
            at += len(codepoints)
        self.ids = torch.from_numpy(ids)
        frequencies = counts / counts.sum()
        #: the bits per character of the best model that ignores context
        self.unigram_bits_per_char = float(-(frequencies * np.log2(frequencies)).sum())
        self.length = seq_len
        self.input_size = self.output_size = len(self.vocab)
        self.temperature = temperature

    # -- vocabulary --------------------------------------------------------------------------

    def encode(self, text: str) -> torch.Tensor:
        unknown = sorted({char for char in text if char not in self._index})
        if unknown:
            raise ValueError(f"characters not in the vocabulary of {self.source}: "
                             + ", ".join(repr(char) for char in unknown))
        return torch.tensor([self._index[char] for char in text], dtype=torch.int64)

    def decode(self, ids: torch.Tensor | Iterable[int]) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.reshape(-1).tolist()
        return "".join(self.vocab[int(i)] for i in ids)

    # -- data and scoring --------------------------------------------------------------------

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        T = self.length
        starts = torch.randint(0, len(self.ids) - T, (batch, 1), generator=generator)
        windows = self.ids[starts + torch.arange(T + 1)].to(torch.int64)
        return one_hot(windows[:, :T], self.input_size), windows[:, 1:].contiguous()

    def per_sequence_loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.check_output(output, target)
        return cross_entropy_per_sequence(output, target)

    def metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        with torch.no_grad():
            loss = float(self.loss(output, target))
            return {
                "bits_per_char": loss / math.log(2),
                "accuracy": float((output.argmax(dim=2) == target).float().mean()),
                "unigram_bits_per_char": self.unigram_bits_per_char,
            }

    # -- sampling ----------------------------------------------------------------------------

    def generate(self, step_fn: StepFn, length: int, temperature: float,
                 generator: torch.Generator, prime: str | None = None) -> str:
        """Sample `length` characters after `prime` (not included in the result).

        step_fn(x_onehot [1, 1, V], state) -> (logits [1, 1, V], state) advances the model one
        character; the state is the caller's business and starts as None. The default prime is
        a newline, so that samples start at the beginning of a line.
        """
        if prime is None:
            prime = "\n" if "\n" in self._index else self.vocab[0]
        if not prime:
            raise ValueError("the prime needs at least one character")
        prime_ids = self.encode(prime).tolist()
        state: Any = None
        sampled: list[int] = []
        with torch.no_grad():
            for char_id in prime_ids:
                logits, state = step_fn(self._step_input(char_id), state)
            for position in range(length):
                char_id = self._pick(logits, temperature, generator)
                sampled.append(char_id)
                if position + 1 < length:
                    logits, state = step_fn(self._step_input(char_id), state)
        return self.decode(sampled)

    def _step_input(self, char_id: int) -> torch.Tensor:
        x = torch.zeros(1, 1, self.input_size)
        x[0, 0, char_id] = 1.0
        return x

    def _pick(self, logits: torch.Tensor, temperature: float, generator: torch.Generator) -> int:
        logits = logits.detach().to("cpu", torch.float64).reshape(-1)
        if logits.numel() != self.output_size:
            raise ValueError(f"step_fn returned {logits.numel()} logits, expected {self.output_size}")
        if temperature <= 0:
            return int(torch.nan_to_num(logits, nan=-math.inf).argmax())
        probabilities = torch.softmax(logits / temperature, dim=0)
        if not bool(torch.isfinite(probabilities).all()) or float(probabilities.sum()) <= 0:
            # A diverged model (NaN or inf logits) is part of the show; sample uniformly
            # rather than crash the sample panel.
            probabilities = torch.full_like(probabilities, 1.0 / self.output_size)
        return int(torch.multinomial(probabilities, 1, generator=generator))


def _codepoint_chunks(text: str, size: int = 1 << 20):
    """The text's code points, a million at a time (lone surrogates kept, as they were read)."""
    for start in range(0, len(text), size):
        yield np.frombuffer(text[start:start + size].encode("utf-32-le", "surrogatepass"), dtype="<u4")
