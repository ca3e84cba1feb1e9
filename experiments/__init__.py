"""The experiments: one module per experiment (`python -m experiments.<name>`) and the
runner (`python -m experiments`).

They load data through this project's `datasets` package.  Hugging Face's `datasets`
has the same top-level name; if it comes first on the path, importing the experiments
fails here with an error saying so, instead of failing later on a missing function.
"""

from __future__ import annotations

import datasets as _datasets

if not getattr(_datasets, "__autodiff_datasets__", False):
    raise ImportError(
        f"the package 'datasets' imported from {getattr(_datasets, '__file__', '?')} is not "
        f"this project's (probably Hugging Face's datasets, which has the same name).  Run "
        f"from the project's root folder or install it with `pip install -e .` in a virtual "
        f"environment without Hugging Face's datasets, or put the project first on "
        f"PYTHONPATH"
    )
