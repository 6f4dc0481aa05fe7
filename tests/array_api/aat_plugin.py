"""pytest plugin for tools/run_array_api_tests.sh: after the suite's conftest loads its
Hypothesis profile, drop Hypothesis's `explain` phase. That phase re-runs every failing example
under a line tracer to print which lines it reached; in Python 3.11 the tracer makes one failing
test take minutes, so the suite could not finish on this 2-core machine. Every example is still
generated, run and shrunk as before."""
import pytest
from hypothesis import Phase, settings


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    current = settings.get_profile("array-api-tests")
    settings.register_profile("array-api-tests-no-explain", parent=current,
                              phases=[p for p in current.phases if p is not Phase.explain])
    settings.load_profile("array-api-tests-no-explain")
