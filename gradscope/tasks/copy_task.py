"""The copy-memory task (Hochreiter & Schmidhuber 1997; the form of Arjovsky et al. 2016).

Input ids: k symbols from {1..8}, then T-1 blanks (0), the delimiter (9), then k blanks; one-hot
over 10 classes, so the sequence has T + 2k steps. At the last k steps the model must output
the k symbols in order. Only those k positions are scored.

A model without memory can do no better than guess among the 8 symbols there: cross-entropy
log 8 per symbol, which is the `baseline_loss`. A loss stuck at about 2.08 means nothing has
crossed the delay.
"""
from __future__ import annotations

import math

import torch

from gradscope.tasks.base import Task, cross_entropy_per_sequence, one_hot

ALPHABET = 8
BLANK = 0
DELIMITER = 9
CLASSES = 10


class CopyTask(Task):
    name = "copy"
    description = "reproduce k symbols after a delay of T blanks"
    input_size = CLASSES
    output_size = CLASSES
    many_to_many = True
    metric_name = "accuracy"

    def __init__(self, seq_len: int, symbols: int):
        self.delay = seq_len
        self.symbols = symbols
        self.length = seq_len + 2 * symbols

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        k, T = self.symbols, self.delay
        symbols = torch.randint(1, ALPHABET + 1, (batch, k), generator=generator)
        ids = torch.full((batch, self.length), BLANK, dtype=torch.int64)
        ids[:, :k] = symbols
        ids[:, k + T - 1] = DELIMITER
        return one_hot(ids, CLASSES), symbols

    def per_sequence_loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.check_output(output, target)
        return cross_entropy_per_sequence(output[:, -self.symbols:], target)

    def metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        self.check_output(output, target)
        with torch.no_grad():
            correct = output[:, -self.symbols:].argmax(dim=2) == target
            return {
                "accuracy": float(correct.float().mean()),
                "sequence_accuracy": float(correct.all(dim=1).float().mean()),
                "baseline_loss": self.symbols * math.log(ALPHABET) / self.symbols,
            }
