"""The bearer tokens of POST /v1/events and of the admin API, against a real
zhub-broker and zhub-gateway (and, for the erase, contact-sync with the
stand-in HubSpot and Bird): an events token publishes only what its scope
allows (by default the AI events of the catalogue) and never an admin-only
type such as contact.erase; an admin token may, and every such publish is
in the gateway's log (event=audit) and on the bus (admin.audited, before the
event); several tokens work at once for a rotation; a wrong token gets 401;
a malformed list stops the gateway at start; no token ever reaches a log.

CloudEvents over HTTP: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md
Bearer tokens: https://www.rfc-editor.org/rfc/rfc6750 (section 2.1).
"""
import json
import subprocess

from harness import BINARIES, wait_until
from peer_http import peer_requests
from test_contact_sync import hubspot_contacts_with
from test_contact_sync_erase import Observer, synced_ana
from test_gateway import (bus_factory, compact, error_code, marker,  # noqa: F401
                          request)
from zhub_bus import Bus

# Distinctive values, so that a log holding one is found.
FLOWS = "ev-flows-7f3a9c1e5b2d4f60a8c3"
CRM = "ev-crm-0b8d2e4f6a1c3e5d7f9b"
OLDER = "ev-older-5c7e9a1b3d5f7a9c1e3b"
ADMIN_ANA = "adm-ana-9d1f3b5d7f9b1d3f5a7c"
ADMIN_LUIS = "adm-luis-2e4a6c8e0a2c4e6a8c0e"
TOKENS = (FLOWS, CRM, OLDER, ADMIN_ANA, ADMIN_LUIS)

ENV = {
    "ZHUB_EVENTS_TOKEN": "bird-flows@%s, crm@%s:tour.*|contact.synced" % (FLOWS, CRM),
    "ZHUB_EVENTS_TOKEN_PREVIOUS": OLDER,
    "ZHUB_ADMIN_TOKEN": "ops-ana@%s,ops-luis@%s" % (ADMIN_ANA, ADMIN_LUIS),
}

BIRD_CONTACT = "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"


def start(hub, **extra):
    env = dict(ENV)
    env.update(extra)
    hub.start("broker")
    return hub.start("gateway", extra_env=env)


def post_event(hub, token, type_, id_, data=None, subject=None, headers=None):
    """One structured CloudEvent, as a Bird flow's HTTP request step sends it.
    Each has a subject of its own unless told: a group then gets them in
    the order they were published (one subject is delivered one at a time)."""
    event = {"specversion": "1.0", "id": id_, "source": "bird/flows", "type": type_,
             "subject": subject or "contact:%s-%s" % (BIRD_CONTACT, id_), "data": data or {}}
    h = {"Content-Type": "application/cloudevents+json"}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    return request(hub.gateway_url, "POST", "/v1/events", compact(event), h)


def erase_data(request_id):
    return {"request": request_id, "identifier": "ana@example.com", "upstream": True}


def published(hub, bus_factory, topics):  # noqa: F811
    """What a fresh group on topics reads before a fresh marker (webhook)."""
    expected = marker(hub)
    bus = bus_factory(list(topics) + ["webhook.hubspot.contact.marker"])
    got = []
    while True:
        msg = bus.next(timeout=5.0)
        assert msg is not None, "the marker never arrived; got %r" % got
        if msg["id"] == expected:
            return got
        got.append(msg)


def assert_no_token_logged(hub):
    for proc in hub.procs:
        text = proc.log_text()
        for token in TOKENS:
            assert token not in text, "%s's log holds a token" % proc.name


def status(hub, token):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return request(hub.admin_url, "GET", "/v1/status", headers=headers)


# ----------------------------------------------------------------- tests

