import json
import urllib.request

import pytest

from harness import Hub

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


@pytest.fixture
def hub(tmp_path, request):
    """A fresh set of ports and data dir; every process started through it
    is stopped at the end, and its logs are printed when the test failed.
    A sanitizer report in any zhub process's log fails the test: in the
    sanitizer build that is how a leak or undefined behaviour shows up.
    So does a HubSpot property value zhub sent as anything but a JSON
    string: HubSpot's contract types them all as strings (the stand-in
    accepts and records the breach, as the live API coerces)."""
    h = Hub(tmp_path)
    yield h
    breaches = _contract_violations(h)
    h.stop_all()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(h.logs())
    reports = [p.name for p in h.procs
               if not p.name.endswith("-peer") and any(m in p.log_text() for m in SANITIZER_MARKS)]
    if reports:
        print(h.logs())
        pytest.fail("sanitizer report in the log of: %s" % ", ".join(reports))
    if breaches:
        pytest.fail("zhub wrote HubSpot property values that are not strings: %s" % breaches)


def _contract_violations(hub):
    """What the stand-in HubSpot saw zhub's processes send against its
    string-typed property contract (hubspot_validation.py). Empty when no
    stand-in HubSpot ran or it is gone."""
    url = hub.peers.get("hubspot")
    if not url:
        return []
    try:
        with urllib.request.urlopen(url + "/__peer/state", timeout=5) as resp:
            seen = json.loads(resp.read()).get("contract_violations", [])
    except (OSError, ValueError):
        return []
    return [v for v in seen if v.get("user_agent", "").startswith("zhub/")]


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
