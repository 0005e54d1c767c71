"""Delayed recall: name the first token after T steps.

Every step carries a token from the same 8 classes, one-hot. The first token is the one to
recall; the T-1 after it are random distractors drawn from the same classes, so they look
exactly like the signal and only its position sets it apart. Nothing else marks the first step:
the model must carry the token through T-1 updates that each try to overwrite it.

Chance accuracy is 1/8, chance cross-entropy log 8.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gradscope.tasks.base import Task, one_hot

CLASSES = 8


class RecallTask(Task):
    name = "recall"
    description = "recall the first token after T-1 distractors"
    input_size = CLASSES
    output_size = CLASSES
    many_to_many = False
    metric_name = "accuracy"

    def __init__(self, seq_len: int):
        self.length = seq_len

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.randint(0, CLASSES, (batch, self.length), generator=generator)
        return one_hot(ids, CLASSES), ids[:, 0].clone()

    def per_sequence_loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.check_output(output, target)
        return F.cross_entropy(output, target, reduction="none")

    def metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        self.check_output(output, target)
        with torch.no_grad():
            return {
                "accuracy": float((output.argmax(dim=1) == target).float().mean()),
                "chance_accuracy": 1.0 / CLASSES,
                "baseline_loss": math.log(CLASSES),
            }
