"""The Task contract that the trainer and the probes rely on.

A task makes batches, scores a model's output and reports metrics. Everything is CPU torch,
float32 inputs, and random only through the `torch.Generator` the caller passes, so that a
seed replays the exact same data.

The loss of a batch is *defined* as the mean of per-sequence losses (`per_sequence_loss`), and
each sequence's loss is a mean over its scored positions. The probes depend on this: they
split `B * loss` into per-sequence contributions.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


class Task:
    name: str = ""
    description: str = ""
    input_size: int
    output_size: int
    length: int
    many_to_many: bool = False
    metric_name: str = ""

    # -- data --------------------------------------------------------------------------------

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def probe_batch(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        # A private generator: the probe batch must not move the training stream, and the
        # same seed must give the same probe sequences in a live run and in its replay.
        generator = torch.Generator().manual_seed(int(seed))
        return self.sample(n, generator)

    # -- scoring -----------------------------------------------------------------------------

    def per_sequence_loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """[B] losses, each a mean over that sequence's scored positions."""
        raise NotImplementedError

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.per_sequence_loss(output, target).mean()

    def metrics(self, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------------

    def output_shape(self, batch: int) -> tuple[int, ...]:
        if self.many_to_many:
            return (batch, self.length, self.output_size)
        return (batch, self.output_size)

    def check_output(self, output: torch.Tensor, target: torch.Tensor) -> None:
        # A silently broadcast loss (say [B, T, 1] against [B, 1]) trains on nonsense and
        # looks plausible; fail loudly instead.
        expected = self.output_shape(target.shape[0])
        if tuple(output.shape) != expected:
            raise ValueError(
                f"{self.name}: model output has shape {tuple(output.shape)}, expected {expected}")

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.name}: length={self.length} "
                f"input_size={self.input_size} output_size={self.output_size}>")


def one_hot(ids: torch.Tensor, classes: int) -> torch.Tensor:
    return F.one_hot(ids, classes).to(torch.float32)


def cross_entropy_per_sequence(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over positions: logits [B, P, C], target [B, P] -> [B]."""
    per_position = F.cross_entropy(logits.transpose(1, 2), target, reduction="none")
    return per_position.mean(dim=1)