def test_events_token_cannot_erase_and_admin_token_can_with_an_audit_trail(hub, bus_factory):  # noqa: F811,E501
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    gateway = start(hub)
    hub.start("contact-sync", extra_env={"ZHUB_HUBSPOT_BATCH_WINDOW": "0"})
    bird_id, hubspot_id = synced_ana(hub)
    observer = Observer(hub, ("contact.forget",))
    try:
        # The issue: the events token meant for the AI flows sent an erase
        # with upstream: true. Refused now, whatever the token's patterns.
        for token in (FLOWS, CRM, OLDER):
            reply = post_event(hub, token, "contact.erase", "erase:req-evil",
                               erase_data("req-evil"), subject="erase:req-evil")
            assert reply.status == 403, reply
            assert error_code(reply) == "forbidden_topic"
            assert "ZHUB_ADMIN_TOKEN" in reply.json["message"]
        for type_ in ("contact.forget", "dead-letter.command.purge", "contact.reconcile"):
            assert post_event(hub, FLOWS, type_, "x-" + type_, {}).status == 403
        # nothing reached the bus, so nothing can have reached HubSpot
        assert published(hub, bus_factory, ["contact.erase", "contact.forget", "contact.reconcile",
                                            "dead-letter.>", "admin.>"]) == []
        assert peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/gdpr-delete") == []
        assert [c["id"] for c in hubspot_contacts_with(hub, bird_id)] == [hubspot_id]
        log = gateway.log_text()
        assert "event=audit decision=refused who=bird-flows kind=events" in log
        assert "type=contact.erase id=erase:req-evil" in log
        assert "reason=admin_only who=crm" in log

        # An operator's admin token may: the erase is published after its record.
        reply = post_event(hub, ADMIN_ANA, "contact.erase", "erase:req-admin",
                           erase_data("req-admin"), subject="erase:req-admin",
                           headers={"X-Forwarded-For": "203.0.113.7"})
        assert reply.status == 200, reply
        assert reply.json["accepted"] == 1
        observer.wait("req-admin", ["contact.forget"])
    finally:
        observer.close()
    wait_until(lambda: hubspot_contacts_with(hub, bird_id) == [], what="Ana gone from HubSpot")
    deletes = peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/gdpr-delete", "POST")
    assert [d["body"] for d in deletes] == [{"objectId": hubspot_id}]

    trail = bus_factory(["admin.>", "contact.erase"]).drain(timeout=2.0)
    assert [m["type"] for m in trail] == ["admin.audited", "contact.erase"]
    record, erase = trail
    assert erase["id"] == "erase:req-admin"
    assert record["subject"] == "admin:ops-ana" and record["source"] == "zhub/gateway"
    data = record["data"]
    assert data["who"] == "ops-ana" and data["type"] == "contact.erase"
    assert data["id"] == "erase:req-admin" and data["subject"] == "erase:req-admin"
    assert data["source"] == "bird/flows" and data["forwarded_for"] == "203.0.113.7"
    assert data["peer"].startswith("127.0.0.1:")
    assert "ana@example.com" not in json.dumps(record)   # none of the erase's data
    log = gateway.log_text()
    line = [ln for ln in log.splitlines() if "event=audit decision=accepted" in ln]
    assert len(line) == 1, line
    for field in ("who=ops-ana", "kind=admin", "type=contact.erase", "id=erase:req-admin",
                  "subject=erase:req-admin", "peer=127.0.0.1:", "forwarded_for=203.0.113.7",
                  "audit_id=" + record["id"], "at=" + data["at"]):
        assert field in line[0], (field, line[0])
    assert_no_token_logged(hub)


def test_an_events_token_publishes_only_its_patterns_or_the_ai_events(hub, bus_factory):  # noqa: F811,E501
    start(hub)
    sent = [
        # (token, type, id, status): crm may publish tour.* and contact.synced
        (CRM, "tour.requested", "p-1", 200),
        (CRM, "contact.synced", "p-2", 200),
        (CRM, "conversation.started", "p-3", 403),
        (CRM, "tour.requested.again", "p-4", 403),
        # bird-flows has no patterns: the catalogue's AI events
        (FLOWS, "conversation.started", "p-5", 200),
        (FLOWS, "conversation.stage_changed", "p-6", 200),
        (FLOWS, "qualification.completed", "p-7", 200),
        (FLOWS, "escalation.triggered", "p-8", 200),
        (FLOWS, "conversation.message", "p-9", 200),
        (FLOWS, "tour.requested", "p-10", 200),
        (FLOWS, "contact.synced", "p-11", 403),
        (FLOWS, "deal.stage_changed", "p-12", 403),
        (FLOWS, "tour.scheduled", "p-13", 403),
    ]
    for token, type_, id_, want in sent:
        reply = post_event(hub, token, type_, id_)
        assert reply.status == want, (type_, reply)
        if want == 403:
            assert error_code(reply) == "forbidden_topic"
            assert type_ in reply.json["message"]
    # no token publishes the audit trail itself, nor a provider's webhook
    for type_ in ("admin.audited", "webhook.hubspot.contact.creation"):
        assert post_event(hub, ADMIN_ANA, type_, "forged").status == 400
    got = published(hub, bus_factory, ["tour.>", "contact.>", "conversation.>",
                                       "qualification.>", "escalation.>", "deal.>", "admin.>"])
    assert [m["id"] for m in got] == [id_ for _, _, id_, want in sent if want == 200]
    assert_no_token_logged(hub)


