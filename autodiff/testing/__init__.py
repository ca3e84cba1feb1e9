"""autodiff.testing: property-based derivative checks, as used by the project's own tests.

    from autodiff.testing import check_grads, strategies
    check_grads(my_fn, (x,), modes=("fwd", "rev"), order=2)

`strategies` holds hypothesis strategies (arrays in a domain, broadcastable shapes, axes,
index expressions, random expression graphs); `load_profile()` selects the "ci" or
"deep" hypothesis profile from $AUTODIFF_HYPOTHESIS_PROFILE.
"""
from . import strategies
from .gradcheck import check_grads
from .profiles import load_profile

__all__ = ["check_grads", "strategies", "load_profile"]
