"""fastact: neural-network activation functions and their derivatives, as fast NumPy ufunc-like calls.

Every activation ``NAME`` comes as ``NAME(x, ...)``, ``NAME_grad(x, grad_out=None, ...)`` and, where the
derivative is a function of the output, ``NAME_grad_from_output(y, grad_out=None, ...)``. The kernels are
Rust (SIMD chosen at run time, multithreaded); ``fastact.reference`` holds the pure-NumPy versions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from . import _registry
from ._registry import Entry, get, names, register  # noqa: F401 (public API, listed in __all__)

globals().update(_registry.namespace(_registry.PUBLIC_FUNCTIONS))

from . import _axis  # noqa: E402  (after the elementwise namespace: the GLU gates use it)

globals().update(_axis.namespace(_axis.AXIS_FUNCTIONS))

from . import _fused  # noqa: E402  (fused operations call the elementwise and axis helpers)

globals().update(_fused.FUSED_FUNCTIONS)

from . import reference  # noqa: E402, F401  (after the namespace: reference imports the registry too)
from ._plot import plot  # noqa: E402, F401  (matplotlib itself is imported on the first call)

__version__ = "0.1.0"

_fallback_threads = 1


def backend() -> str:
    """'native' when the Rust kernels are loaded, 'reference' when the NumPy fallback is in use."""
    return "native" if _registry.NATIVE is not None else "reference"


def simd_level() -> str:
    """The instruction set the kernels run with: 'avx512', 'avx2', 'sse2' or 'neon' ('none' without native)."""
    return _registry.NATIVE.simd_level() if _registry.NATIVE is not None else "none"


def get_num_threads() -> int:
    """Threads used for large arrays (default: FASTACT_NUM_THREADS, else every core)."""
    return _registry.NATIVE.get_num_threads() if _registry.NATIVE is not None else _fallback_threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for large arrays from now on (``n >= 1``)."""
    global _fallback_threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads(): n={n!r} is not allowed; n must be an integer >= 1")
    if _registry.NATIVE is not None:
        _registry.NATIVE.set_num_threads(n)
    _fallback_threads = n


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Context manager: use ``n`` threads inside the ``with`` block, then restore the previous count."""
    previous = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(previous)


__all__ = sorted(
    [*_registry.namespace(_registry.PUBLIC_FUNCTIONS), *_axis.namespace(_axis.AXIS_FUNCTIONS),
     *_fused.FUSED_FUNCTIONS]
    + ["Entry", "backend", "get", "get_num_threads", "names", "num_threads", "plot", "reference",
       "register", "set_num_threads", "simd_level"]
)
