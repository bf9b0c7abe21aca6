"""The contract check's wiring (tests/contract, run by conftest.py after
every test): the stand-ins journal every request, zhub's requests carry
User-Agent zhub/<version>, and only those are held against the
references — a test's own deliberately bad request is not blamed on zhub."""
import os
import re
import subprocess

from conftest import contract_findings
from harness import BUILD_DIR, SOURCE_ROOT
from peer_http import HUBSPOT_AUTH, http

import providers

ZHUB = os.path.join(BUILD_DIR, "cli", "zhub")


def project_version():
    with open(os.path.join(SOURCE_ROOT, "meson.build")) as f:
        return re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)


def test_contract_check_sees_zhub_requests_and_not_the_tests(hub):
    hub.start_peer("hubspot", "--no-custom-properties")
    setup = subprocess.run([ZHUB, "hubspot", "setup", "--json"], env=hub.env,
                           capture_output=True, text=True, timeout=30)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    # the test's own request, breaking HubSpot's schema on purpose: a
    # property value that is a number
    status, _ = http("POST", hub.peers["hubspot"] + "/crm/v3/objects/contacts",
                     {"properties": {"firstname": 7}}, HUBSPOT_AUTH)
    assert status in (201, 400)

    entries = hub.recorded_requests()["hubspot"]
    agents = {e["headers"].get("user-agent", "") for e in entries}
    assert "zhub/" + project_version() in agents
    ours = [e for e in entries if e["path"] == "/crm/v3/objects/contacts"]
    assert ours and not ours[0]["headers"].get("user-agent", "").startswith("zhub/")

    # zhub's own requests (property reads and creates) follow the reference;
    # the bad one above is not zhub's, so nothing is reported
    assert contract_findings(hub) == ([], [])
    # had zhub sent that request, it would be reported, naming the rule
    as_zhub = dict(ours[0], headers=dict(ours[0]["headers"], **{"user-agent": "zhub/x"}))
    violations, _ = providers.check("hubspot", [as_zhub])
    assert [v.rule for v in violations] == ["body-schema"]
    assert "firstname: must be string" in violations[0].detail
