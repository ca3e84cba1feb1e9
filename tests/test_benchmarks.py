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


def test_cnn_blas_floor_lists_the_steps_matrix_products():
    import nn
    from benchmarks import cnn

    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(64, 5))
    products = cnn.blas_products(model, np.zeros((2, 3, 4, 4), np.float32))
    # conv (first layer: no input gradient): forward, weight gradient; linear: all three
    assert products == [
        ((4, 27), (27, 32), False),
        ((4, 32), (32, 27), True),
        ((2, 64), (64, 5), True),
        ((5, 2), (2, 64), False),
        ((2, 5), (5, 64), False),
    ]
    seconds, gflop = cnn.blas_floor(products, repeats=2)
    assert seconds > 0 and gflop == 2 * (4 * 27 * 32 * 2 + 2 * 64 * 5 * 3) / 1e9
