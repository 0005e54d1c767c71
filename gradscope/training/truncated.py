"""The recurrent training step's forward pass, with truncated BPTT when a window is set.

Truncated BPTT carries the state forward across windows of k steps but stops the gradient at
each window's start, so the error signal reaches at most k steps back.
"""
from __future__ import annotations

import torch


def truncated_forward(model, inputs: torch.Tensor, window: int) -> torch.Tensor:
    """model(inputs) through windows of `window` timesteps (0, or one at least T: full BPTT)."""
    if not window or window >= inputs.shape[1]:
        return model(inputs)
    state, outputs = None, []
    starts = list(range(0, inputs.shape[1], window))
    for index, start in enumerate(starts):
        # a many-to-one task reads only the last window: the others just carry the state
        needs_graph = model.many_to_many or index == len(starts) - 1
        with torch.set_grad_enabled(needs_graph and torch.is_grad_enabled()):
            output, state = model.run(inputs[:, start:start + window], state)
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        outputs.append(output)
    return torch.cat(outputs, dim=1) if model.many_to_many else outputs[-1]
