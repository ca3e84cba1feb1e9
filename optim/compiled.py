"""`compile_step`: a PyTorch-style training step with its forward and backward compiled.

    step = optim.compile_step(lambda x, y: F.cross_entropy(model(x), y), optimizer)
    for x, y in loader:
        loss = step(x, y)      # zero_grad, loss.backward() (compiled by ad.jit), step()

The loss function's forward and `loss.backward()` run as one `ad.jit` program (the model's
parameters are read afresh on every call, gradients land in `.grad` as usual); the
optimizer's update is numpy code outside the engine, so it runs as it always does, after
the compiled part.  Parameters, gradients and optimizer state are exactly those of the
eager step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import autodiff as ad

from .optimizer import Optimizer


def compile_step(
    loss_fn: Callable[..., Any], optimizer: Optimizer, static_argnums: Any = ()
) -> Callable[..., Any]:
    """step(*batch) = optimizer.zero_grad(); loss = loss_fn(*batch); loss.backward();
    optimizer.step(); return loss (a Tensor), with loss_fn and the backward pass compiled.

    loss_fn returns a scalar Tensor, or a pair (loss, aux) whose aux (the scores, say) the
    step then returns with the loss.  Random numbers must be drawn through ad.replayed
    (nn's dropout does); the first replay is checked against eager and raises otherwise."""

    def forward_backward(*batch: Any) -> Any:
        out = loss_fn(*batch)
        loss = out[0] if isinstance(out, tuple) else out
        loss.backward()
        return out

    compiled = ad.jit(forward_backward, static_argnums=static_argnums)

    def step(*batch: Any) -> Any:
        optimizer.zero_grad()
        out = compiled(*batch)
        optimizer.step()
        return out

    step.cache_info = compiled.cache_info  # type: ignore[attr-defined]
    return step
