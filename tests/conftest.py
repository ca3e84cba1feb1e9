from autodiff.testing import load_profile

load_profile()  # "ci" unless AUTODIFF_HYPOTHESIS_PROFILE says otherwise
