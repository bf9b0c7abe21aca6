"""A dead letter re-run through the current mapping: `zhub dlq replay ID
--dry-run` shows what the letter's group would now do with it under the
operators' mapping file (the actor's own pure plan code, linked into the
CLI), changes nothing, and the replay then lets the running actor apply the
fixed mapping. Checked on what a user would look at: the dry run's text and
JSON, the stand-in HubSpot's records, the letter in `zhub dlq show`."""
import json
import os
import subprocess
import time

from harness import BINARIES, wait_until
from test_contact_sync import BIRD_AUTH, HUBSPOT_AUTH, http, peer_state, post_bird_webhook
from zhub_bus import Bus, envelope

FAST = {
    "ZHUB_BROKER_ACK_DEADLINE": "2s",
    "ZHUB_BROKER_BACKOFF": "100ms",
    "ZHUB_BROKER_MAX_DELIVERIES": "5",
}


def zhub(hub, *args, timeout=30):
    return subprocess.run([BINARIES["zhub"]] + list(args), env=hub.env, capture_output=True,
                          text=True, timeout=timeout)


def zhub_json(hub, *args):
    result = zhub(hub, *args, "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def write_mapping(path, mapping):
    path.write_text(json.dumps(mapping))
    return str(path)


def budget_to(prop):
    return {"contact": {"fields": [{"bird": "attributes.budget", "hubspot": prop,
                                    "direction": "to_hubspot"}]}}


def hubspot_contacts_of(hub, bird_id):
    return [c for c in peer_state(hub, "hubspot")["contacts"]
            if c["properties"].get("bird_contact_id") == bird_id]


def test_fixed_mapping_is_previewed_by_dry_run_then_the_replay_lands_it(hub, tmp_path):
    # The operators map the Bird attribute "budget" to a HubSpot property
    # whose values it cannot be (lifecyclestage, an enumeration): HubSpot
    # refuses the write (400) when the batch sends it, and contact-sync
    # dead-letters the message that queued it. (A property that does not
    # exist at all keeps contact-sync from starting.)
    mapping = tmp_path / "mapping.json"
    hub.env["ZHUB_MAPPING_FILE"] = write_mapping(mapping, budget_to("lifecyclestage"))
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker", extra_env=FAST)
    hub.start("gateway")
    hub.start("dead-letter")
    sync = hub.start("contact-sync")

    status, contact = http("POST", "%s/workspaces/%s/contacts" % (hub.peers["bird"], hub.WORKSPACE),
                           {"displayName": "Ana López",
                            "identifiers": [{"key": "phonenumber", "value": "+5215512345678"}],
                            "attributes": {"budget": "15000"}}, BIRD_AUTH)
    assert status == 201, contact
    bird_id = contact["id"]
    status, _ = post_bird_webhook(hub, {"service": "contacts", "event": "contact.updated",
                                        "payload": contact})
    assert 200 <= status < 300
    [row] = wait_until(lambda: zhub_json(hub, "dlq", "list"), 15, 0.1, "the dead letter")
    assert row["group"] == "contact-sync" and "not one of the allowed options" in row["reason"], \
        row
    assert hubspot_contacts_of(hub, bird_id) == []

    # Under the mapping as it is, the preview shows the same broken write.
    [before] = zhub_json(hub, "dlq", "replay", "1", "--dry-run")
    assert before["preview"]["outcome"] == "write"
    assert "lifecyclestage" in [c["field"] for c in before["preview"]["changes"]]

    # A candidate file can be tried before it is deployed. contact-sync
    # knows the contact (its write was queued), but, HubSpot having refused
    # it, not that HubSpot holds any of its values: "from" is none known.
    fixed = write_mapping(tmp_path / "fixed.json", budget_to("company"))
    [candidate] = zhub_json(hub, "dlq", "replay", "1", "--dry-run", "--mapping", fixed)
    assert candidate["preview"]["mapping"] == fixed
    assert {"field": "company", "from": None, "to": "15000"} in candidate["preview"]["changes"]
    assert zhub(hub, "dlq", "replay", "1", "--mapping", fixed).returncode == 2

    # The operator fixes the mapping file and restarts contact-sync (it
    # reads the file at start).
    write_mapping(mapping, budget_to("company"))
    sync.stop()
    hub.start("contact-sync")

    dry = zhub(hub, "dlq", "replay", "1", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout
    assert "would publish replay:1:" in out
    assert "under the mapping in %s, contact-sync would write to HubSpot:" % mapping in out
    assert "POST /crm/v3/objects/contacts/batch/upsert (hubspot upsert contact)" in out
    assert 'company: (none known) -> "15000"' in out
    assert 'firstname: (none known) -> "Ana"' in out
    assert 'phone: (none known) -> "+525512345678"' in out
    assert "lifecyclestage" not in out.split("under the mapping", 1)[1]
    assert "(dry run: nothing was published)" in out
    [preview_row] = zhub_json(hub, "dlq", "replay", "1", "--dry-run")
    preview = preview_row["preview"]
    assert preview["group"] == "contact-sync" and preview["outcome"] == "write"
    assert preview["call"]["method"] == "POST" and preview["call"]["api"] == "hubspot"
    assert preview["call"]["body"]["inputs"][0]["properties"]["company"] == "15000"
    # the refused write was withdrawn from what contact-sync stored
    assert preview["stored"] == "found"
    assert all(c["from"] is None for c in preview["changes"]), preview["changes"]

    # The dry runs changed nothing: no replay, nothing in HubSpot.
    time.sleep(0.5)
    assert zhub_json(hub, "dlq", "show", "1")["replays"] == 0
    assert hubspot_contacts_of(hub, bird_id) == []

    # The replay: the running contact-sync applies the fixed mapping.
    replay = zhub(hub, "dlq", "replay", "1")
    assert replay.returncode == 0, replay.stderr + replay.stdout
    [landed] = wait_until(lambda: hubspot_contacts_of(hub, bird_id), 15, 0.1,
                          "the contact in the HubSpot stand-in")
    status, record = http("GET", "%s/crm/v3/objects/contacts/%s?properties=company,firstname,phone"
                          % (hub.peers["hubspot"], landed["id"]), headers=HUBSPOT_AUTH)
    assert status == 200, record
    assert record["properties"]["company"] == "15000"
    assert record["properties"]["firstname"] == "Ana"
    assert zhub_json(hub, "dlq", "show", "1")["replays"] == 1
    assert len(zhub_json(hub, "dlq", "list")) == 1  # it did not fail again

    # Once contact-sync has committed the sync, its store knows what HubSpot
    # holds (read here read-only): another run would write nothing.
    [again] = wait_until(
        lambda: (lambda rows: rows if rows[0]["preview"]["outcome"] == "skip" else None)(
            zhub_json(hub, "dlq", "replay", "1", "--dry-run", "--again")),
        10, 0.1, "contact-sync's record of the synced contact")
    assert again["replay_id"].startswith("replay:2:")
    assert again["preview"]["stored"] == "found", again["preview"]


def dead_letter(producer, consumer, msg, code=422, reason="invalid input"):
    producer.publish(msg)
    delivery = consumer.recv(5)
    assert delivery is not None and delivery["message"]["id"] == msg["id"]
    consumer.nack(delivery["tag"], terminal=True, code=code, reason=reason)


def test_dry_run_previews_the_stage_map_and_says_when_no_mapping_applies(hub, tmp_path):
    mapping = tmp_path / "mapping.json"
    hub.env["ZHUB_MAPPING_FILE"] = write_mapping(
        mapping, {"deal": {"stages": {"application": "presentationscheduled"}}})
    hub.start("broker", extra_env=FAST)
    hub.start("dead-letter")
    producer = Bus(hub.env["ZHUB_BROKER"], "producer")
    deal, activity = Bus(hub.env["ZHUB_BROKER"], "deal"), Bus(hub.env["ZHUB_BROKER"], "activity")
    try:
        deal.join("deal-sync", ["conversation.stage_changed"], credit=1)
        activity.join("activity-log", ["conversation.message"], credit=1)
        dead_letter(producer, deal, envelope(
            "stage-1", "conversation.stage_changed", subject="contact:b-7",
            data={"bird_contact_id": "b-7", "conversation_id": "c-1", "stage": "application",
                  "agent_type": "followup"}), 400, "hubspot upsert deal: HTTP 400")
        dead_letter(producer, deal, envelope(
            "stage-2", "conversation.stage_changed", subject="contact:b-8",
            data={"bird_contact_id": "b-8", "stage": "viewing"}), 2001, "unknown stage")
        dead_letter(producer, activity, envelope(
            "msg-1", "conversation.message", subject="contact:b-7",
            data={"bird_contact_id": "b-7", "conversation_id": "c-1", "direction": "in",
                  "text": "hola"}))
    finally:
        for bus in (producer, deal, activity):
            bus.close()
    wait_until(lambda: len(zhub_json(hub, "dlq", "list")) == 3, 10, 0.1, "three dead letters")
    # letters of different subjects may be stored in either order
    seq = {r["original_id"]: str(r["id"]) for r in zhub_json(hub, "dlq", "list")}
    stage1, stage2, msg1 = seq["stage-1"], seq["stage-2"], seq["msg-1"]

    [row] = zhub_json(hub, "dlq", "replay", stage1, "--dry-run")
    preview = row["preview"]
    assert preview["group"] == "deal-sync" and preview["outcome"] == "write"
    changes = {c["field"]: c for c in preview["changes"]}
    assert changes["dealstage"]["to"] == "presentationscheduled"
    assert changes["ai_agent_type"]["to"] == "followup"
    assert "b-7/default" in preview["target"] and preview["stored"] == "none"

    # another file: another pipeline, another deal key
    rentals = write_mapping(tmp_path / "rentals.json", {"deal": {"pipeline": "rentals"}})
    [row] = zhub_json(hub, "dlq", "replay", stage1, "--dry-run", "--mapping", rentals)
    assert "b-7/rentals" in row["preview"]["target"]
    assert {c["field"]: c["to"] for c in row["preview"]["changes"]}["dealstage"] == "contractsent"

    # a file that does not load: the actor would not start with it
    broken = tmp_path / "broken.json"
    broken.write_text('{"deal": {"stages": {"application": ')
    out = zhub(hub, "dlq", "replay", stage1, "--dry-run", "--mapping", str(broken))
    assert out.returncode == 0 and "deal-sync would refuse to start" in out.stdout

    # a validation error the mapping cannot fix
    out = zhub(hub, "dlq", "replay", stage2, "--dry-run")
    assert "deal-sync would reject it again (code 2001)" in out.stdout
    assert 'data.stage "viewing" is not a stage of the catalogue' in out.stdout

    # a group no mapping applies to
    out = zhub(hub, "dlq", "replay", msg1, "--dry-run")
    assert out.returncode == 0
    assert "no mapping applies: activity-log uses no mapping" in out.stdout
    [row] = zhub_json(hub, "dlq", "replay", msg1, "--dry-run")
    assert row["preview"]["outcome"] == "not_mapped"

    # every letter of a group at once, and the edit's dry run previews too
    rows = zhub_json(hub, "dlq", "replay", "--group", "deal-sync", "--dry-run")
    assert sorted(r["preview"]["outcome"] for r in rows) == ["reject", "write"]
    edit = zhub(hub, "dlq", "edit", stage2, "--set", "data.stage=tour_completed", "--dry-run")
    assert edit.returncode == 0, edit.stderr
    assert '+ data.stage: "tour_completed"' in edit.stdout
    assert 'dealstage: "decisionmakerboughtin"' in edit.stdout
    assert zhub_json(hub, "dlq", "show", stage2)["revision"] == 0
    assert all(r["replays"] == 0 for r in zhub_json(hub, "dlq", "list"))
    assert zhub(hub, "dlq", "edit", stage2, "--set", "data.stage=lead", "--mapping",
                rentals).returncode == 2
    assert "--dry-run [--mapping FILE]" in zhub(hub, "dlq", "--help").stdout
