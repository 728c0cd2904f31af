"""Arrays from other libraries: the one place where fastact turns an argument into a NumPy array.

* A NumPy array is used as it is; a subclass (``numpy.memmap``, ``numpy.matrix``) as a plain ndarray view of
  the same memory, so that every function returns plain arrays. A masked array (``numpy.ma``) is refused with
  a message: fastact computes every element, and would otherwise either drop the mask or return values
  computed through the masked entries (a softmax whose visible entries do not sum to 1).
* An object that exports DLPack (``__dlpack__``: a PyTorch CPU tensor, a JAX CPU array) is viewed with
  ``numpy.from_dlpack``: the same memory, no copy. One on another device (a GPU) is refused with a message,
  since fastact computes on the CPU.
* Anything else NumPy understands goes through ``numpy.asarray``: the buffer protocol (memoryview,
  array.array, bytes) and ``__array_interface__`` are viewed without a copy, ``__array__`` returns what its
  producer returns, lists and scalars become new arrays.
* A dask array is never converted here (``numpy.asarray`` would compute it): the public functions check
  :func:`is_dask` first and build a lazy graph instead (``_dask.py``).

Results are always NumPy arrays; ``out=`` must be one, and not a masked array (see :func:`out_hint`).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = ["as_array", "is_dask", "out_hint"]

#: DLPack's device types (dlpack.h, DLDeviceType), for the message when an array is not in CPU memory.
_DLPACK_DEVICES = {1: "CPU", 2: "CUDA", 3: "CUDA host", 4: "OpenCL", 7: "Vulkan", 8: "Metal", 9: "VPI",
                   10: "ROCm", 11: "ROCm host", 13: "CUDA managed", 14: "oneAPI"}
_KDLCPU = 1


def as_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a NumPy array, without a copy wherever its producer allows one (see the module doc)."""
    if type(value) is np.ndarray:
        return value
    if isinstance(value, np.ndarray):
        if isinstance(value, np.ma.MaskedArray):
            where = (f"; the softmax family takes where=~numpy.ma.getmaskarray({name}) to leave masked entries "
                     "out" if name == "x" else "")
            raise TypeError(
                f"{name} is a masked array (numpy.ma), and fastact computes every element: pass "
                f"numpy.ma.getdata({name}) or {name}.filled(value) and mask the result yourself{where}"
            )
        return value.view(np.ndarray)
    if hasattr(value, "__dlpack__") and not isinstance(value, np.generic):
        _check_cpu(value, name)
        try:
            return np.from_dlpack(value)
        except Exception as exc:  # e.g. a dtype NumPy lacks (bfloat16) or a tensor that requires grad
            dlpack_error = exc
        try:  # the producer may still convert itself through __array__
            return np.asarray(value)
        except Exception:
            raise TypeError(f"{name} could not be converted to a NumPy array: {dlpack_error}") from None
    try:
        return np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} could not be converted to a NumPy array: {exc}") from None


def _check_cpu(value: Any, name: str) -> None:
    device = getattr(value, "__dlpack_device__", None)
    if device is None:
        return
    try:
        kind, index = device()
    except Exception:  # let from_dlpack report whatever is wrong
        return
    if int(kind) != _KDLCPU:
        where = _DLPACK_DEVICES.get(int(kind), f"DLPack device type {int(kind)}")
        raise TypeError(
            f"{name} is in {where} memory (device {index}); fastact computes on the CPU: move it there first "
            "(e.g. tensor.cpu(), jax.device_get(array))"
        )


def is_dask(value: Any) -> bool:
    """Whether ``value`` is a dask array. Cheap, and never imports dask: if ``dask.array`` has not been
    imported, nothing can be one."""
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(value, module.Array)


def out_hint(out: Any) -> str:
    """What to say when ``out=`` is not a NumPy array."""
    kind = f"{type(out).__module__}.{type(out).__qualname__}".removeprefix("builtins.")
    if hasattr(out, "__dlpack__"):
        return (f"out must be a numpy.ndarray, got {kind}; results are NumPy arrays: to write into its memory "
                "pass out=numpy.from_dlpack(out) (CPU memory, no copy)")
    if is_dask(out):
        return f"out must be a numpy.ndarray, got {kind}; with dask inputs the result is a new lazy dask array"
    return f"out must be a numpy.ndarray, got {kind}"
