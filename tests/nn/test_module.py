"""nn.Module: registration, traversal, modes, state_dict and .npz files, repr."""

import zipfile

import numpy as np
import pytest

import autodiff as ad
import nn


class Net(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        self.fc1 = nn.Linear(3, 4, rng=seed)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 2, bias=False, rng=seed + 1)
        self.scale = nn.Parameter(np.ones(2, np.float32))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def _values(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


# ----------------------------------------------------------------- registration
def test_parameters_registered_in_assignment_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert [n for n, _ in Net().named_children()] == ["fc1", "act", "fc2"]
    assert sum(p.size for p in Net().parameters()) == 3 * 4 + 4 + 4 * 2 + 2


def test_absent_bias_is_declared_but_not_a_parameter():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_shared_parameter_listed_once_but_saved_under_each_name():
    a = nn.Linear(2, 2)
    model = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_assigning_a_plain_tensor_to_a_parameter_slot_is_an_error():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        layer.weight = ad.tensor(np.zeros((2, 2)))
    layer.bias = None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_assignment_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_reassigning_replaces_and_deleting_unregisters():
    model = Net()
    model.fc1 = nn.Linear(3, 4)
    assert [n for n, _ in model.named_parameters()][:3] == ["scale", "fc1.weight", "fc1.bias"]
    del model.fc2
    assert "fc2.weight" not in dict(model.named_parameters())
    with pytest.raises(AttributeError, match="no attribute 'fc2'"):
        _ = model.fc2


def test_parameter_requires_float_and_grad():
    p = nn.Parameter(np.zeros(3, np.float32))
    assert p.requires_grad and p.is_leaf and isinstance(p, ad.Tensor)
    assert repr(p).startswith("Parameter containing:")
    with pytest.raises(TypeError, match="floating point"):
        nn.Parameter(np.arange(3))


# ------------------------------------------------------------------- state
def test_zero_grad_train_eval():
    model = Net()
    (model(np.ones((2, 3), np.float32)) ** 2).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_to_float64_casts_every_parameter():
    model = Net().to(np.float64)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert model(np.ones((1, 3))).dtype == np.float64
    with pytest.raises(TypeError):
        model.to(np.int32)


def test_state_dict_is_a_copy():
    model = Net()
    state = model.state_dict()
    state["fc1.weight"][...] = 123.0
    assert not np.any(model.fc1.weight.data == 123.0)


def test_load_state_dict_round_trip_reproduces_outputs():
    src, dst = Net(seed=0), Net(seed=5)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    assert not np.allclose(src(x).data, dst(x).data)
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(src(x).data, dst(x).data)
    assert dst.fc1.weight.dtype == np.float32


def test_load_state_dict_casts_to_parameter_dtype():
    model = Net()
    state = {k: v.astype(np.float64) for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert model.fc1.weight.dtype == np.float32


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.pop("fc1.bias"), r"missing keys: \['fc1.bias'\]"),
        (lambda s: s.update(extra=np.zeros(1)), r"unexpected keys: \['extra'\]"),
        (
            lambda s: s.update({"fc2.weight": np.zeros((4, 2))}),
            r"shape mismatch for 'fc2.weight': the model has \(2, 4\), the state dict has \(4, 2\)",
        ),
        (lambda s: s.update({"scale": np.array(["a", "b"])}), "not a real number type"),
        (lambda s: s.update({"scale": np.array([1j, 2])}), "not a real number type"),
    ],
)
def test_bad_state_dict_raises_and_leaves_model_unchanged(edit, message):
    model, other = Net(seed=0), Net(seed=3)
    before = _values(model)
    state = other.state_dict()
    edit(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    _assert_same(before, _values(model))


def test_non_strict_load_reports_and_loads_the_rest():
    model, other = Net(seed=0), Net(seed=3)
    state = other.state_dict()
    del state["scale"]
    state["bogus"] = np.zeros(2)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == ["bogus"]
    np.testing.assert_array_equal(model.fc1.weight.data, other.fc1.weight.data)


def test_load_while_parameters_are_saved_by_a_live_graph():
    model, other = Net(seed=0), Net(seed=3)
    out = model(np.ones((1, 3), np.float32)).sum()  # graph alive: parameter arrays read-only
    assert not model.fc1.weight.data.flags.writeable
    model.load_state_dict(other.state_dict())
    np.testing.assert_array_equal(model.fc1.weight.data, other.fc1.weight.data)
    out.backward()  # the old graph still differentiates with the values it saw


# ---------------------------------------------------------------------- files
def test_save_load_round_trip(tmp_path):
    path = tmp_path / "model.npz"
    src, dst = Net(seed=0), Net(seed=7)
    src.save(path)
    with np.load(path, allow_pickle=False) as archive:  # plain arrays, no pickle
        assert sorted(archive.files) == sorted(src.state_dict())
    dst.load(path)
    _assert_same(_values(src), _values(dst))
    assert not any(p.name.startswith(".tmp") for p in tmp_path.iterdir())


def test_save_overwrites_atomically(tmp_path):
    path = tmp_path / "model.npz"
    Net(seed=0).save(path)
    Net(seed=1).save(path)
    model = Net(seed=2)
    model.load(path)
    _assert_same(_values(Net(seed=1)), _values(model))


@pytest.mark.parametrize("kind", ["garbage", "truncated", "npy", "other-architecture"])
def test_unreadable_or_mismatched_file_is_a_clear_error(tmp_path, kind):
    path = tmp_path / "bad.npz"
    if kind == "garbage":
        path.write_bytes(b"this is not an archive at all" * 10)
    elif kind == "truncated":
        Net().save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    else:
        nn.Sequential(nn.Linear(3, 5)).save(path)
    model = Net()
    before = _values(model)
    with pytest.raises(ValueError, match=r"load|npz|archive") as info:
        model.load(path)
    assert "unchanged" in str(info.value)
    _assert_same(before, _values(model))


def test_file_with_corrupted_member_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.npz"
    Net().save(path)
    with zipfile.ZipFile(path) as z:
        info = z.infolist()[0]
    raw = bytearray(path.read_bytes())
    name_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    last_data_byte = info.header_offset + 30 + name_len + extra_len + info.file_size - 1
    raw[last_data_byte] ^= 0xFF  # one value changed: the member's CRC no longer matches
    path.write_bytes(bytes(raw))
    model = Net()
    before = _values(model)
    with pytest.raises(ValueError, match="damaged .npz archive.*unchanged"):
        model.load(path)
    _assert_same(before, _values(model))


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        Net().load(tmp_path / "nope.npz")


# ----------------------------------------------------------------------- repr
def test_repr_lists_layers_and_parameter_counts():
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 1)))
    text = repr(model)
    assert "(0): Linear(in_features=2, out_features=8, bias=True)  # 24 params" in text
    assert "(1): ReLU()" in text
    assert "(0): Linear(in_features=8, out_features=1, bias=True)  # 9 params" in text
    assert text.rstrip().endswith("# 33 params in total")
    assert repr(nn.Linear(2, 3)) == "Linear(in_features=2, out_features=3, bias=True)  # 9 params"
    assert "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding='same')" in repr(
        nn.Conv2d(3, 4, 3, padding="same")
    )
