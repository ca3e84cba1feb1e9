"""`Parameter` and `Module`: the base of every layer and model.

A Module registers the Parameters and sub-Modules assigned to its attributes (in the
order of assignment), so `parameters()`, `state_dict()`, `zero_grad()`, `train()` and
`eval()` reach the whole tree, as in PyTorch.  Buffers (`register_buffer`) are arrays that
belong to the state but are not trained, such as batch norm's running statistics: they
are in `state_dict()` and follow `to()`, but not `parameters()`.  State is saved to `.npz`
archives of plain arrays (no pickle), keyed by dotted names such as `0.weight`.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autodiff import Tensor
from autodiff.npyformat import NPY_MAGIC, NpyVersionError, read_npy_header


class Parameter(Tensor):
    """A Tensor that a Module treats as trainable: created with requires_grad=True.

    `Parameter(data, requires_grad=True, dtype=None)` holds a copy of `data` (like every
    Tensor constructor; see `ad.from_numpy` for sharing); the data must be floating point."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None):
        array = np.asarray(data.data if isinstance(data, Tensor) else data, dtype=dtype)
        if not np.issubdtype(array.dtype, np.floating):
            raise TypeError(
                f"Parameter: data must be floating point, got dtype {array.dtype} "
                f"(pass dtype=np.float32 or np.float64)"
            )
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped."""

    missing_keys: list
    unexpected_keys: list


class _HeaderProblems(Exception):
    """Members of a state file whose .npy headers do not fit the model."""


def _check_npy_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, shape: tuple, name: str
) -> str:
    """What is wrong with the .npy member `info` for a state entry of `shape`, judged
    from its header alone ('' if nothing): a wrong shape, a non-numeric dtype, or a
    header that disagrees with the member's size."""
    try:
        with archive.open(info) as member:
            found, dtype, header = read_npy_header(member)
    except NpyVersionError as e:
        return f"'{name}' is in .npy format {e.version}, expected 1.0 or 2.0"
    except ValueError as e:  # damage of the archive itself (CRC, zlib) is left to the caller
        return f"'{name}' has no readable .npy header ({e})"
    if tuple(found) != tuple(shape):
        return (
            f"shape mismatch for '{name}': the model has {tuple(shape)}, the file has "
            f"{tuple(found)}"
        )
    if dtype.hasobject or not (np.issubdtype(dtype, np.number) or dtype.kind == "b"):
        return f"'{name}' has dtype {dtype}, not a real number type"
    needed = header + int(np.prod(found, dtype=object)) * dtype.itemsize
    if info.file_size != needed:
        return f"'{name}': its header describes {needed} bytes, the member holds {info.file_size}"
    return ""


