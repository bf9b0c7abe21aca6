"""`zhub hubspot setup` against the stand-in HubSpot started without the
custom properties: it creates them once, reports them as existing after,
and says so with exit codes scripts can rely on."""
import json
import os
import subprocess

from harness import BUILD_DIR, free_port
from test_contact_sync import HUBSPOT_AUTH, http

ZHUB = os.path.join(BUILD_DIR, "cli", "zhub")
NEEDED = {("contacts", "bird_contact_id"), ("contacts", "ai_conversation_status"),
          ("contacts", "urbanhub_property_interest"), ("deals", "zhub_deal_key"),
          ("deals", "ai_agent_type"), ("deals", "conversation_id"),
          ("deals", "qualification_score"), ("deals", "property_interest"),
          ("deals", "tour_scheduled_date"), ("deals", "last_ai_interaction")}


def run_setup(hub, *args, env=None):
    out = subprocess.run([ZHUB, "hubspot", "setup", *args], env=env or hub.env,
                         capture_output=True, text=True, timeout=30)
    return out


def test_hubspot_setup_creates_custom_properties_once(hub):
    hub.start_peer("hubspot", "--no-custom-properties")
    dry = run_setup(hub, "--dry-run", "--json")
    assert dry.returncode == 1, dry.stderr
    assert {p["status"] for p in json.loads(dry.stdout)["properties"]} == {"missing"}

    first = run_setup(hub, "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    rows = json.loads(first.stdout)["properties"]
    assert {(r["object"], r["name"]) for r in rows} == NEEDED
    assert {r["status"] for r in rows} == {"created"}
    for kind, unique in (("contacts", "bird_contact_id"), ("deals", "zhub_deal_key")):
        status, prop = http("GET", "%s/crm/v3/properties/%s/%s" % (hub.peers["hubspot"], kind,
                                                                   unique), headers=HUBSPOT_AUTH)
        assert status == 200 and prop["hasUniqueValue"] is True
    status, prop = http("GET", hub.peers["hubspot"] + "/crm/v3/properties/deals/qualification_score",
                        headers=HUBSPOT_AUTH)
    assert prop["type"] == "number"

    again = run_setup(hub)
    assert again.returncode == 0
    assert again.stdout.count(" exists") == len(NEEDED) and "created" not in again.stdout


def test_hubspot_setup_reports_mismatch_unreachable_and_usage(hub):
    hub.start_peer("hubspot", "--no-custom-properties")
    # someone created bird_contact_id by hand, without "unique"
    status, _ = http("POST", hub.peers["hubspot"] + "/crm/v3/properties/contacts", {
        "name": "bird_contact_id", "label": "Bird", "type": "string", "fieldType": "text",
        "groupName": "contactinformation"}, HUBSPOT_AUTH)
    assert status == 201
    out = run_setup(hub, "--json")
    assert out.returncode == 1
    rows = {r["name"]: r for r in json.loads(out.stdout)["properties"]}
    assert rows["bird_contact_id"]["status"] == "mismatch"
    assert "unique" in rows["bird_contact_id"]["detail"]
    assert rows["zhub_deal_key"]["status"] == "created"

    down = dict(hub.env, ZHUB_HUBSPOT_BASE_URL="http://127.0.0.1:%d" % free_port())
    assert run_setup(hub, env=down).returncode == 3
    assert run_setup(hub, env=dict(hub.env, ZHUB_HUBSPOT_TOKEN="")).returncode == 2
    assert subprocess.run([ZHUB, "hubspot", "teardown"], env=hub.env,
                          capture_output=True).returncode == 2
    help_ = subprocess.run([ZHUB, "hubspot", "--help"], capture_output=True, text=True)
    assert help_.returncode == 0 and "setup" in help_.stdout
