"""Each probe image's own gradients: dL_i/d(output of every layer) and dL_i/dW of every conv
and dense weight, where L_i is image i's cross entropy (the batch loss is their mean).

What "image i's own gradient" means, and how it is computed:

- **Without batch norm** the images of a batch do not interact: L_i depends on image i
  alone. torch.func's vmap(grad) of one image's loss, through `functional_call` on the
  model's weights, gives every image its own gradient in one batched pass (in chunks of
  images when their gradients would pass CHUNK_BYTES).
- **With batch norm** the probe runs the model in train mode on the probe batch, as a
  training step sees it: every image is normalised by the batch's mean and variance. L_i then
  depends on every image's activations through those statistics, and image i's gradient is
  that of its own loss L_i through them: dL_i/dW, and dL_i/d(the layer's output for the whole
  batch), all of whose slices may be nonzero (without batch norm only image i's slice is). It
  takes one backward pass per image, batched over images by `is_grads_batched`. The running
  statistics are updated on copies only.

Norms are float64 (`_norm`): a vanishing gradient's components near 1e-20 square below
float32's range.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

# the most bytes of per-image gradients held at once; a chunk of images at a time beyond it
CHUNK_BYTES = 64 * 2**20


@dataclass
class PerImageGradients:
    layer_grad_norm: torch.Tensor    # [B, L] float64: |dL_i/d(output of layer l)|
    weight_grad_norm: torch.Tensor   # [B, L_w] float64: |dL_i/dW_l|


class _Traced(nn.Module):
    """functional_call runs a module's forward; this one's forward is the model's trace."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, images, offsets):
        return self.model.trace(images, offsets)


def _state(traced: _Traced) -> dict[str, torch.Tensor]:
    """The weights as they are, detached, and copies of the buffers: a train-mode forward
    updates batch norm's running statistics, and only the copies may change."""
    state = {name: value.detach() for name, value in traced.named_parameters()}
    state.update({name: value.detach().clone() for name, value in traced.named_buffers()})
    return state


def _chunk(per_image_floats: int, batch: int) -> int:
    return max(1, min(batch, CHUNK_BYTES // max(1, 4 * per_image_floats)))


def _norm(rows: torch.Tensor) -> torch.Tensor:
    """The norm of each row, as float64. float32's own reduction costs a tenth of a float64
    copy of the per-image gradients (LeNet's: 6M numbers a probe batch of 64) and is exact to
    float32 precision unless its squares underflow (a vanishing gradient's components near
    1e-20 square below float32's range, or flush to zero) or overflow: those rows are
    measured again in float64."""
    norm = torch.linalg.vector_norm(rows, dim=-1).double()
    if rows.dtype == torch.float64:
        return norm
    # lost squares below 1.2e-38 each must stay below 1e-7 of the squared norm
    floor = math.sqrt(rows.shape[-1] * 1.2e-38 / 1e-7)
    doubtful = ~torch.isfinite(norm) | (norm < floor)
    if bool(doubtful.any()):
        norm[doubtful] = torch.linalg.vector_norm(rows[doubtful].double(), dim=-1)
    return norm


def _norms(tensors, rows: int) -> torch.Tensor:
    """[rows, len(tensors)]: the norm of each tensor's slice per row (its first axis)."""
    if not tensors:
        return torch.zeros(rows, 0, dtype=torch.float64)
    return torch.stack([_norm(t.reshape(rows, -1)) for t in tensors], dim=-1)


def per_image_gradients(model, images: torch.Tensor, labels: torch.Tensor) -> PerImageGradients:
    """The model's training mode must already be what the probe means (train mode)."""
    traced = _Traced(model)
    weight_names = ["model." + name for name in model.weight_names()]
    state = _state(traced)
    shapes = [tuple(shape.shape) for shape in model.layer_shapes()]
    if model.batch_norm:
        return _coupled(traced, state, weight_names, shapes, images, labels)
    return _independent(traced, state, weight_names, shapes, images, labels)


def _independent(traced, state, weight_names, shapes, images, labels) -> PerImageGradients:
    weights = {name: state[name] for name in weight_names}
    fixed = {name: value for name, value in state.items() if name not in weights}

    def loss(weights, offsets, image, label):
        trace = functional_call(traced, {**fixed, **weights}, (image[None], [o[None] for o in offsets]))
        return F.cross_entropy(trace.logits, label[None])

    per_image = vmap(grad(loss, argnums=(0, 1)), in_dims=(None, 0, 0, 0))
    batch = images.shape[0]
    floats = sum(value.numel() for value in weights.values()) + sum(math.prod(shape) for shape in shapes)
    chunk = _chunk(floats, batch)
    layer_rows, weight_rows = [], []
    for start in range(0, batch, chunk):
        rows = min(chunk, batch - start)
        offsets = [images.new_zeros((rows,) + shape) for shape in shapes]
        weight_grads, layer_grads = per_image(weights, offsets, images[start:start + rows],
                                              labels[start:start + rows])
        weight_rows.append(_norms([weight_grads[name] for name in weight_names], rows))
        layer_rows.append(_norms(layer_grads, rows))
    return PerImageGradients(torch.cat(layer_rows), torch.cat(weight_rows))


def _coupled(traced, state, weight_names, shapes, images, labels) -> PerImageGradients:
    batch = images.shape[0]
    leaves = dict(state)
    for name in weight_names:
        leaves[name] = state[name].detach().requires_grad_()
    offsets = [images.new_zeros((batch,) + shape, requires_grad=True) for shape in shapes]
    with torch.enable_grad():
        trace = functional_call(traced, leaves, (images, offsets))
        losses = F.cross_entropy(trace.logits, labels, reduction="none")
    targets = [leaves[name] for name in weight_names] + offsets
    floats = sum(target.numel() for target in targets)
    chunk = _chunk(floats, batch)
    identity = torch.eye(batch, dtype=losses.dtype, device=losses.device)
    layer_rows, weight_rows = [], []
    for start in range(0, batch, chunk):
        rows = identity[start:start + chunk]
        grads = torch.autograd.grad(losses, targets, grad_outputs=rows, is_grads_batched=True,
                                    retain_graph=start + chunk < batch)
        weight_rows.append(_norms(grads[:len(weight_names)], len(rows)))
        layer_rows.append(_norms(grads[len(weight_names):], len(rows)))
    return PerImageGradients(torch.cat(layer_rows), torch.cat(weight_rows))


def probe_forward(model, images: torch.Tensor):
    """The model's trace of the probe batch, without autograd, in the mode the model is in,
    updating batch norm's running statistics only on copies."""
    traced = _Traced(model)
    with torch.no_grad():
        return functional_call(traced, _state(traced), (images, None))
