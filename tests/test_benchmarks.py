"""benchmarks.engine compares like with like: the engine's steps (eager, compiled, functional)
and the hand-written numpy steps compute the same losses step after step."""

import numpy as np
import pytest

from benchmarks import engine


@pytest.mark.parametrize("batch", [1, 16])
def test_mlp_steps_agree(batch):
    steps = [
        engine.mlp_steps(batch)[0],
        engine.mlp_steps(batch, compiled=True)[0],
        engine.functional_step(batch),
        engine.mlp_steps(batch)[1],  # numpy, (in, out) weights
        engine.numpy_mlp_step(batch, out_in=True),  # numpy, nn.Linear's (out, in) weights
    ]
    losses = np.array([[float(np.asarray(step())) for step in steps] for _ in range(4)])
    assert losses[-1, 0] < losses[0, 0]  # the steps train
    np.testing.assert_allclose(losses, losses[:, :1].repeat(len(steps), axis=1), rtol=2e-5)


def test_logreg_steps_agree():
    steps = [
        engine.logreg_steps()[0],
        engine.logreg_steps(compiled=True)[0],
        engine.functional_step(None),
        engine.logreg_steps()[1],
    ]
    losses = np.array([[float(np.asarray(step())) for step in steps] for _ in range(4)])
    assert losses[-1, 0] < losses[0, 0]
    np.testing.assert_allclose(losses, losses[:, :1].repeat(len(steps), axis=1), rtol=2e-5)
