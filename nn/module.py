"""`Parameter` and `Module`: the base of every layer and model.

A Module registers the Parameters and sub-Modules assigned to its attributes (in the
order of assignment), so `parameters()`, `state_dict()`, `zero_grad()`, `train()` and
`eval()` reach the whole tree, as in PyTorch.  Buffers (`register_buffer`) are arrays that
belong to the state but are not trained, such as batch norm's running statistics: they
are in `state_dict()` and follow `to()`, but not `parameters()`.  State is saved to `.npz` archives of plain
arrays (no pickle), keyed by dotted names such as `0.weight`.
"""
from __future__ import annotations

import os
import zipfile
import zlib
from collections import OrderedDict
from typing import Any, Iterator, Mapping, NamedTuple

import numpy as np

from autodiff import Tensor


class Parameter(Tensor):
    """A Tensor that a Module treats as trainable: created with requires_grad=True.

    `Parameter(data, requires_grad=True, dtype=None)` holds a copy of `data` (like every
    Tensor constructor; see `ad.from_numpy` for sharing); the data must be floating point."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None):
        array = np.asarray(data.data if isinstance(data, Tensor) else data, dtype=dtype)
        if not np.issubdtype(array.dtype, np.floating):
            raise TypeError(f"Parameter: data must be floating point, got dtype {array.dtype} "
                            f"(pass dtype=np.float32 or np.float64)")
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class of layers and models: subclass it, assign Parameters and sub-Modules to
    attributes in `__init__` (after `super().__init__()`), and define `forward`.

    Calling the module calls `forward`.  `training` is True after construction; `eval()`
    switches it off for the whole tree (Dropout becomes the identity)."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers and not isinstance(value, (Parameter, Module)):
            if value is not None and not isinstance(value, np.ndarray):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' "
                                f"(numpy array or None expected)")
            buffers[name] = value
            return
        if isinstance(value, (Parameter, Module)):
            if params is None:
                raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before "
                                     f"Module.__init__() has been called")
            self.__dict__.pop(name, None)
            target, other = (params, modules) if isinstance(value, Parameter) else (modules, params)
            other.pop(name, None)
            if buffers is not None:
                buffers.pop(name, None)
            target[name] = value  # a reassigned name keeps its place in the order
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            params[name] = None
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module "
                                f"'{name}' (nn.Module or None expected)")
            modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only reached when ordinary lookup fails: parameters and modules live in registries.
        d = self.__dict__
        if "_parameters" in d and name in d["_parameters"]:
            return d["_parameters"][name]
        if "_modules" in d and name in d["_modules"]:
            return d["_modules"][name]
        if "_buffers" in d and name in d["_buffers"]:
            return d["_buffers"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        elif name in self._buffers:
            del self._buffers[name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` (or None: a declared but absent parameter, like bias=False)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be an nn.Parameter or None, "
                            f"got {type(param).__name__}")
        self.__dict__.pop(name, None)
        self._modules.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, array: np.ndarray | None) -> None:
        """Register an array (or None) that is part of the module's state but not trained:
        it is saved by `state_dict()`, cast by `to()` when floating point, and reached as
        `self.<name>`; assigning a new array to that name replaces it."""
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(f"register_buffer: '{name}' must be a numpy array or None, got "
                            f"{type(array).__name__}")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer: '{name}' is already a parameter or sub-module")
        self.__dict__.pop(name, None)
        self._buffers[name] = array

    def add_module(self, name: str, module: "Module | None") -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be an nn.Module or None, got "
                            f"{type(module).__name__}")
        self.__dict__.pop(name, None)
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module

    # ----------------------------------------------------------------- forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --------------------------------------------------------------- traversal
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module and all sub-modules (each once), with dotted names; self is ''."""
        seen: set = set()

        def walk(module: Module, path: str):
            if id(module) in seen:
                return
            seen.add(id(module))
            yield path, module
            for name, child in module.named_children():
                yield from walk(child, f"{path}.{name}" if path else name)

        yield from walk(self, prefix)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def _all_named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        # Every (name, parameter) pair, shared parameters under each of their names.
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, child in self.named_children():
            yield from child._all_named_parameters(prefix + name + ".")

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs in registration order; a parameter shared by
        several modules is listed once."""
        seen: set = set()
        pairs = (self._all_named_parameters(prefix + "." if prefix else "") if recurse else
                 ((prefix + n, p) for n, p in self._parameters.items() if p is not None))
        for name, p in pairs:
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """(dotted name, array) of every buffer in the tree (None buffers skipped)."""
        yield from self._all_named_buffers(prefix + "." if prefix else "")

    def _all_named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for name, b in self._buffers.items():
            if b is not None:
                yield prefix + name, b
        for name, child in self.named_children():
            yield from child._all_named_buffers(prefix + name + ".")

    def buffers(self) -> Iterator[np.ndarray]:
        for _, b in self.named_buffers():
            yield b

    def _state_owners(self, prefix: str = "") -> Iterator[tuple[str, "Module", str, bool]]:
        # (dotted name, owning module, local name, is_buffer): per module its parameters,
        # then its buffers, then its children's (PyTorch's state_dict order).
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, self, name, False
        for name, b in self._buffers.items():
            if b is not None:
                yield prefix + name, self, name, True
        for name, child in self.named_children():
            yield from child._state_owners(prefix + name + ".")

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of scalar parameters (each shared parameter counted once)."""
        return sum(p.size for p in self.parameters()
                   if not trainable_only or p.requires_grad)

    # ------------------------------------------------------------------- state
    def zero_grad(self) -> None:
        """Forget the gradients of every parameter (`.grad = None`)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> "Module":
        """Set training mode for this module and every sub-module; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode (`train(False)`): Dropout passes its input through."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def to(self, dtype: Any) -> "Module":
        """Cast every parameter to `dtype` (e.g. np.float64 for gradient checks); returns
        self.  Gradients are dropped."""
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"Module.to: parameters must stay floating point, got {dtype}")
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        for m in self.modules():
            for name, b in m._buffers.items():
                if b is not None and np.issubdtype(b.dtype, np.floating):
                    m._buffers[name] = b.astype(dtype)
        return self

    def double(self) -> "Module":
        return self.to(np.float64)

    def float(self) -> "Module":
        return self.to(np.float32)

    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter's and buffer's array, keyed by dotted name (`0.weight`,
        `1.running_mean`, ...)."""
        return OrderedDict((name, np.array(m._buffers[local] if buf
                                           else m._parameters[local].data))
                           for name, m, local, buf in self._state_owners())

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy arrays from `state_dict` into the parameters and buffers (cast to each one's
        dtype).

        Everything is checked before anything is written: with `strict`, missing and
        unexpected keys are errors; a shape mismatch always is.  On error a ValueError
        lists every problem and the module is left unchanged."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got "
                            f"{type(state_dict).__name__}")
        owners = OrderedDict((name, (m, local, buf)) for name, m, local, buf
                             in self._state_owners())
        own = OrderedDict((name, m._buffers[local] if buf else m._parameters[local])
                          for name, (m, local, buf) in owners.items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        new = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.shape != p.shape:
                problems.append(f"shape mismatch for '{name}': the model has {p.shape}, the "
                                f"state dict has {array.shape}")
            elif not (np.issubdtype(array.dtype, np.floating)
                      or np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
                problems.append(f"'{name}' has dtype {array.dtype}, not a real number type")
            else:
                new[name] = array.astype(p.dtype, copy=True)
        if problems:
            raise ValueError(f"load_state_dict: cannot load into {type(self).__name__}: "
                             + "; ".join(problems) + " (nothing was loaded; the module is "
                             "unchanged)")
        for name, array in new.items():
            m, local, buf = owners[name]
            if buf:
                m._buffers[local] = array
            else:
                own[name].data = array  # rebind: the old one may be read-only (saved by a graph)
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: str | os.PathLike) -> None:
        """Write `state_dict()` to `path` as an .npz archive of plain arrays (the file is
        written under a temporary name and then renamed, so a crash leaves no half file)."""
        path = os.fspath(path)
        tmp = os.path.join(os.path.dirname(os.path.abspath(path)),
                           f".tmp-{os.getpid()}-{id(self):x}-{os.path.basename(path)}")
        try:
            with open(tmp, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED,
                                                       allowZip64=True) as archive:
                for name, array in self.state_dict().items():
                    with archive.open(name + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def load(self, path: str | os.PathLike, strict: bool = True) -> IncompatibleKeys:
        """Load parameters saved by `save` (read with allow_pickle=False).  A file that is
        not a readable .npz archive, or whose contents do not match, raises ValueError and
        leaves the module unchanged."""
        path = os.fspath(path)
        unreadable = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)
        try:
            archive = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise
        except unreadable as e:
            raise ValueError(f"Module.load: '{path}' is not a readable .npz state file "
                             f"({type(e).__name__}: {e}); the module is unchanged") from e
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"Module.load: '{path}' holds a single array, not an .npz archive "
                             f"of named parameters; the module is unchanged")
        try:
            with archive:
                state = {name: archive[name] for name in archive.files}
        except unreadable as e:
            raise ValueError(f"Module.load: '{path}' is a damaged .npz archive "
                             f"({type(e).__name__}: {e}); the module is unchanged") from e
        return self.load_state_dict(state, strict=strict)

    # -------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's one-line repr."""
        return ""

    def _repr_lines(self) -> list[str]:
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return [head + ")"]
        lines = [head]
        for name, child in children:
            sub = child._repr_lines()
            count = child.num_parameters()
            if len(sub) == 1 and count:
                sub[0] += f"  # {count:,} params"
            lines.append(f"  ({name}): {sub[0]}")
            lines.extend("  " + line for line in sub[1:])
        lines.append(f")  # {self.num_parameters():,} params in total")
        return lines

    def __repr__(self) -> str:
        lines = self._repr_lines()
        if len(lines) == 1 and self.num_parameters():
            lines[0] += f"  # {self.num_parameters():,} params"
        return "\n".join(lines)
