import json
import os
import sys

import pytest

from harness import Hub, SOURCE_ROOT

# The contract checker (tests/contract): every request a zhub process made
# to a stand-in is held against the provider's official reference.
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "contract"))
import providers  # noqa: E402
from contract import report  # noqa: E402

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def contract_findings(hub):
    """(violations, warnings) over every request zhub made to the
    stand-ins of this test (read from their request journals)."""
    violations, warnings = [], []
    for kind, entries in sorted(hub.recorded_requests().items()):
        found, known = providers.check(kind, entries)
        violations += found
        warnings += known
    return violations, warnings


def _log_findings(hub, test, violations, warnings):
    """With ZHUB_CONTRACT_LOG set, appends every finding as one JSON line
    (test, provider, operation, rule, detail, request, known), and one line
    with the operations checked: a whole run can then be counted."""
    path = os.environ.get("ZHUB_CONTRACT_LOG")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as f:
        seen = {kind: providers.operations_seen(kind, entries)
                for kind, entries in hub.recorded_requests().items()}
        f.write(json.dumps({"test": test, "checked": seen}) + "\n")
        for known, found in ((False, violations), (True, warnings)):
            for v in found:
                f.write(json.dumps({"test": test, "provider": v.provider,
                                    "operation": v.operation, "rule": v.rule,
                                    "detail": v.detail, "request": v.request,
                                    "known": known}) + "\n")


@pytest.fixture
def hub(tmp_path, request):
    """A fresh set of ports and data dir; every process started through it
    is stopped at the end, and its logs are printed when the test failed.
    A sanitizer report in any zhub process's log fails the test: in the
    sanitizer build that is how a leak or undefined behaviour shows up.
    So does a request zhub made that breaks a provider's reference (the
    contract check, tests/contract/README.md); known ones only warn."""
    h = Hub(tmp_path)
    yield h
    h.stop_all()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(h.logs())
    reports = [p.name for p in h.procs
               if not p.name.endswith("-peer") and any(m in p.log_text() for m in SANITIZER_MARKS)]
    if reports:
        print(h.logs())
        pytest.fail("sanitizer report in the log of: %s" % ", ".join(reports))
    violations, warnings = contract_findings(h)
    _log_findings(h, request.node.nodeid, violations, warnings)
    if warnings:
        print(report(warnings, "contract: known violations (KNOWN_VIOLATIONS, not failing)"))
    if violations:
        pytest.fail(report(violations, "contract: requests zhub made that break the "
                                       "providers' references"), pytrace=False)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
