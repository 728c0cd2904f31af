"""Pure-NumPy implementations of every fastact function, with the same signatures and behaviour.

They are what fastact runs when the native module is unavailable (or ``FASTACT_DISABLE_NATIVE=1``), and
an independent oracle for the native kernels: numerically careful float64 formulas (double-double products
in the exponent arguments, no cancellation), float32 computed in float64 and rounded once.
"""

from __future__ import annotations

from . import _axis, _fused, _registry

globals().update(_registry.namespace(_registry.REFERENCE_FUNCTIONS))
globals().update(_axis.namespace(_axis.REFERENCE))
globals().update(_fused.REFERENCE)

__all__ = sorted(
    [*_registry.namespace(_registry.REFERENCE_FUNCTIONS), *_axis.namespace(_axis.REFERENCE), *_fused.REFERENCE]
)
