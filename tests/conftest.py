import os
import zlib

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


def seed_shift() -> int:
    """The shift every sampling test adds to its base seed: ``DECENTER_TEST_SEED`` (default 0).

    A statistical test must pass at any shift; CI runs the suite at 0, 1 and 2.
    """
    return int(os.environ.get("DECENTER_TEST_SEED", "0"))


def seed_for(name: str) -> int:
    """A base seed that is stable per test (or module) name, plus the shift.

    Distinct tests draw distinct streams, so one lucky seed cannot carry the whole suite.
    """
    return zlib.crc32(name.encode()) % 10_000 + seed_shift()


@pytest.fixture
def seed(request) -> int:
    """The random seed of one test: stable base from the test's name, shifted by the env var."""
    return seed_for(request.node.originalname)


@pytest.fixture(scope="module")
def module_seed(request) -> int:
    """The seed of a module-scoped fixture (one sampling run shared by several tests)."""
    return seed_for(request.module.__name__)


@pytest.fixture(scope="session")
def radon_df():
    from decenter.examples.radon import load_radon

    return load_radon()


# --- `make test` skips nothing for a missing package ------------------------------------------
# The dev extra installs every optional integration; a test skipped because one is missing would
# let CI go green without testing it. With DECENTER_NO_SKIPS=1 (set by `make test`) such a skip
# fails the run.
_MISSING = ("could not import", "no module named", "not installed", "empty parameter set")
_missing_skips: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if any(word in reason.lower() for word in _MISSING):
            _missing_skips.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if _missing_skips and os.environ.get("DECENTER_NO_SKIPS") == "1":
        lines = "\n  ".join(_missing_skips)
        print(f"\nDECENTER_NO_SKIPS=1: tests skipped for a missing package:\n  {lines}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
