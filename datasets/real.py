"""MNIST, Kuzushiji-MNIST, Fashion-MNIST and CIFAR-10 as their publishers distribute them.

Every loader returns the official splits as numpy arrays:

- MNIST, KMNIST, Fashion-MNIST: images ``(n, 28, 28)`` uint8 (row, column;
  0 = background), labels ``(n,)`` int64 in 0..9; n = 60000 (train) / 10000 (test).
- CIFAR-10: images ``(n, 3, 32, 32)`` uint8 (channel R/G/B, row, column), labels
  ``(n,)`` int64 in 0..9 (:data:`CLASS_NAMES`); n = 50000 (train, batches 1-5 in
  order) / 10000 (test).

``split=None`` returns ``((x_train, y_train), (x_test, y_test))``; ``split="train"``
or ``"test"`` returns ``(x, y)`` and fetches only that split's files. Where the
files come from (``root=``, the cache, ``mirror=`` / ``$AUTODIFF_DATA_MIRROR``,
the official URLs) is described in :mod:`datasets.download`. For CIFAR-10 a
local copy may hold the official ``cifar-10-binary.tar.gz``, its extracted
``cifar-10-batches-bin/*.bin`` files, or bare ``data_batch_N.bin`` /
``test_batch.bin`` files; other record files (such as an exact subset of the
training set) load with :func:`cifar10_from_records`. The table
:data:`DATASETS` holds every file's published checksums; tests may replace its
entries.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .download import DatasetSpec, FileSpec, PathLike, fetch, verify_file
from .errors import DataNotFoundError, FormatError
from .formats import (
    CIFAR_RECORD_BYTES,
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    read_cifar_records,
    read_idx,
    read_index_file,
    read_npz_array,
)

Split = tuple[np.ndarray, np.ndarray]
SplitName = Literal["train", "test"]

_IDX_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_CIFAR_ARCHIVE = "cifar-10-binary.tar.gz"


def _cifar_batch(name: str, md5: str) -> FileSpec:
    return FileSpec(
        name,
        md5=md5,
        archive=_CIFAR_ARCHIVE,
        member=f"cifar-10-batches-bin/{name}",
        size=10000 * CIFAR_RECORD_BYTES,
    )


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        urls=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        files=(
            FileSpec(
                "train-images-idx3-ubyte.gz",
                md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
                size=9912422,
                content_sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            FileSpec(
                "train-labels-idx1-ubyte.gz",
                md5="d53e105ee54ea40749a09fcbcd1e9432",
                size=28881,
                content_sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            FileSpec(
                "t10k-images-idx3-ubyte.gz",
                md5="9fb629c4189551a2d022fa330f9573f3",
                size=1648877,
                content_sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            FileSpec(
                "t10k-labels-idx1-ubyte.gz",
                md5="ec29112dd5afa0611ce80d1b7f02629c",
                size=4542,
                content_sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        ),
        splits=_IDX_SPLITS,
        folders=("MNIST",),
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        title="Fashion-MNIST",
        urls=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        files=(
            FileSpec(
                "train-images-idx3-ubyte.gz",
                md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                size=26421880,
                content_sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            ),
            FileSpec(
                "train-labels-idx1-ubyte.gz",
                md5="25c81989df183df01b3e8a0aad5dffbe",
                size=29515,
                content_sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            ),
            FileSpec(
                "t10k-images-idx3-ubyte.gz",
                md5="bef4ecab320f06d8554ea6380940ec79",
                size=4422102,
                content_sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            ),
            FileSpec(
                "t10k-labels-idx1-ubyte.gz",
                md5="bb300cfdad3c16e7a12a480ee83cd310",
                size=5148,
                content_sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
        ),
        splits=_IDX_SPLITS,
        folders=("fashion-mnist", "fashion", "FashionMNIST"),
    ),
    "kmnist": DatasetSpec(
        name="kmnist",
        title="Kuzushiji-MNIST",
        urls=(
            "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
            "https://codh.rois.ac.jp/kmnist/dataset/kmnist/",
        ),
        files=(
            FileSpec(
                "kmnist-train-imgs.npz", md5="a183fbc01ed9a345513b145673d3d0bb"
            ),  # size not known here
            FileSpec("kmnist-train-labels.npz", md5="b0e1d240e8afec72b50437fc3bc5908a", size=29700),
            FileSpec("kmnist-test-imgs.npz", md5="dace6de62ca8b90843cc45366337d02e", size=3079479),
            FileSpec("kmnist-test-labels.npz", md5="3ae489a79983d0fe386152684e3b5412", size=5304),
        ),
        splits={
            "train": ("kmnist-train-imgs.npz", "kmnist-train-labels.npz"),
            "test": ("kmnist-test-imgs.npz", "kmnist-test-labels.npz"),
        },
        folders=("KMNIST", "kuzushiji-mnist"),
    ),
    "cifar10": DatasetSpec(
        name="cifar10",
        title="CIFAR-10",
        urls=("https://www.cs.toronto.edu/~kriz/",),
        files=(
            FileSpec(_CIFAR_ARCHIVE, md5="c32a1d4ab5d03f1284b67883e8d87530", size=170052171),
            _cifar_batch("data_batch_1.bin", "5dd7e06a14cb22eb9f671a540d1b7c25"),
            _cifar_batch("data_batch_2.bin", "5ea93a67294ea407fff1d09f752e9692"),
            _cifar_batch("data_batch_3.bin", "942cd6a4bcdd0dd3c604fbe906cb4421"),
            _cifar_batch("data_batch_4.bin", "ae636b3ba5c66a11e91e8cb52e771fcb"),
            _cifar_batch("data_batch_5.bin", "53f37980c15c3d472c316c40844f3f0d"),
            _cifar_batch("test_batch.bin", "803d5f7f4d78ea53de84dbe85f74fb6d"),
        ),
        splits={
            "train": tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
            "test": ("test_batch.bin",),
        },
        folders=("cifar-10", "CIFAR10", "cifar-10-batches-bin"),
    ),
}

IMAGE_SHAPES = {
    "mnist": (28, 28),
    "fashion_mnist": (28, 28),
    "kmnist": (28, 28),
    "cifar10": (3, 32, 32),
}

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    "kmnist": ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    "cifar10": (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
}


def _read_split(key: str, paths: list[Path]) -> Split:
    if key == "cifar10":
        parts = [read_cifar_records(p) for p in paths]
        return np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])
    if key == "kmnist":  # shapes checked from the .npy headers, before the data is read
        return (
            read_npz_array(paths[0], shape=(None, *IMAGE_SHAPES[key]), dtype=np.uint8),
            read_npz_array(paths[1], shape=(None,)),
        )
    return read_idx(paths[0], magic=IDX_IMAGES_MAGIC), read_idx(paths[1], magic=IDX_LABELS_MAGIC)


def _checked_split(key: str, split: str, x: np.ndarray, y: np.ndarray) -> Split:
    what = f"loading {DATASETS[key].title} {split} split"
    shape = IMAGE_SHAPES[key]
    if x.dtype != np.uint8 or x.ndim != len(shape) + 1 or x.shape[1:] != shape:
        raise FormatError(
            f"{what}: images have shape {x.shape} and dtype {x.dtype}, expected (n, "
            f"{', '.join(map(str, shape))}) uint8"
        )
    if y.ndim != 1 or y.shape[0] != x.shape[0] or not np.issubdtype(y.dtype, np.integer):
        raise FormatError(
            f"{what}: labels have shape {y.shape} and dtype {y.dtype}, expected ({x.shape[0]},) "
            "integers, one per image"
        )
    if y.size and (y.min() < 0 or y.max() > 9):
        raise FormatError(f"{what}: labels range {y.min()}..{y.max()}, expected 0..9")
    return x, y.astype(np.int64)


def _with_fetch_options(*leading: inspect.Parameter) -> inspect.Signature:
    """The signature `load` and the named loaders show: `leading`, then the keyword-only
    options of `fetch` (root, mirror, cache_dir, verify, progress, config), which they pass
    on to it unchanged."""
    options = inspect.signature(fetch).parameters.values()
    return inspect.Signature(
        [*leading, *(p for p in options if p.kind is p.KEYWORD_ONLY)],
        return_annotation="Split | tuple[Split, Split]",
    )


_SPLIT = inspect.Parameter(
    "split", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation="SplitName | None"
)


def load(key: str, split: SplitName | None = None, **options: Any) -> Split | tuple[Split, Split]:
    """Load dataset ``key`` (a key of :data:`DATASETS`); see the named loaders (``options``:
    root, mirror, cache_dir, verify, progress and config, as there)."""
    _LOAD_SIGNATURE.bind(key, split, **options)  # an unknown option: TypeError, before any work
    if key not in DATASETS:
        raise ValueError(f"load: unknown dataset {key!r}, expected one of {sorted(DATASETS)}")
    spec = DATASETS[key]
    if split not in (None, *spec.splits):
        raise ValueError(
            f"loading {spec.title}: split must be one of {sorted(spec.splits)} or None, got "
            f"{split!r}"
        )
    result = []
    for name in ("train", "test") if split is None else (split,):
        try:
            paths = fetch(spec, spec.splits[name], **options)
        except DataNotFoundError as exc:
            if key == "cifar10" and name == "train":
                raise DataNotFoundError(
                    f"{exc}\nFor a CIFAR-10 binary file that is not an official batch "
                    "(e.g. an exact subset of the training records), use "
                    "datasets.cifar10_from_records(path, index_path)."
                ) from None
            raise
        result.append(_checked_split(key, name, *_read_split(key, paths)))
    return tuple(result) if split is None else result[0]


_LOAD_SIGNATURE = load.__signature__ = _with_fetch_options(
    inspect.Parameter("key", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="str"), _SPLIT
)


_LOADER_DOC = """Load {title} ({layout}).

    split: "train", "test", or None for ``((x_train, y_train), (x_test, y_test))``.
    root: local folder with the publisher's files (directly or in a ``{name}/``
        subfolder); when given, nothing is downloaded.
    mirror: local folder or http(s) base URL replacing the official URLs
        (default ``$AUTODIFF_DATA_MIRROR``).
    cache_dir: download cache (default ``$AUTODIFF_DATA`` or a per-user cache folder).
    verify: check the published checksums (default True); False loads a
        knowingly different copy with a warning.
    progress: show a progress bar while downloading.
    config: download limits and network settings (``datasets.DownloadConfig``:
        size limit, deadline, timeout, redirects, Retry-After cap).

    Returns images {shape} uint8 and labels (n,) int64 in 0..9.
    """


def _make_loader(key: str, layout: str, shape: str):
    def loader(split: SplitName | None = None, **options: Any) -> Split | tuple[Split, Split]:
        return load(key, split, **options)

    loader.__signature__ = _with_fetch_options(_SPLIT)
    loader.__name__ = loader.__qualname__ = key
    loader.__doc__ = _LOADER_DOC.format(
        title=DATASETS[key].title, layout=layout, shape=shape, name=key
    )
    return loader


mnist = _make_loader("mnist", "handwritten digits, IDX files", "(n, 28, 28)")
fashion_mnist = _make_loader("fashion_mnist", "Zalando article images, IDX files", "(n, 28, 28)")
kmnist = _make_loader("kmnist", "cursive Japanese characters, .npz files", "(n, 28, 28)")
cifar10 = _make_loader(
    "cifar10",
    "32x32 colour images, official binary version",
    "(n, 3, 32, 32) (channel, row, column)",
)


def cifar10_from_records(
    path: PathLike,
    index_path: PathLike | None = None,
    *,
    verify: bool = False,
    sha256: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load any file of CIFAR-10 binary records, e.g. an exact subset of the training set.

    path: a file of 3073-byte records (1 label byte + 3072 pixel bytes).
    index_path: optional text file with one integer per record, the record's
        index in the original 50000-image training set.
    verify: such files have no published checksum; with ``verify=False``
        (default) the file loads with a warning, with ``verify=True`` its sha256
        must equal ``sha256``.

    Returns images ``(n, 3, 32, 32)`` uint8, labels ``(n,)`` int64 and indices
    ``(n,)`` int64 (from ``index_path``, else ``0..n-1``).
    """
    path = Path(path)
    if verify:
        if sha256 is None:
            raise ValueError(
                f"cifar10_from_records({path}): verify=True needs sha256=, since such a file "
                f"has no "
                "published checksum; pass verify=False to load it unverified"
            )
        verify_file(path, FileSpec(path.name, sha256=sha256))
    else:
        warnings.warn(
            f"loading {path} without checksum verification (verify=False): "
            "it is not an official CIFAR-10 file",
            stacklevel=2,
        )
    x, y = read_cifar_records(path)
    index = (
        np.arange(len(y), dtype=np.int64)
        if index_path is None
        else read_index_file(index_path, len(y), 50000)
    )
    return x, y, index
