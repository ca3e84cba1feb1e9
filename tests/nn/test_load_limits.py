"""Module.load / load_state_dict (issue 24): unexpected keys are not read, values are finite,
and the dtype policy is PyTorch's (values are cast into the existing parameter's dtype)."""

import io
import tracemalloc
import zipfile

import numpy as np
import pytest

import autodiff as ad
import nn


def _model():
    return nn.Sequential(nn.Linear(3, 2, rng=0))


def _values(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def _refuses_weight(value, message):
    """load_state_dict refuses, with a ValueError matching message, a state whose '0.weight'
    is value."""
    model = _model()
    state = model.state_dict()
    state["0.weight"] = value
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)


def _npy_header(shape, descr="<f4") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def _add_zeros_member(path, name, n_float32):
    """Append member `name` holding n float32 zeros, deflated and written in 1 MiB pieces."""
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w", force_zip64=True) as member:
            member.write(_npy_header((n_float32,)))
            block = bytes(1 << 20)
            for _ in range(n_float32 * 4 // len(block)):
                member.write(block)


N_BIG = 16 << 20  # 64 MiB of float32 zeros, about 64 KiB once deflated


def test_unexpected_key_is_refused_before_its_array_is_read(tmp_path):
    path = tmp_path / "m.npz"
    _model().save(path)
    _add_zeros_member(path, "extra.npy", N_BIG)
    assert path.stat().st_size < (1 << 20)
    model = _model()
    before = _values(model)
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError,
            match=r"Module.load: .*m\.npz': cannot load into Sequential: unexpected keys: "
            r"\['extra'\] \(nothing was read; the module is unchanged\)",
        ):
            model.load(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        result = model.load(path, strict=False)  # reported, still never read
        peak = max(peak, tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    assert peak < (8 << 20), f"loading allocated {peak} bytes: the 64 MiB member was read"
    assert result.unexpected_keys == ["extra"] and result.missing_keys == []
    for key, value in before.items():
        np.testing.assert_array_equal(model.state_dict()[key], value)


def test_member_with_a_wrong_shape_is_refused_from_its_header(tmp_path):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("0.weight.npy", _npy_header((10**9,)) + bytes(8))  # claims 4 GB
        archive.writestr("0.bias.npy", _npy_header((2,)) + bytes(8))
    with pytest.raises(
        ValueError,
        match=r"shape mismatch for '0.weight': the model has \(2, 3\), the file has "
        r"\(1000000000,\) \(nothing was read",
    ):
        _model().load(path)


def test_member_whose_header_disagrees_with_its_size(tmp_path):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("0.weight.npy", _npy_header((2, 3)) + bytes(4))  # 4 of the 24 data bytes
        archive.writestr("0.bias.npy", _npy_header((2,)) + bytes(8))
    with pytest.raises(
        ValueError, match=r"'0.weight': its header describes \d+ bytes, the member holds \d+"
    ):
        _model().load(path)


def test_object_member_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("0.weight.npy", _npy_header((2, 3), descr="|O") + b"\x80\x04N.")
        archive.writestr("0.bias.npy", _npy_header((2,)) + bytes(8))
    with pytest.raises(ValueError, match=r"'0.weight' has dtype object, not a real number type"):
        _model().load(path)


# ------------------------------------------------------------------ non-finite values
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused_by_default(bad):
    model, state = _model(), _model().state_dict()
    state["0.bias"][1] = bad
    before = _values(model)
    with pytest.raises(
        ValueError,
        match=r"'0.bias' holds 1 non-finite value\(s\) \(NaN or inf\); pass "
        r"check_finite=False to load them",
    ):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model[0].bias.data, before["0.bias"])
    model.load_state_dict(state, check_finite=False)
    assert model[0].bias.data[1] == np.float32(bad) or np.isnan(model[0].bias.data[1])


def test_non_finite_file_is_refused(tmp_path):
    src = _model()
    src[0].weight.data = np.full((2, 3), np.nan, np.float32)
    src.save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"'0.weight' holds 6 non-finite"):
        _model().load(tmp_path / "m.npz")
    dst = _model()
    dst.load(tmp_path / "m.npz", check_finite=False)
    assert np.isnan(dst[0].weight.data).all()


# ------------------------------------------------------------------ dtype policy (PyTorch's)
@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int32, np.bool_, np.float16])
def test_real_arrays_are_cast_into_the_parameter_dtype(dtype):
    model = _model()
    state = {k: np.ones(v.shape, dtype) for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert model[0].weight.dtype == np.float32 and model[0].bias.dtype == np.float32
    np.testing.assert_array_equal(model[0].weight.data, np.ones((2, 3), np.float32))


def test_tensors_and_numpy_scalars_are_accepted():
    model = _model()
    model.load_state_dict({"0.weight": ad.tensor(np.full((2, 3), 2.0)), "0.bias": np.zeros(2)})
    assert model[0].weight.dtype == np.float32 and model[0].weight.data[0, 0] == 2.0
    layer = nn.BatchNorm1d(2)
    state = layer.state_dict()
    state["num_batches_tracked"] = np.int32(7)  # a 0-d buffer from a numpy scalar, cast to int64
    layer.load_state_dict(state)
    assert int(layer.num_batches_tracked) == 7 and layer.num_batches_tracked.dtype == np.int64


@pytest.mark.parametrize(
    "value, kind", [([[0.0] * 3] * 2, "list"), (((0.0,) * 3,) * 2, "tuple"), (1.5, "float")]
)
def test_non_arrays_are_refused(value, kind):
    _refuses_weight(value, rf"'0.weight' is a {kind}, expected a numpy array or Tensor")


@pytest.mark.parametrize(
    "value", [np.full((2, 3), 1 + 2j), np.full((2, 3), "x"), np.full((2, 3), None)]
)
def test_non_real_dtypes_are_refused(value):
    _refuses_weight(value, rf"'0.weight' has dtype {value.dtype}, not a real number type")
