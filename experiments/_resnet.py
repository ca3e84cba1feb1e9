"""ResNet-18 for 32x32 images (the CIFAR variant: 3x3 stem, no max-pool), built from nn layers.

    model = resnet18(num_classes=10, width=64, rng=0)   # 11,173,962 parameters
    logits = model(x)                                    # x (N, 3, 32, 32) -> (N, 10)
    rows = layer_summary(model, (1, 3, 32, 32))          # [(name, kind, output shape, params)]

Architecture: conv3x3(3 -> w) + BN + ReLU, then four stages of two basic blocks with
widths w, 2w, 4w, 8w (stride 2 at the first block of stages 2-4), global average pooling
and a linear classifier.  A basic block is conv3x3-BN-ReLU-conv3x3-BN plus a shortcut
(identity, or conv1x1-BN when the shape changes), followed by ReLU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
import nn
from nn.rng import RngLike, resolve_rng

Trace = list  # of (name, kind, output shape, parameter count) rows


def _record(trace: Trace | None, name: str, module: nn.Module, out: Any) -> Any:
    if trace is not None:
        trace.append((name, type(module).__name__, tuple(out.shape), module.num_parameters()))
    return out


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a residual connection:
    (N, c_in, H, W) -> (N, c_out, H / stride, W / stride)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, rng: RngLike = None):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False, rng=rng)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, stride=1, padding=1, bias=False, rng=rng)
        self.bn2 = nn.BatchNorm2d(c_out)
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False, rng=rng), nn.BatchNorm2d(c_out)
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: Any, trace: Trace | None = None, prefix: str = "") -> Any:
        out = _record(trace, prefix + "conv1", self.conv1, self.conv1(x))
        out = _record(trace, prefix + "bn1", self.bn1, self.bn1(out))
        out = ad.relu(out)
        out = _record(trace, prefix + "conv2", self.conv2, self.conv2(out))
        out = _record(trace, prefix + "bn2", self.bn2, self.bn2(out))
        skip = self.shortcut(x)
        if not isinstance(self.shortcut, nn.Identity):
            _record(trace, prefix + "shortcut", self.shortcut, skip)
        return ad.relu(out + skip)


class ResNet18(nn.Module):
    """(N, 3, 32, 32) images -> (N, num_classes) logits.  `width` is the first stage's
    channel count (64 for the real ResNet-18; smaller for quick tests)."""

    def __init__(
        self, num_classes: int = 10, width: int = 64, in_channels: int = 3, rng: RngLike = None
    ):
        super().__init__()
        rng = resolve_rng(rng, "ResNet18")
        self.width = int(width)
        self.conv1 = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False, rng=rng)
        self.bn1 = nn.BatchNorm2d(width)
        widths = [width, 2 * width, 4 * width, 8 * width]
        c_in = width
        stages = []
        for i, c_out in enumerate(widths):
            stride = 1 if i == 0 else 2
            stages.append(
                nn.Sequential(
                    BasicBlock(c_in, c_out, stride, rng), BasicBlock(c_out, c_out, 1, rng)
                )
            )
            c_in = c_out
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.linear = nn.Linear(widths[-1], num_classes, rng=rng)

    def forward(self, x: Any, trace: Trace | None = None) -> Any:
        out = _record(trace, "conv1", self.conv1, self.conv1(x))
        out = _record(trace, "bn1", self.bn1, self.bn1(out))
        out = ad.relu(out)
        for s, stage in enumerate((self.layer1, self.layer2, self.layer3, self.layer4), 1):
            for b, block in enumerate(stage):
                out = block(out, trace, f"layer{s}.{b}.")
                if trace is not None:
                    trace.append(
                        (f"layer{s}.{b}", "BasicBlock", tuple(out.shape), block.num_parameters())
                    )
        out = ad.mean(out, axis=(2, 3))  # global average pooling: (N, C, H, W) -> (N, C)
        if trace is not None:
            trace.append(("avgpool", "GlobalAvgPool", tuple(out.shape), 0))
        return _record(trace, "linear", self.linear, self.linear(out))


def resnet18(num_classes: int = 10, width: int = 64, rng: RngLike = None) -> ResNet18:
    return ResNet18(num_classes=num_classes, width=width, rng=rng)


def layer_summary(
    model: ResNet18, input_shape: tuple = (1, 3, 32, 32)
) -> list[tuple[str, str, tuple, int]]:
    """(name, kind, output shape, parameters) per layer, from one forward pass in eval mode
    on zeros of `input_shape` (the model's mode is restored afterwards)."""
    was_training = model.training
    model.eval()
    trace: Trace = []
    try:
        with ad.no_grad():
            model(np.zeros(input_shape, np.float32), trace=trace)
    finally:
        model.train(was_training)
    return trace
