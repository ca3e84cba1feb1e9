"""Datasets for the experiments: the real image sets as published, the synthetic
sets of the source documents, array helpers and a mini-batch loader.

Real data (see :mod:`datasets.real` and :mod:`datasets.download`)::

    (x_train, y_train), (x_test, y_test) = datasets.mnist()   # (n, 28, 28) uint8, (n,) int64
    x_test, y_test = datasets.cifar10(split="test")           # (n, 3, 32, 32) uint8

Files are cached in ``$AUTODIFF_DATA`` (default: a per-user cache folder);
``$AUTODIFF_DATA_MIRROR`` or ``mirror=`` / ``root=`` point at a local copy.
"""

# Marks this project's package: the name `datasets` is also Hugging Face's (see
# experiments/__init__.py, which refuses the other one with a clear error).
__autodiff_datasets__ = True

from .download import DatasetSpec, DownloadConfig, FileSpec, default_cache_dir, fetch, verify_file
from .errors import (
    ChecksumError,
    DataNotFoundError,
    DatasetError,
    DownloadError,
    FormatError,
    UnsafeArchiveError,
)
from .loader import DataLoader
from .real import (
    CLASS_NAMES,
    DATASETS,
    cifar10,
    cifar10_from_records,
    fashion_mnist,
    kmnist,
    load,
    mnist,
)
from .synthetic import (
    blobs,
    linear_autoencoder,
    linear_regression,
    nngp_regression,
    parity,
    two_spirals,
    xor,
)
from .transforms import (
    compose,
    flatten,
    normalize,
    one_hot,
    random_crop,
    random_flip,
    select_classes,
    subset,
    train_val_split,
)

__all__ = [
    # real datasets
    "mnist",
    "fashion_mnist",
    "kmnist",
    "cifar10",
    "cifar10_from_records",
    "load",
    "CLASS_NAMES",
    "DATASETS",
    # fetching
    "fetch",
    "verify_file",
    "default_cache_dir",
    "FileSpec",
    "DatasetSpec",
    "DownloadConfig",
    # errors
    "DatasetError",
    "DownloadError",
    "ChecksumError",
    "DataNotFoundError",
    "FormatError",
    "UnsafeArchiveError",
    # helpers and augmentations
    "normalize",
    "flatten",
    "train_val_split",
    "select_classes",
    "one_hot",
    "subset",
    "random_crop",
    "random_flip",
    "compose",
    # loader
    "DataLoader",
    # synthetic
    "parity",
    "xor",
    "two_spirals",
    "blobs",
    "nngp_regression",
    "linear_regression",
    "linear_autoencoder",
]