def _registered(name: str, params: dict | None, modules: dict | None) -> tuple | None:
    """(the table, what it holds, the type it accepts) when `name` is a registered parameter
    or child module, else None."""
    if params is not None and name in params:
        return params, "parameter", "nn.Parameter"
    if modules is not None and name in modules:
        return modules, "child module", "nn.Module"
    return None


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
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer '{name}' "
                    f"(numpy array or None expected)"
                )
            buffers[name] = value
            return
        if isinstance(value, (Parameter, Module)):
            if params is None:
                raise AttributeError(
                    f"cannot assign {type(value).__name__} '{name}' before "
                    f"Module.__init__() has been called"
                )
            self.__dict__.pop(name, None)
            target, other = (params, modules) if isinstance(value, Parameter) else (modules, params)
            other.pop(name, None)
            if buffers is not None:
                buffers.pop(name, None)
            target[name] = value  # a reassigned name keeps its place in the order
        elif (slot := _registered(name, params, modules)) is not None:
            table, kind, expected = slot
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as {kind} '{name}' "
                    f"({expected} or None expected)"
                )
            table[name] = None  # the name stays registered, its value is None (as PyTorch)
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
            raise TypeError(
                f"register_parameter: '{name}' must be an nn.Parameter or None, "
                f"got {type(param).__name__}"
            )
        self.__dict__.pop(name, None)
        self._modules.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, array: np.ndarray | None) -> None:
        """Register an array (or None) that is part of the module's state but not trained:
        it is saved by `state_dict()`, cast by `to()` when floating point, and reached as
        `self.<name>`; assigning a new array to that name replaces it."""
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(
                f"register_buffer: '{name}' must be a numpy array or None, got "
                f"{type(array).__name__}"
            )
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer: '{name}' is already a parameter or sub-module")
        self.__dict__.pop(name, None)
        self._buffers[name] = array

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"add_module: '{name}' must be an nn.Module or None, got {type(module).__name__}"
            )
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
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module (named `prefix`, '' by default) and every
        sub-module, depth first in registration order: '', 'fc1', 'block', 'block.0', ...

        A module reachable under several names is listed once, under the first, unless
        remove_duplicate=False; `memo` (a set of modules already seen, as in PyTorch) is
        updated as modules are listed."""
        seen: set = set() if memo is None else memo

        def walk(module: Module, path: str):
            if remove_duplicate:
                if module in seen:
                    return
                seen.add(module)
            yield path, module
            for name, child in module.named_children():
                yield from walk(child, f"{path}.{name}" if path else name)

        yield from walk(self, prefix)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn(module) on every sub-module (children first, recursively) and then on
        self, as PyTorch does (typically to initialise weights); returns self."""
        if not callable(fn):
            raise TypeError(f"Module.apply: fn must be callable, got {type(fn).__name__}")
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def _all_named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        # Every (name, parameter) pair, shared parameters under each of their names.
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, child in self.named_children():
            yield from child._all_named_parameters(prefix + name + ".")

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs in registration order; a parameter shared by
        several modules is listed once."""
        seen: set = set()
        pairs = (
            self._all_named_parameters(prefix + "." if prefix else "")
            if recurse
            else ((prefix + n, p) for n, p in self._parameters.items() if p is not None)
        )
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

    def _state_owners(self, prefix: str = "") -> Iterator[tuple[str, Module, str, bool]]:
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
        return sum(p.size for p in self.parameters() if not trainable_only or p.requires_grad)

    # ------------------------------------------------------------------- state
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: `.grad = None` (the default, as in PyTorch), or
        with set_to_none=False new zeros of each existing gradient's shape and dtype (a
        gradient array may be shared, so it is never written to)."""
        if not isinstance(set_to_none, (bool, np.bool_)):
            raise TypeError(f"zero_grad: set_to_none must be True or False, got {set_to_none!r}")
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            elif isinstance(p.grad, Tensor):
                p.grad = Tensor(np.zeros(p.grad.shape, p.grad.dtype))
            else:
                p.grad = np.zeros(np.shape(p.grad), np.asarray(p.grad).dtype)

    def train(self, mode: bool = True) -> Module:
        """Set training mode for this module and every sub-module; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (`train(False)`): Dropout passes its input through."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Turn gradient tracking of every parameter on or off (False freezes the module:
        backward leaves the parameters' .grad alone); returns self."""
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(
                f"Module.requires_grad_: requires_grad must be True or False, got {requires_grad!r}"
            )
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Module:
        """Cast the module, PyTorch style: `to(dtype)`, `to(device)`, `to(device, dtype)`,
        `to(tensor)` (its dtype) or keywords; returns self.

        dtype (np.float64, np.float32, ...) casts every parameter, its gradient, and the
        floating-point buffers; parameters already of that dtype are left as they are.
        The only device is "cpu" (also "cpu:0"), accepted as a no-op; any other device is
        an error (no GPU backend yet)."""
        for a in args:
            if isinstance(a, str):
                if device is not None:
                    raise TypeError(f"Module.to: got two devices, {device!r} and {a!r}")
                device = a
            else:
                if dtype is not None:
                    raise TypeError(f"Module.to: got two dtypes, {dtype!r} and {a!r}")
                dtype = a.dtype if isinstance(a, (Tensor, np.ndarray)) else a
        if device is not None:
            name = str(device)
            if name.lower() not in ("cpu", "cpu:0"):
                raise ValueError(
                    f"Module.to: device {name!r} is not available: this library "
                    f"computes with numpy on the CPU (no GPU backend yet); the "
                    f"only device is 'cpu' (for a dtype pass np.float32 or "
                    f"np.float64, not a string)"
                )
        if dtype is None:
            return self
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(
                f"Module.to: expected a dtype (np.float32, np.float64), a device "
                f"string or a tensor, got {dtype!r}"
            ) from None
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"Module.to: parameters must stay floating point, got {dtype}")
        for p in self.parameters():
            if p.dtype == dtype:
                continue
            grad = p.grad
            p.data = p.data.astype(dtype)
            if isinstance(grad, Tensor):
                grad = grad.astype(dtype)
            elif grad is not None:
                grad = np.asarray(grad).astype(dtype)
            p.grad = grad
        for m in self.modules():
            for name, b in m._buffers.items():
                if b is not None and np.issubdtype(b.dtype, np.floating) and b.dtype != dtype:
                    m._buffers[name] = b.astype(dtype)
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of every parameter's and buffer's array, keyed by dotted name (`0.weight`,
        `1.running_mean`, ...)."""
        return OrderedDict(
            (name, np.array(m._buffers[local] if buf else m._parameters[local].data))
            for name, m, local, buf in self._state_owners()
        )

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, check_finite: bool = True
    ) -> IncompatibleKeys:
        """Copy arrays from `state_dict` into the parameters and buffers.

        As PyTorch's `param.copy_(value)` does, each value is cast to the dtype of the
        parameter or buffer it loads into (a float64 or int64 array loads into a float32
        parameter, which stays float32).  A value must be a numpy array (or scalar) or a
        Tensor of real numbers (bool, integer or floating point): a list, a complex,
        string or object array is an error, as non-tensors are in PyTorch.  With
        `check_finite` (default) NaN and infinite values are errors too.

        Everything is checked before anything is written: with `strict`, missing and
        unexpected keys are errors; a shape mismatch always is.  On error a ValueError
        lists every problem and the module is left unchanged."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to arrays, got "
                f"{type(state_dict).__name__}"
            )
        owners = OrderedDict(
            (name, (m, local, buf)) for name, m, local, buf in self._state_owners()
        )
        own = OrderedDict(
            (name, m._buffers[local] if buf else m._parameters[local])
            for name, (m, local, buf) in owners.items()
        )
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
            if not isinstance(value, (np.ndarray, np.generic, Tensor)):
                problems.append(
                    f"'{name}' is a {type(value).__name__}, expected a numpy array or Tensor"
                )
                continue
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.shape != p.shape:
                problems.append(
                    f"shape mismatch for '{name}': the model has {p.shape}, the "
                    f"state dict has {array.shape}"
                )
            elif not (
                np.issubdtype(array.dtype, np.floating)
                or np.issubdtype(array.dtype, np.integer)
                or array.dtype == bool
            ):
                problems.append(f"'{name}' has dtype {array.dtype}, not a real number type")
            elif (
                check_finite
                and np.issubdtype(array.dtype, np.floating)
                and not np.isfinite(array).all()
            ):
                bad = int(array.size - np.count_nonzero(np.isfinite(array)))
                problems.append(
                    f"'{name}' holds {bad} non-finite value(s) (NaN or inf); pass "
                    f"check_finite=False to load them"
                )
            else:
                new[name] = array.astype(p.dtype, copy=True)
        if problems:
            raise ValueError(
                f"load_state_dict: cannot load into {type(self).__name__}: "
                + "; ".join(problems)
                + " (nothing was loaded; the module is "
                "unchanged)"
            )
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
        tmp = os.path.join(
            os.path.dirname(os.path.abspath(path)),
            f".tmp-{os.getpid()}-{id(self):x}-{os.path.basename(path)}",
        )
        try:
            with (
                open(tmp, "wb") as f,
                zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive,
            ):
                for name, array in self.state_dict().items():
                    with archive.open(name + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def load(
        self, path: str | os.PathLike, strict: bool = True, check_finite: bool = True
    ) -> IncompatibleKeys:
        """Load parameters saved by `save` (plain .npy members, never unpickled), with the
        checks and dtype casts of `load_state_dict`.

        The archive's directory and each member's .npy header are checked before any
        array is read: with `strict` an unexpected or missing key is an error, and a
        member whose shape differs from the model's, or whose header disagrees with its
        size, is one always.  Unexpected members are never read (with `strict=False` they
        are only reported), so a file cannot make loading use more memory than the
        model's own state.  Any problem raises ValueError and leaves the module
        unchanged; a missing file raises FileNotFoundError."""
        path = os.fspath(path)
        where = f"Module.load: '{path}'"
        with open(path, "rb") as f:
            if f.read(len(NPY_MAGIC)) == NPY_MAGIC:
                raise ValueError(
                    f"{where} holds a single array, not an .npz archive of named "
                    f"parameters; the module is unchanged"
                )
        try:
            archive = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile, ValueError, EOFError) as e:
            raise ValueError(
                f"{where} is not a readable .npz state file "
                f"({type(e).__name__}: {e}); the module is unchanged"
            ) from e
        with archive:
            members = {
                (n[:-4] if n.endswith(".npy") else n): archive.getinfo(n)
                for n in archive.namelist()
            }
            shapes = OrderedDict(
                (name, (m._buffers[local] if buf else m._parameters[local]).shape)
                for name, m, local, buf in self._state_owners()
            )
            missing = [k for k in shapes if k not in members]
            unexpected = [k for k in members if k not in shapes]
            if strict and (missing or unexpected):
                problems = ([f"missing keys: {missing}"] if missing else []) + (
                    [f"unexpected keys: {unexpected}"] if unexpected else []
                )
                raise ValueError(
                    f"{where}: cannot load into {type(self).__name__}: "
                    + "; ".join(problems)
                    + " (nothing was read; the module is "
                    "unchanged)"
                )
            try:
                problems = [
                    p
                    for name in shapes
                    if name in members
                    for p in [_check_npy_member(archive, members[name], shapes[name], name)]
                    if p
                ]
                if problems:
                    raise _HeaderProblems("; ".join(problems))
                state = {}
                for name in shapes:
                    if name in members:
                        with archive.open(members[name]) as member:
                            state[name] = np.lib.format.read_array(member, allow_pickle=False)
                            member.read()  # to the end, so that the member's CRC is checked
            except _HeaderProblems as e:
                raise ValueError(
                    f"{where}: cannot load into {type(self).__name__}: {e} (nothing "
                    f"was read; the module is unchanged)"
                ) from None
            except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
                raise ValueError(
                    f"{where} is a damaged .npz archive "
                    f"({type(e).__name__}: {e}); the module is unchanged"
                ) from e
        result = self.load_state_dict(state, strict=strict, check_finite=check_finite)
        return IncompatibleKeys(result.missing_keys, unexpected)

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
