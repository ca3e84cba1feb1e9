"""nn: a minimal neural-network toolkit on `autodiff`, with PyTorch's names.

    import nn, optim
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()

Layout: module.py (Module, Parameter, state and .npz files), layers.py (layers,
activations, containers), functional.py (stateless forms), losses.py, init.py,
metrics.py, rng.py (the shared random state), utils.py (parameters <-> one vector),
training.py (train_epoch / fit with a History, predict / evaluate with metrics).
"""

from . import functional, init, metrics, training, utils
from .layers import (
    GELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Dropout2d,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ModuleList,
    Quadratic,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .losses import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HalfMSELoss,
    HingeLoss,
    HuberLoss,
    MSELoss,
    NLLLoss,
)
from .metrics import accuracy, misclassification_error
from .module import IncompatibleKeys, Module, Parameter
from .rng import default_generator, manual_seed

__all__ = [
    "Module",
    "Parameter",
    "IncompatibleKeys",
    "Linear",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Flatten",
    "Dropout",
    "Sequential",
    "ModuleList",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Identity",
    "LeakyReLU",
    "Softplus",
    "Quadratic",
    "MSELoss",
    "HalfMSELoss",
    "CrossEntropyLoss",
    "NLLLoss",
    "BCEWithLogitsLoss",
    "HingeLoss",
    "HuberLoss",
    "LayerNorm",
    "Embedding",
    "GELU",
    "SiLU",
    "Softmax",
    "LogSoftmax",
    "Dropout2d",
    "functional",
    "init",
    "metrics",
    "training",
    "utils",
    "accuracy",
    "misclassification_error",
    "manual_seed",
    "default_generator",
]
