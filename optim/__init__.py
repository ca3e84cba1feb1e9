"""optim: optimizers, learning-rate schedules and gradient clipping for `nn` models.

    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.7, decay=1e-3)
    sched = optim.ExponentialLR(opt, gamma=0.95)
    ...; opt.zero_grad(); loss.backward(); optim.clip_grad_norm_(model.parameters(), 5.0)
    opt.step(); sched.step()   # per epoch
"""
from .adam import Adam
from .clip import clip_grad_norm_
from .optimizer import Optimizer
from .schedules import (ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LRScheduler,
                        OneCycleLR, StepLR, WarmupDecayLR)
from .sgd import SGD

from . import schedules as lr_scheduler  # PyTorch's module name for the schedules

__all__ = ["Optimizer", "SGD", "Adam", "LRScheduler", "ConstantLR", "ExponentialLR", "StepLR",
           "CosineAnnealingLR", "WarmupDecayLR", "OneCycleLR", "LambdaLR", "clip_grad_norm_",
           "lr_scheduler"]
