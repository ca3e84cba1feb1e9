"""datasets.formats: the IDX, .npz, CIFAR-10 binary and index-file parsers, on files
generated here in the publishers' formats."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import datasets
from datasets.formats import (
    parse_cifar_records,
    parse_idx,
    read_idx,
    read_index_file,
    read_npz_array,
    write_idx,
)
from tests.datasets.helpers import (
    idx_bytes,
    npz_bytes,
)

pytestmark = pytest.mark.usefixtures("isolated")  # no internet, own cache (conftest.py)


# ---------------------------------------------------------------------------------------------- IDX


def test_parse_idx_reads_struct_built_files():
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    out = parse_idx(idx_bytes(images), magic=2051)
    assert out.dtype == np.uint8 and out.shape == (2, 28, 28)
    np.testing.assert_array_equal(out, images)
    ints = np.array([[1, -2, 70000]], dtype=np.int32)
    out = parse_idx(idx_bytes(ints))
    assert out.dtype == np.dtype(np.int32) and out.dtype.isnative
    np.testing.assert_array_equal(out, ints)


def test_write_idx_round_trip_gz(tmp_path):
    labels = np.array([3, 9, 0], dtype=np.uint8)
    write_idx(tmp_path / "l.gz", labels)
    assert (tmp_path / "l.gz").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(tmp_path / "l.gz", magic=2049), labels)
    assert gzip.decompress((tmp_path / "l.gz").read_bytes()) == idx_bytes(labels)


def test_parse_idx_wrong_magic():
    data = idx_bytes(np.zeros(3, dtype=np.uint8))
    with pytest.raises(datasets.FormatError, match=r"magic number 2049 .*expected 2051"):
        parse_idx(data, source="x.idx", magic=2051)
    with pytest.raises(datasets.FormatError, match="magic number"):
        parse_idx(b"\x12\x34" + data[2:], source="x.idx")


def test_parse_idx_truncated_or_trailing():
    data = idx_bytes(np.zeros((4, 28, 28), dtype=np.uint8))
    with pytest.raises(
        datasets.FormatError, match=r"truncated; header shape \(4, 28, 28\).*3136.*found 3135"
    ):
        parse_idx(data[:-1], source="t.idx")
    with pytest.raises(datasets.FormatError, match="trailing"):
        parse_idx(data + b"\0", source="t.idx")
    with pytest.raises(datasets.FormatError, match="truncated header"):
        parse_idx(data[:9], source="t.idx")
    with pytest.raises(datasets.FormatError, match="too short"):
        parse_idx(b"\0\0", source="t.idx")


def test_read_idx_truncated_gzip(tmp_path):
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 28, 28), dtype=np.uint8)))[:-20])
    with pytest.raises(datasets.FormatError, match=r"t\.gz: gzip data truncated or corrupt"):
        read_idx(path)


# --------------------------------------------------------------------------------------------- .npz


def test_read_npz(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    (tmp_path / "a.npz").write_bytes(npz_bytes(array))
    np.testing.assert_array_equal(read_npz_array(tmp_path / "a.npz"), array)
    with pytest.raises(datasets.FormatError, match=r"no array 'images'.*\['arr_0'\]"):
        read_npz_array(tmp_path / "a.npz", key="images")


def test_read_npz_refuses_pickles_and_bad_files(tmp_path):
    np.savez(tmp_path / "obj.npz", arr_0=np.array([{"a": 1}], dtype=object))
    with pytest.raises(datasets.FormatError, match="obj.npz"):
        read_npz_array(tmp_path / "obj.npz")
    (tmp_path / "cut.npz").write_bytes(npz_bytes(np.zeros(1000, dtype=np.uint8))[:40])
    with pytest.raises(datasets.FormatError, match="not a valid .npz archive or truncated"):
        read_npz_array(tmp_path / "cut.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(datasets.FormatError, match="single .npy"):
        read_npz_array(tmp_path / "single.npy")


# ----------------------------------------------------------------- CIFAR-10 records and index files


def test_parse_cifar_records_layout():
    image = np.zeros((3, 32, 32), dtype=np.uint8)
    image[0], image[1], image[2] = 10, 20, 30  # R, G, B planes
    image[0, 0, 1] = 99  # red, row 0, column 1
    record = bytes([7]) + image.tobytes()
    assert len(record) == 3073
    x, y = parse_cifar_records(record + record)
    assert x.shape == (2, 3, 32, 32) and x.dtype == np.uint8
    assert y.dtype == np.int64 and y.tolist() == [7, 7]
    assert (
        x[1, 0, 0, 1] == 99
        and x[1, 0, 1, 0] == 10
        and x[1, 1, 5, 5] == 20
        and x[1, 2, 31, 31] == 30
    )


def test_parse_cifar_records_errors():
    record = bytes([1]) + bytes(3072)
    with pytest.raises(
        datasets.FormatError, match=r"6147 bytes is not a positive multiple of the 3073-byte record"
    ):
        parse_cifar_records(record * 2 + b"\0", source="b.bin")
    with pytest.raises(datasets.FormatError, match=r"label byte 12 in record 1"):
        parse_cifar_records(record + bytes([12]) + bytes(3072), source="b.bin")
    with pytest.raises(datasets.FormatError, match="0 bytes"):
        parse_cifar_records(b"")


def test_read_index_file(tmp_path):
    (tmp_path / "i.txt").write_text("0\n5\n49999\n")
    assert read_index_file(tmp_path / "i.txt", 3, 50000).tolist() == [0, 5, 49999]
    with pytest.raises(datasets.FormatError, match="3 entries, expected 4"):
        read_index_file(tmp_path / "i.txt", 4, 50000)
    (tmp_path / "j.txt").write_text("0\n50000\n")
    with pytest.raises(datasets.FormatError, match="expected 0..49999"):
        read_index_file(tmp_path / "j.txt", 2, 50000)
    (tmp_path / "k.txt").write_text("0\nseven\n")
    with pytest.raises(datasets.FormatError, match="one decimal integer per line"):
        read_index_file(tmp_path / "k.txt", 2, 50000)
