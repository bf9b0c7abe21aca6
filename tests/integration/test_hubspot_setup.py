"""`zhub hubspot setup` against the stand-in HubSpot started without the
custom properties: it creates them once, reports them as existing after,
and says so with exit codes scripts can rely on."""
import json
import os
import subprocess

from harness import BINARIES, BUILD_DIR, free_port, wait_until
from test_contact_sync import (HUBSPOT_AUTH, bus_messages, http, inbound_message, peer_requests,
                               peer_state, post_bird_webhook, seed_bird_contact)
from zhub_bus import Bus, envelope

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


def test_sync_actors_wait_for_their_properties_then_process_what_waited(hub):
    """Started against a portal without zhub's properties, contact-sync and
    deal-sync consume nothing (no dead letters), say once what is missing
    and what to run; once `zhub hubspot setup` ran they start, and the
    events that waited are processed."""
    hub.start_peer("hubspot", "--no-custom-properties")
    hub.start_peer("bird")
    hub.start("broker")
    hub.start("gateway")
    hub.start("dead-letter")
    quick = {"ZHUB_READY_RETRY": "200ms"}
    contact_sync = hub._start("contact-sync", [BINARIES["contact-sync"]],
                              ready_text="event=not_ready", extra_env=quick)
    deal_sync = hub._start("deal-sync", [BINARIES["deal-sync"]], ready_text="event=not_ready",
                           extra_env=quick)

    # a WhatsApp contact writes in, and the AI qualifies them
    bird_id = seed_bird_contact(hub, "Ana López", "+5215512345678")
    status, _ = post_bird_webhook(hub, inbound_message(bird_id, "+5215512345678"))
    assert 200 <= status < 300
    bus = Bus(hub.env["ZHUB_BROKER"], "pytest-ai")
    try:
        reply = bus.publish(envelope("stage-1", "conversation.stage_changed",
                                     subject="contact:" + bird_id,
                                     data={"bird_contact_id": bird_id, "conversation_id": "c-1",
                                           "stage": "qualified", "agent_type": "qualifier"}))
        assert reply["cmd"] == "PUBACK"
    finally:
        bus.close()

    for proc, missing in ((contact_sync, "contacts.bird_contact_id"),
                          (deal_sync, "deals.zhub_deal_key")):
        lines = [l for l in proc.log_text().splitlines() if "event=not_ready" in l]
        # one line, however often it checked
        assert len(lines) == 1, lines
        assert missing in lines[0] and "zhub hubspot setup" in lines[0], lines[0]
        assert "event=ready " not in proc.log_text()
    assert peer_requests(hub, "hubspot", "/crm/v3/objects") == []
    assert bus_messages(hub, "dlq.>", quiet=0.5) == []

    assert run_setup(hub).returncode == 0
    for proc in (contact_sync, deal_sync):
        wait_until(lambda: "event=ready " in proc.log_text(), timeout=15,
                   what="%s to start consuming" % proc.name)
    deal = wait_until(lambda: [d for d in peer_state(hub, "hubspot")["deals"]
                               if d["properties"].get("zhub_deal_key") == bird_id + "/default"],
                      timeout=20, what="the deal of the waiting AI event")[0]
    assert deal["properties"]["dealstage"] == "appointmentscheduled"
    contact = [c for c in peer_state(hub, "hubspot")["contacts"]
               if c["properties"].get("bird_contact_id") == bird_id]
    assert len(contact) == 1 and contact[0]["properties"]["firstname"] == "Ana"
    assert bus_messages(hub, "dlq.>", quiet=0.5) == []
