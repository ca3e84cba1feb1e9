"""End to end: small networks trained with nn + optim reach 100% training accuracy within a
fixed budget of steps (data generated here)."""

import numpy as np

import nn
import nn.functional as F
import optim


def spiral(points_per_class=60, classes=3, seed=0):
    """Interleaved noisy spiral arms in 2-D, one per class."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.1, 1.0, points_per_class)
        theta = np.linspace(0, 4, points_per_class) + c * 2 * np.pi / classes
        theta = theta + rng.normal(0, 0.1, points_per_class)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(points_per_class, c))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def train(model, opt, x, y, steps, loss_fn=F.cross_entropy):
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.data)


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
XOR_Y = np.array([0, 1, 1, 0])


def test_mlp_learns_xor_with_cross_entropy_and_momentum():
    model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 2, rng=1))
    loss = train(model, optim.SGD(model.parameters(), lr=0.5, momentum=0.9), XOR_X, XOR_Y, 200)
    assert nn.accuracy(model(XOR_X), XOR_Y) == 1.0
    assert loss < 0.05


def test_mlp_learns_signed_xor_with_mse_and_sign_outputs():
    # the {-1, +1} parity of 002_34d55ca37461e66e.txt: y = 1 iff both coordinates are equal
    x = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], np.float32)
    y = np.array([[1], [-1], [-1], [1]], np.float32)
    model = nn.Sequential(nn.Linear(2, 4, rng=2), nn.Tanh(), nn.Linear(4, 1, rng=3))
    train(model, optim.Adam(model.parameters(), lr=0.05), x, y, 300, F.half_mse_loss)
    assert nn.misclassification_error(model(x), y) == 0.0


def test_mlp_fits_a_spiral_to_full_training_accuracy():
    x, y = spiral()
    model = nn.Sequential(nn.Linear(2, 64, rng=0), nn.ReLU(), nn.Linear(64, 3, rng=1))
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = optim.StepLR(opt, step_size=400, gamma=0.5)
    for _ in range(800):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    assert nn.accuracy(model(x), y) == 1.0
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_small_cnn_training_reduces_the_loss_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 1, 8, 8)).astype(np.float32)
    y = np.arange(8) % 2
    x[y == 1, :, :4] += 1.5  # class 1 is brighter at the top
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding="same", rng=0),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25, rng=1),
        nn.Flatten(),
        nn.Linear(64, 2, rng=2),
    )
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.7, decay=1e-3)
    model.eval()
    start = float(F.cross_entropy(model(x), y).data)
    model.train()
    train(model, opt, x, y, 60)
    model.eval()
    assert float(F.cross_entropy(model(x), y).data) < 0.5 * start
    assert nn.accuracy(model(x), y) == 1.0
    model.save(tmp_path / "cnn.npz")
    copy = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding="same"),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64, 2),
    ).eval()
    copy.load(tmp_path / "cnn.npz")
    np.testing.assert_array_equal(copy(x).data, model(x).data)
