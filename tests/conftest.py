import experiments  # noqa: F401  (fails loudly if another package named `datasets` shadows ours)
from autodiff.testing import load_profile

load_profile()  # "ci" unless AUTODIFF_HYPOTHESIS_PROFILE says otherwise
