"""Sync results end to end: contact-sync's batch flushes and reconciliation
runs each leave a record in its store, and `zhub sync results --json`
(reading that store read-only) shows them with the right counts; the
metrics count the same records.

Real gateway, broker and contact-sync against the stand-in HubSpot and
Bird. The counts are summed over the runs of a kind, so that how the
webhooks happen to fall into batch windows does not matter.
"""
import json
import subprocess
import urllib.request

from harness import BINARIES, free_port, wait_until
from test_contact_sync_batch import (contact_webhook, in_hubspot, new_bird_contact,
                                     start_stack as start_batch_stack)
from test_contact_sync_conflicts import (bird_get, seed_synced_contact, ui_edit,
                                         start_stack as start_reconcile_stack)
from test_contact_sync import BIRD_AUTH, HUBSPOT_AUTH, http
from zhub_bus import Bus, envelope


def zhub(hub, *args):
    return subprocess.run([BINARIES["zhub"], *args], env=hub.env, capture_output=True,
                          text=True, timeout=30)


def sync_results(hub, *args):
    out = zhub(hub, "sync", "results", "--json", *args)
    assert out.returncode == 0, out.stderr + out.stdout
    return json.loads(out.stdout)["results"]


def totals(runs, kind):
    keys = ("processed", "created", "updated", "skipped", "failed", "deferred")
    mine = [r for r in runs if r["kind"] == kind]
    return {k: sum(r[k] for r in mine) for k in keys}


def test_batch_flushes_record_their_counts(hub, tmp_path):
    # a window longer than the posting takes: the three share a batch
    port = free_port()
    start_batch_stack(hub, tmp_path, ZHUB_HUBSPOT_BATCH_WINDOW="1s",
                      ZHUB_ACTOR_ADMIN_LISTEN="127.0.0.1:%d" % port)
    assert sync_results(hub) == []  # nothing flushed yet
    good = [new_bird_contact(hub, "Ana Uno", "+5215510000001", "lead"),
            new_bird_contact(hub, "Bo Dos", "+5215510000002", "lead")]
    bad = new_bird_contact(hub, "Cy Tres", "+5215510000003", "sleepy")  # HubSpot refuses it
    for contact in (good[0], bad, good[1]):
        contact_webhook(hub, contact)
    wait_until(lambda: all(in_hubspot(hub, c["id"]) for c in good), timeout=20,
               what="the two valid contacts in HubSpot")
    wait_until(lambda: totals(sync_results(hub), "batch")["processed"] == 3, timeout=20,
               what="the flush's record")
    # a second change to a contact HubSpot already holds: an update
    status, edited = http("PATCH", "%s/workspaces/%s/contacts/%s" % (
        hub.peers["bird"], hub.WORKSPACE, good[0]["id"]),
        {"attributes": {"displayName": "Ana Unica"}}, BIRD_AUTH)
    assert status == 200, edited
    contact_webhook(hub, edited)
    wait_until(lambda: totals(sync_results(hub), "batch")["processed"] == 4, timeout=20,
               what="the second flush's record")
    runs = sync_results(hub)
    assert totals(runs, "batch") == {"processed": 4, "created": 2, "updated": 1, "skipped": 0,
                                     "failed": 1, "deferred": 0}, runs
    for run in runs:
        assert run["actor"] == "contact-sync" and run["complete"] is True
        assert run["duration_ms"] >= 0 and run["started"].endswith("Z")
    # newest first, and --limit keeps the newest
    assert [r["started_ms"] for r in runs] == sorted((r["started_ms"] for r in runs),
                                                     reverse=True)
    assert sync_results(hub, "--limit", "1") == runs[:1]
    # the people's table too
    text = zhub(hub, "sync", "results")
    assert text.returncode == 0 and "PROCESSED" in text.stdout and "batch" in text.stdout
    # the metrics count the same records
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as resp:
        metrics = resp.read().decode()
    assert 'zhub_sync_records_total{actor="contact-sync",outcome="created"} 2' in metrics
    assert 'zhub_sync_records_total{actor="contact-sync",outcome="updated"} 1' in metrics
    assert 'zhub_sync_records_total{actor="contact-sync",outcome="failed"} 1' in metrics
    assert 'zhub_sync_run_seconds_count{actor="contact-sync",kind="batch"} %d' % len(runs) \
        in metrics


