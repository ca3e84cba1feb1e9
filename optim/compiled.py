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

from typing import Any, Callable

import autodiff as ad

from .optimizer import Optimizer


def compile_step(loss_fn: Callable[..., Any], optimizer: Optimizer,
                 static_argnums: Any = ()) -> Callable[..., Any]:
    """step(*batch) = optimizer.zero_grad(); loss = loss_fn(*batch); loss.backward();
    optimizer.step(); return loss (a Tensor), with loss_fn and the backward pass compiled.

    loss_fn must return a scalar Tensor and must not draw random numbers (a dropout
    layer's mask would be frozen: the first replay is checked and raises if so)."""

    def forward_backward(*batch: Any) -> Any:
        loss = loss_fn(*batch)
        loss.backward()
        return loss

    compiled = ad.jit(forward_backward, static_argnums=static_argnums)

    def step(*batch: Any) -> Any:
        optimizer.zero_grad()
        loss = compiled(*batch)
        optimizer.step()
        return loss

    step.cache_info = compiled.cache_info  # type: ignore[attr-defined]
    return step
