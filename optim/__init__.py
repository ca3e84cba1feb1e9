"""optim: optimizers, learning-rate schedules and gradient clipping for `nn` models.

    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.7, decay=1e-3)
    sched = optim.ExponentialLR(opt, gamma=0.95)
    ...; opt.zero_grad(); loss.backward(); optim.clip_grad_norm_(model.parameters(), 5.0)
    opt.step(); sched.step()   # per epoch

Optimizers: SGD, Adam, AdamW, RMSprop, Adagrad (PyTorch's update rules and state names).
`compile_step(loss_fn, optimizer)`: the same step with forward and backward compiled (ad.jit).
`optim.functional`: sgd / adam as loops over parameter pytrees (params, losses = ...).
Schedules: ConstantLR, ExponentialLR, StepLR, CosineAnnealingLR, WarmupDecayLR,
OneCycleLR, LambdaLR, and ReduceLROnPlateau (`sched.step(val_loss)`).
"""

from . import functional
from . import schedules as lr_scheduler  # PyTorch's module name for the schedules
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_
from .compiled import compile_step
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .schedules import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
    WarmupDecayLR,
)
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "LRScheduler",
    "ConstantLR",
    "ExponentialLR",
    "StepLR",
    "CosineAnnealingLR",
    "WarmupDecayLR",
    "OneCycleLR",
    "LambdaLR",
    "ReduceLROnPlateau",
    "clip_grad_norm_",
    "lr_scheduler",
    "compile_step",
    "functional",
]