def test_a_reconciliation_run_records_its_counts(hub):
    start_reconcile_stack(hub, webhooks=False)
    a_bird, a_hub = seed_synced_contact(hub, "Ana López", "+5215512345678")
    seed_synced_contact(hub, "Beto Ruiz", "+5215587654321")
    ui_edit(hub, a_hub, {"firstname": "Anita"})  # drift on a known contact
    status, _ = http("POST", hub.peers["hubspot"] + "/crm/v3/objects/contacts", {
        "properties": {"firstname": "Carla", "lastname": "Soto", "phone": "+5215500002222"}},
        dict(HUBSPOT_AUTH, **{"User-Agent": "pytest-driver"}))
    assert status == 201  # one contact-sync never saw
    bus = Bus(hub.env["ZHUB_BROKER"], "pytest")
    try:
        bus.join("observer", ["contact.reconciled"], credit=4)
        bus.publish(envelope("tick-results-1", "contact.reconcile", "reconcile", {}))
        done = bus.recv(15)
        assert done is not None, "no contact.reconciled"
        bus.ack(done["tag"])
    finally:
        bus.close()
    assert bird_get(hub, a_bird)["computedDisplayName"] == "Anita López"
    runs = [r for r in sync_results(hub) if r["kind"] == "reconcile"]
    assert len(runs) == 1, runs
    run = runs[0]
    assert run["run"] == "tick-results-1" and run["complete"] is True
    assert (run["processed"], run["created"], run["updated"], run["skipped"], run["failed"]) == \
        (3, 1, 1, 1, 0), run
    assert done["message"]["data"]["found"] == run["processed"]
    assert done["message"]["data"]["drift"] == run["created"] + run["updated"]


