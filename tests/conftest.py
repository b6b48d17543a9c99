import os

import pytest

try:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci", derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
    )
    settings.register_profile(
        "fuzz", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck)
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # hypothesis is a dev extra
    pass


@pytest.fixture(scope="session")
def radon_df():
    from decenter.examples.radon import load_radon

    return load_radon()