def test_several_tokens_work_at_once_for_a_rotation(hub, bus_factory):  # noqa: F811
    gateway = start(hub)
    for i, token in enumerate((FLOWS, OLDER)):
        assert post_event(hub, token, "conversation.started", "r-%d" % i).status == 200
    got = published(hub, bus_factory, ["conversation.>"])
    assert [m["id"] for m in got] == ["r-0", "r-1"]
    log = gateway.log_text()
    assert "ids=r-0 reason=- who=bird-flows" in log
    assert "ids=r-1 reason=- who=events-previous-1" in log
    # either admin token opens the admin API; an events token does not
    for token in (ADMIN_ANA, ADMIN_LUIS):
        reply = status(hub, token)
        assert reply.status == 200, reply
    body = reply.json
    assert [t["name"] for t in body["admin"]["tokens"]] == ["ops-ana", "ops-luis"]
    events = [s for s in body["sources"] if s["name"] == "events"][0]
    assert events["secrets"] == [{"variable": "ZHUB_EVENTS_TOKEN", "loaded": True,
                                  "previous": True}]
    assert events["tokens"] == [
        {"name": "bird-flows", "previous": False, "may_publish": "default"},
        {"name": "crm", "previous": False, "may_publish": ["tour.*", "contact.synced"]},
        {"name": "events-previous-1", "previous": True, "may_publish": "default"}]
    assert not any(token in reply.body for token in TOKENS)
    reply = status(hub, FLOWS)
    assert reply.status == 403 and error_code(reply) == "forbidden"
    assert "event=config_token variable=ZHUB_ADMIN_TOKEN name=ops-luis value=set(29 bytes) " \
           "may_publish=any" in log
    assert_no_token_logged(hub)


def test_a_wrong_or_missing_token_gets_401(hub, bus_factory):  # noqa: F811
    start(hub)
    for token in ("nope", FLOWS + "x", FLOWS[:-1], "bird-flows@" + FLOWS, "", None):
        reply = post_event(hub, token, "conversation.started", "w-1")
        assert reply.status == 401, (token, reply)
        assert error_code(reply) == "unauthorized"
    basic = post_event(hub, None, "conversation.started", "w-1",
                       headers={"Authorization": "Basic " + FLOWS})
    assert basic.status == 401
    for token in ("nope", ADMIN_ANA + "x", None):
        reply = status(hub, token)
        assert reply.status == 401 and reply.headers["www-authenticate"] == "Bearer"
    assert published(hub, bus_factory, ["conversation.>"]) == []
    assert_no_token_logged(hub)


def test_zhub_tail_shows_the_audit_trail(hub):
    start(hub)
    tail = subprocess.Popen([BINARIES["zhub"], "tail", "admin.>", "--count", "1", "--timeout",
                             "20s", "--json"], env=hub.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        probe = Bus(hub.env["ZHUB_BROKER"], "pytest-tap-probe")
        # a PUB drops what it sends before it knows the subscriber
        wait_until(lambda: probe.stats()["tap"]["subscriptions"] >= 1, 10,
                   what="the tail's subscription")
        probe.close()
        reply = post_event(hub, ADMIN_LUIS, "dead-letter.command.replay", "replay-cmd-1",
                           {"letter": 12}, subject="dead-letter")
        assert reply.status == 200, reply
        out, err = tail.communicate(timeout=25)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()
    assert tail.returncode == 0, err
    line = json.loads(out.splitlines()[0])
    assert line["topic"] == "admin.audited" and line["subject"] == "admin:ops-luis"
    assert line["data"]["who"] == "ops-luis"
    assert line["data"]["type"] == "dead-letter.command.replay"
    assert line["data"]["id"] == "replay-cmd-1"


def test_a_malformed_token_list_stops_the_gateway_naming_the_variable(hub):
    cases = [
        ({"ZHUB_EVENTS_TOKEN": "a@%s,,b@%s" % (FLOWS, CRM)}, "ZHUB_EVENTS_TOKEN entry 2: empty"),
        ({"ZHUB_EVENTS_TOKEN": "crm@%s:contact.erase" % CRM},
         'ZHUB_EVENTS_TOKEN entry 1 (crm): "contact.erase" matches only types'),
        ({"ZHUB_EVENTS_TOKEN_PREVIOUS": "%s %s" % (OLDER, CRM)},
         "ZHUB_EVENTS_TOKEN_PREVIOUS entry 1: the token may hold only"),
        ({"ZHUB_ADMIN_TOKEN": "ops@%s:tour.*" % ADMIN_ANA},
         "ZHUB_ADMIN_TOKEN entry 1 (ops): an admin token takes no topic patterns"),
        ({"ZHUB_EVENTS_TOKEN": FLOWS, "ZHUB_ADMIN_TOKEN": FLOWS},
         "ZHUB_ADMIN_TOKEN entry 1: the same token is configured as ZHUB_EVENTS_TOKEN"),
    ]
    for env, message in cases:
        full = dict(hub.env)
        full.update(env)
        out = subprocess.run([BINARIES["gateway"]], env=full, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        log = out.stdout.decode("utf-8", "replace")
        assert out.returncode == 2, log
        assert message in log, log
        assert "event=ready" not in log
        assert not any(token in log for token in TOKENS), log