def test_sync_results_usage_errors_exit_2(hub):
    for args in (["sync"], ["sync", "results", "--limit", "x"], ["sync", "results", "extra"],
                 ["sync", "other"], ["sync", "results", "--bogus"]):
        out = zhub(hub, *args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert "usage: zhub sync results" in out.stderr


# -------------------------------------------------------------------
# zhub status contact: one person's sync status in every actor

def status_contact(hub, identifier):
    out = zhub(hub, "status", "contact", identifier, "--json")
    assert out.returncode == 0, out.stderr + out.stdout
    return json.loads(out.stdout)


def person(hub, identifier):
    persons = status_contact(hub, identifier)["actors"]["contact-sync"]["persons"]
    assert len(persons) == 1, persons
    return persons[0]


def test_status_contact_shows_a_synced_person_by_any_identifier(hub):
    start_reconcile_stack(hub, webhooks=False)
    bird_id, hubspot_id = seed_synced_contact(hub, "Ana López", "+5215512345678")
    found = person(hub, "+5215512345678")
    assert found["status"] == "synced", found
    assert found["bird_contact_id"] == bird_id and found["hubspot_contact_id"] == hubspot_id
    assert found["last_sync"].endswith("Z") and "pending" not in found
    # the same person by their Bird id and by their HubSpot id
    assert person(hub, bird_id)["hubspot_contact_id"] == hubspot_id
    assert person(hub, hubspot_id)["bird_contact_id"] == bird_id
    text = zhub(hub, "status", "contact", bird_id)
    assert text.returncode == 0, text.stderr
    assert "contact-sync" in text.stdout and "synced" in text.stdout
    assert "hubspot=" + hubspot_id in text.stdout


def test_status_contact_shows_a_write_hubspot_defers_as_pending_with_the_reason(hub, tmp_path):
    start_batch_stack(hub, tmp_path, ZHUB_HUBSPOT_BATCH_WINDOW="200ms")
    # HubSpot answers every batch upsert with 503 until told otherwise
    status, _ = http("POST", hub.peers["hubspot"] + "/__peer/faults", {
        "status": 503, "count": 100000, "path_prefix": "/crm/v3/objects/contacts/batch/upsert"})
    assert status in (200, 201)
    contact = new_bird_contact(hub, "Dana Cuatro", "+5215510000004", "lead")
    contact_webhook(hub, contact)

    def deferred():
        out = zhub(hub, "status", "contact", contact["id"], "--json")
        if out.returncode == 1 and "no actor knows" in out.stderr:
            return False    # contact-sync has not read the webhook yet
        assert out.returncode == 0, out.stderr + out.stdout
        persons = json.loads(out.stdout)["actors"].get("contact-sync", {})
        found = persons.get("persons", [])
        return found and found[0]["status"] == "pending" and \
            "code" in found[0].get("pending", {}) and found[0]
    found = wait_until(deferred, timeout=20, what="the deferred write")
    assert found["pending"]["code"] == 503, found
    assert "503" in found["reason"] and "deferred" in found["reason"], found
    assert found["pending"]["flushes"] >= 1 and "hubspot_contact_id" not in found
    text = zhub(hub, "status", "contact", "+5215510000004")
    assert text.returncode == 0 and "pending" in text.stdout and "503" in text.stdout, text.stdout
    runs = [r for r in sync_results(hub) if r["kind"] == "batch"]
    assert runs and runs[-1]["deferred"] == 1 and "503" in runs[-1]["note"], runs
    # HubSpot is back: the write lands and the person is synced
    status, _ = http("DELETE", hub.peers["hubspot"] + "/__peer/faults")
    assert status in (200, 204)
    synced = wait_until(lambda: person(hub, contact["id"])["status"] == "synced", timeout=30,
                        what="the write landing")
    assert synced
    landed = person(hub, contact["id"])
    assert landed["hubspot_contact_id"] == in_hubspot(hub, contact["id"])["id"]
    assert "pending" not in landed


def test_status_contact_unknown_person_exits_1_and_bad_usage_exits_2(hub):
    start_reconcile_stack(hub, webhooks=False)
    seed_synced_contact(hub, "Ana López", "+5215512345678")
    out = zhub(hub, "status", "contact", "+5215599999999")
    assert out.returncode == 1 and "no actor knows +5215599999999" in out.stderr, out
    assert out.stdout == ""
    for args in (["status", "contact"], ["status", "contact", "a", "b"],
                 ["status", "contact", "--bogus", "x"], ["status", "contact", "a b"]):
        out = zhub(hub, *args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert "usage: zhub status contact" in out.stderr


def test_status_contact_shows_the_person_in_every_actor(hub):
    from test_deal_sync import deal_of
    from test_erase_everywhere import spread_her_data, start_hub
    start_hub(hub)
    hub.start("conversation")
    bird_id, hubspot_id = spread_her_data(hub, "+5215512345678", "ana.perez@example.com",
                                          "Ana Pérez")

    def everywhere():
        actors = status_contact(hub, "ana.perez@example.com")["actors"]
        ready = ("scheduler" in actors and "deal-sync" in actors and "activity-log" in actors
                 and "conversation" in actors)
        # deal-sync's stage is the one HubSpot's deal holds (once the
        # booked tour's move has landed)
        in_hubspot = (deal_of(hub, bird_id) or {}).get("properties", {}).get("dealstage")
        return ready and actors["deal-sync"]["deals"][0].get("stage") == in_hubspot and actors
    actors = wait_until(everywhere, timeout=30, what="the person in every actor")
    persons = actors["contact-sync"]["persons"]
    assert len(persons) == 1 and persons[0]["bird_contact_id"] == bird_id
    assert persons[0]["hubspot_contact_id"] == hubspot_id and persons[0]["status"] == "synced"
    deals = actors["deal-sync"]["deals"]
    assert len(deals) == 1 and deals[0]["hubspot_contact_id"] == hubspot_id, deals
    bookings = actors["scheduler"]["bookings"]
    assert len(bookings) == 1 and bookings[0]["start"] and bookings[0]["status"], bookings
    learned = actors["activity-log"]["contacts"]
    assert len(learned) == 1 and learned[0]["hubspot_contact_id"] == hubspot_id, learned
    conversations = actors["conversation"]["conversations"]
    assert conversations[0]["last_inbound"].endswith("Z"), conversations
    # the people's form names every actor
    text = zhub(hub, "status", "contact", "+5215512345678")
    assert text.returncode == 0, text.stderr
    for actor in ("contact-sync", "deal-sync", "scheduler", "activity-log", "conversation"):
        assert actor in text.stdout, text.stdout
