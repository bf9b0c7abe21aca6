"""Tests for the HubSpot and Bird stand-ins.

Run: /usr/bin/python3 -m pytest tests/peers -q
Each test starts its own peer process on --port 0 and stops it; every
network call and wait has a timeout and an alarm bounds each test.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import queue
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bird_peer  # noqa: E402
import hubspot_peer  # noqa: E402

TEST_SECONDS = 30
HS_AUTH = {"Authorization": "Bearer test-token"}
BIRD_AUTH = {"Authorization": "AccessKey test-key"}
WS = "a1405560-c8d3-4b1a-877d-3f449ad95352"
CHANNEL = "52ad151f-f7b4-46f9-a5c6-d3318e650c84"


# ------------------------------------------------------------------ harness

@pytest.fixture(autouse=True)
def time_bound():
    def expired(*_):
        raise TimeoutError("test exceeded %d s" % TEST_SECONDS)
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


class Reply:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<Reply %d %r>" % (self.status, self.raw[:300])


class Peer:
    def __init__(self, script, *args):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, script), "--port", "0",
             "--max-seconds", "120", *args],
            stdout=subprocess.PIPE, stderr=self.stderr)
        line = self._read_line(10)
        assert line.startswith("READY "), line + self.errors()
        self.port = int(line.split()[1])

    def _read_line(self, seconds):
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(seconds):
                self.proc.kill()
                raise AssertionError("peer did not print READY: " + self.errors())
        return self.proc.stdout.readline().decode().strip()

    def errors(self):
        if self.stderr.closed:
            return self.stderr_text
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def call(self, method, path, body=None, headers=None, raw=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            data = raw if raw is not None else (
                json.dumps(body).encode() if body is not None else None)
            all_headers = {"Content-Type": "application/json"}
            all_headers.update(headers or {})
            conn.request(method, path, body=data, headers=all_headers)
            answer = conn.getresponse()
            return Reply(answer.status, answer.headers, answer.read())
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self.stderr.closed:
            self.stderr_text = self.errors()
            self.proc.stdout.close()
            self.stderr.close()
        return self.proc.returncode


@pytest.fixture
def start():
    peers = []

    def launch(script, *args):
        peer = Peer(script, *args)
        peers.append(peer)
        return peer
    yield launch
    for peer in peers:
        bugs = "Traceback" in peer.errors()
        peer.stop()
        assert not bugs, "peer crashed inside a handler"


@pytest.fixture
def hubspot(start):
    return start("hubspot_peer.py")


@pytest.fixture
def bird(start):
    return start("bird_peer.py")


class Receiver:
    """A local webhook endpoint that records what it is sent."""

    def __init__(self, status=200):
        self.received = queue.Queue()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.put((self.path, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hooks/in?src=peer%%3Atest" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self, seconds=5):
        return self.received.get(timeout=seconds)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()


def hs_create(peer, **props):
    return peer.call("POST", "/crm/v3/objects/contacts", {"properties": props}, HS_AUTH)


# ------------------------------------------------------------ process / CLI

def test_ready_line_then_exit_after_max_seconds():
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "bird_peer.py"),
                             "--port", "0", "--max-seconds", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("READY ") and int(line.split()[1]) > 0
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


def test_sigterm_stops_cleanly(start):
    peer = start("hubspot_peer.py")
    assert peer.call("GET", "/__peer/state").status == 200
    assert peer.stop() == 0


# ------------------------------------------------------------ HubSpot auth

def test_hubspot_requires_bearer_token(start):
    peer = start("hubspot_peer.py", "--token", "secret")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic secret"}):
        reply = peer.call("GET", "/crm/v3/objects/contacts/501", headers=headers)
        assert reply.status == 401
        assert reply.json["category"] == "INVALID_AUTHENTICATION"
        assert reply.json["status"] == "error" and reply.json["correlationId"]
        assert reply.json["message"].startswith("Authentication credentials not found")
        assert "X-HubSpot-RateLimit-Max" not in reply.headers
    ok = peer.call("GET", "/crm/v3/objects/contacts", headers={"Authorization": "Bearer secret"})
    assert ok.status == 200


# -------------------------------------------------------- HubSpot contacts

def test_create_contact_shape_and_rate_headers(hubspot):
    reply = hs_create(hubspot, email="Ana@Example.com", firstname="Ana", bird_contact_id="b-1")
    assert reply.status == 201
    body = reply.json
    assert body["id"] == "501" and body["archived"] is False
    assert body["properties"]["email"] == "ana@example.com"
    assert body["properties"]["hs_object_id"] == "501"
    for key in ("createdate", "lastmodifieddate"):
        assert body["properties"][key].endswith("Z")
    assert body["createdAt"] and body["updatedAt"]
    assert reply.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert reply.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert reply.headers["X-HubSpot-RateLimit-Remaining"] == "189"
    assert reply.headers["X-HubSpot-RateLimit-Daily"] == "625000"
    assert reply.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "624999"


def test_duplicate_email_or_bird_id_is_409(hubspot):
    assert hs_create(hubspot, email="a@b.com", bird_contact_id="b-1").status == 201
    for props in ({"email": "A@B.com"}, {"email": "z@b.com", "bird_contact_id": "b-1"}):
        reply = hs_create(hubspot, **props)
        assert reply.status == 409
        assert reply.json["category"] == "CONFLICT"
        assert reply.json["message"] == "Contact already exists. Existing ID: 501"


def test_read_by_id_and_id_property(hubspot):
    hs_create(hubspot, email="a@b.com", firstname="Ana", bird_contact_id="b-9")
    by_id = hubspot.call("GET", "/crm/v3/objects/contacts/501?properties=firstname,phone",
                         headers=HS_AUTH)
    assert by_id.status == 200
    assert by_id.json["properties"] == {
        "firstname": "Ana", "phone": None, "hs_object_id": "501",
        "createdate": by_id.json["properties"]["createdate"],
        "lastmodifieddate": by_id.json["properties"]["lastmodifieddate"]}
    by_email = hubspot.call("GET", "/crm/v3/objects/contacts/a%40b.com?idProperty=email",
                            headers=HS_AUTH)
    assert by_email.status == 200 and by_email.json["id"] == "501"
    assert set(by_email.json["properties"]) == set(
        ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"])
    by_bird = hubspot.call("GET", "/crm/v3/objects/contacts/b-9?idProperty=bird_contact_id",
                           headers=HS_AUTH)
    assert by_bird.json["id"] == "501"
    not_unique = hubspot.call("GET", "/crm/v3/objects/contacts/Ana?idProperty=firstname",
                              headers=HS_AUTH)
    assert not_unique.status == 400


def test_missing_contact_is_404(hubspot):
    reply = hubspot.call("GET", "/crm/v3/objects/contacts/999", headers=HS_AUTH)
    assert reply.status == 404
    assert reply.json["category"] == "OBJECT_NOT_FOUND"
    assert reply.json["message"] == "Object not found. objectId are usually numeric."
    assert "X-HubSpot-RateLimit-Remaining" in reply.headers


def test_patch_and_validation_errors(hubspot):
    hs_create(hubspot, email="a@b.com", lifecyclestage="opportunity")
    ok = hubspot.call("PATCH", "/crm/v3/objects/contacts/501",
                      {"properties": {"ai_conversation_status": "open", "phone": "+52 1"}},
                      HS_AUTH)
    assert ok.status == 200
    assert ok.json["properties"]["ai_conversation_status"] == "open"
    by_email = hubspot.call("PATCH", "/crm/v3/objects/contacts/a@b.com?idProperty=email",
                            {"properties": {"firstname": "Ana"}}, HS_AUTH)
    assert by_email.status == 200 and by_email.json["id"] == "501"

    unknown = hubspot.call("PATCH", "/crm/v3/objects/contacts/501",
                           {"properties": {"x": "1"}}, HS_AUTH)
    assert unknown.status == 400
    assert unknown.json["category"] == "VALIDATION_ERROR"
    assert unknown.json["message"].startswith("Property values were not valid: ")
    assert unknown.json["errors"] == [{"message": 'Property "x" does not exist',
                                       "code": "PROPERTY_DOESNT_EXIST",
                                       "context": {"propertyName": ["x"]}}]
    codes = {"hs_object_id": "READ_ONLY_VALUE", "email": "INVALID_EMAIL",
             "lifecyclestage": "INVALID_OPTION"}
    for name, code in codes.items():
        reply = hubspot.call("PATCH", "/crm/v3/objects/contacts/501",
                             {"properties": {name: "nope"}}, HS_AUTH)
        assert reply.status == 400 and reply.json["errors"][0]["code"] == code

    # lifecyclestage only moves forward; a step back leaves it unchanged.
    hubspot.call("PATCH", "/crm/v3/objects/contacts/501",
                 {"properties": {"lifecyclestage": "lead"}}, HS_AUTH)
    read = hubspot.call("GET", "/crm/v3/objects/contacts/501?properties=lifecyclestage",
                        headers=HS_AUTH)
    assert read.json["properties"]["lifecyclestage"] == "opportunity"
    bad_json = hubspot.call("PATCH", "/crm/v3/objects/contacts/501", raw=b"{nope",
                            headers=HS_AUTH)
    assert bad_json.status == 400


def test_delete_contact(hubspot):
    hs_create(hubspot, email="a@b.com")
    assert hubspot.call("DELETE", "/crm/v3/objects/contacts/501", headers=HS_AUTH).status == 204
    assert hubspot.call("GET", "/crm/v3/objects/contacts/501", headers=HS_AUTH).status == 404


def test_gdpr_delete_by_id_or_email(hubspot):
    path = "/crm/v3/objects/contacts/gdpr-delete"
    hs_create(hubspot, email="ana@example.com", phone="+5215512345678")
    hs_create(hubspot, email="bo@example.com")
    hubspot.call("PUT", "/crm/v4/objects/contacts/501/associations/default/contacts/502",
                 headers=HS_AUTH)
    gone = hubspot.call("POST", path, {"objectId": "501"}, HS_AUTH)
    assert gone.status == 204 and not gone.raw
    assert hubspot.call("GET", "/crm/v3/objects/contacts/501", headers=HS_AUTH).status == 404
    by_email = hubspot.call("GET", "/crm/v3/objects/contacts/ana%40example.com?idProperty=email",
                            headers=HS_AUTH)
    assert by_email.status == 404
    state = hubspot.call("GET", "/__peer/state").json
    assert [c["id"] for c in state["contacts"]] == ["502"]
    assert state["associations"] == []

    again = hubspot.call("POST", path, {"objectId": "501"}, HS_AUTH)
    assert again.status == 404
    assert again.json["category"] == "OBJECT_NOT_FOUND" and again.json["status"] == "error"
    assert again.json["message"] == "Object not found. objectId are usually numeric."

    by_mail = hubspot.call("POST", path, {"objectId": "Bo@Example.com", "idProperty": "email"},
                           HS_AUTH)
    assert by_mail.status == 204
    assert hubspot.call("GET", "/__peer/state").json["contacts"] == []
    unknown_mail = hubspot.call("POST", path, {"objectId": "x@example.com",
                                               "idProperty": "email"}, HS_AUTH)
    assert unknown_mail.status == 404 and unknown_mail.json["category"] == "OBJECT_NOT_FOUND"

    assert hubspot.call("POST", path, {}, HS_AUTH).status == 400
    bad_property = hubspot.call("POST", path, {"objectId": "1", "idProperty": "phone"}, HS_AUTH)
    assert bad_property.status == 400 and bad_property.json["category"] == "VALIDATION_ERROR"
    assert hubspot.call("POST", path, {"objectId": "1"}).status == 401


def test_gdpr_delete_takes_the_contacts_own_activity_and_leaves_a_deals(hubspot):
    hs_create(hubspot, email="ana@example.com")
    deal = hubspot.call("POST", "/crm/v3/objects/deals", {"properties": {
        "dealname": "d", "pipeline": "default", "dealstage": "appointmentscheduled"}}, HS_AUTH)
    assert deal.status == 201

    def note(body, *targets):
        assoc = [{"to": {"id": tid}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                "associationTypeId": type_id}]}
                 for tid, type_id in targets]
        reply = hubspot.call("POST", "/crm/v3/objects/notes", {"properties": {
            "hs_timestamp": "2026-01-01T00:00:00Z", "hs_note_body": body},
            "associations": assoc}, HS_AUTH)
        assert reply.status == 201, reply.json
        return reply.json["id"]
    only_hers = note("hers", ("501", 202))
    also_deal = note("hers and the deal's", ("501", 202), (deal.json["id"], 214))
    assert hubspot.call("POST", "/crm/v3/objects/contacts/gdpr-delete", {"objectId": "501"},
                        HS_AUTH).status == 204
    notes = {n["id"]: n for n in hubspot.call("GET", "/__peer/state").json["notes"]}
    assert only_hers not in notes           # her activity goes with her
    assert [a["type"] for a in notes[also_deal]["associations"]] == ["deals"]   # stays on the deal


def test_gdpr_delete_sends_deletion_webhooks(start, receiver):
    peer = start("hubspot_peer.py", "--webhook-url", receiver.url)
    hs_create(peer, email="ana@example.com")
    receiver.next()  # the creation
    assert peer.call("POST", "/crm/v3/objects/contacts/gdpr-delete", {"objectId": 501},
                     HS_AUTH).status == 204
    events = json.loads(receiver.next()[2])
    assert [(e["subscriptionType"], e["objectId"]) for e in events] == [
        ("contact.deletion", 501), ("contact.privacyDeletion", 501)]
    assert events[0]["subscriptionId"] != events[1]["subscriptionId"]


# ----------------------------------------------------------- HubSpot batch

def test_batch_upsert_creates_then_updates(hubspot):
    path = "/crm/v3/objects/contacts/batch/upsert"
    first = hubspot.call("POST", path, {"inputs": [
        {"id": "b-1", "idProperty": "bird_contact_id", "properties": {"firstname": "Ana"}},
        {"id": "Bo@x.com", "idProperty": "email", "properties": {"firstname": "Bo"}}]}, HS_AUTH)
    assert first.status == 200 and first.json["status"] == "COMPLETE"
    assert [r["new"] for r in first.json["results"]] == [True, True]
    assert first.json["startedAt"] and first.json["completedAt"]
    assert first.json["results"][1]["properties"]["email"] == "bo@x.com"
    again = hubspot.call("POST", path, {"inputs": [
        {"id": "b-1", "idProperty": "bird_contact_id", "properties": {"lastname": "Paz"}}]},
        HS_AUTH)
    assert again.json["results"][0]["new"] is False
    assert again.json["results"][0]["id"] == first.json["results"][0]["id"]
    state = hubspot.call("GET", "/__peer/state").json
    assert len(state["contacts"]) == 2
    assert state["contacts"][0]["properties"]["lastname"] == "Paz"


def test_batch_upsert_limits(hubspot):
    path = "/crm/v3/objects/contacts/batch/upsert"
    too_many = [{"id": "b-%d" % i, "idProperty": "bird_contact_id", "properties": {}}
                for i in range(101)]
    reply = hubspot.call("POST", path, {"inputs": too_many}, HS_AUTH)
    assert reply.status == 400 and reply.json["category"] == "VALIDATION_ERROR"
    not_unique = hubspot.call("POST", path, {"inputs": [
        {"id": "Ana", "idProperty": "firstname", "properties": {}}]}, HS_AUTH)
    assert not_unique.status == 400
    dupes = hubspot.call("POST", path, {"inputs": [
        {"id": "b-1", "idProperty": "bird_contact_id", "properties": {}},
        {"id": "b-1", "idProperty": "bird_contact_id", "properties": {}}]}, HS_AUTH)
    assert dupes.status == 400 and "Duplicate IDs" in dupes.json["message"]
    unknown = hubspot.call("POST", path, {"inputs": [
        {"id": "b-1", "idProperty": "bird_contact_id", "properties": {"zz": "1"}}]}, HS_AUTH)
    assert unknown.status == 207 and unknown.json["results"] == []
    assert unknown.json["errors"][0]["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert hubspot.call("GET", "/__peer/state").json["contacts"] == []


def test_batch_upsert_applies_valid_inputs_and_answers_207_for_the_rest(hubspot):
    path = "/crm/v3/objects/contacts/batch/upsert"
    reply = hubspot.call("POST", path, {"inputs": [
        {"id": "b-1", "idProperty": "bird_contact_id", "properties": {"firstname": "Ana"}},
        {"id": "b-2", "idProperty": "bird_contact_id", "properties": {"email": "not-an-email"}},
        {"id": "b-3", "idProperty": "bird_contact_id",
         "properties": {"lifecyclestage": "sleepy"}}]}, HS_AUTH)
    assert reply.status == 207, reply
    body = reply.json
    assert body["status"] == "COMPLETE" and body["numErrors"] == 2
    assert [r["properties"]["bird_contact_id"] for r in body["results"]] == ["b-1"]
    assert {e["category"] for e in body["errors"]} == {"VALIDATION_ERROR"}
    assert [e["errors"][0]["code"] for e in body["errors"]] == ["INVALID_EMAIL", "INVALID_OPTION"]
    assert all(e["status"] == "error" and e["message"].startswith("Property values were not")
               for e in body["errors"])
    contacts = hubspot.call("GET", "/__peer/state").json["contacts"]
    assert [c["properties"]["bird_contact_id"] for c in contacts] == ["b-1"]
    # a conflict still fails the whole call
    hs_create(hubspot, email="taken@x.com")
    conflict = hubspot.call("POST", path, {"inputs": [
        {"id": "b-4", "idProperty": "bird_contact_id", "properties": {"firstname": "Bo"}},
        {"id": "b-5", "idProperty": "bird_contact_id", "properties": {"email": "taken@x.com"}}]},
        HS_AUTH)
    assert conflict.status == 409
    assert len(hubspot.call("GET", "/__peer/state").json["contacts"]) == 2


def test_batch_update_answers_207_per_invalid_input(hubspot):
    hs_create(hubspot, email="a@b.com")
    reply = hubspot.call("POST", "/crm/v3/objects/contacts/batch/update", {"inputs": [
        {"id": "501", "properties": {"firstname": "A"}},
        {"id": "501x", "properties": {"firstname": "B"}}]}, HS_AUTH)
    assert reply.status == 207 and reply.json["numErrors"] == 1
    assert reply.json["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert reply.json["results"][0]["properties"]["firstname"] == "A"


def test_batch_update_and_read(hubspot):
    hs_create(hubspot, email="a@b.com")
    hs_create(hubspot, email="c@d.com")
    update = hubspot.call("POST", "/crm/v3/objects/contacts/batch/update", {"inputs": [
        {"id": "501", "properties": {"firstname": "A"}},
        {"id": "502", "properties": {"firstname": "C"}}]}, HS_AUTH)
    assert update.status == 200 and len(update.json["results"]) == 2
    read = hubspot.call("POST", "/crm/v3/objects/contacts/batch/read", {
        "inputs": [{"id": "501"}, {"id": "502"}, {"id": "999"}],
        "properties": ["firstname"]}, HS_AUTH)
    assert read.status == 207
    assert sorted(r["properties"]["firstname"] for r in read.json["results"]) == ["A", "C"]
    assert read.json["errors"][0]["context"]["ids"] == ["999"]


def test_batch_read_by_unique_property_with_history(hubspot):
    made = hubspot.call("POST", "/crm/v3/objects/deals/batch/upsert", {"inputs": [
        {"id": "b-1/default", "idProperty": "zhub_deal_key", "properties": {
            "dealname": "d", "dealstage": "qualifiedtobuy"}}]}, HS_AUTH)
    assert made.status == 200
    read = hubspot.call("POST", "/crm/v3/objects/deals/batch/read", {
        "idProperty": "zhub_deal_key", "inputs": [{"id": "b-1/default"}],
        "properties": ["dealstage", "zhub_deal_key"],
        "propertiesWithHistory": ["dealstage"]}, HS_AUTH)
    assert read.status == 200, read
    deal = read.json["results"][0]
    assert deal["properties"]["zhub_deal_key"] == "b-1/default"
    assert deal["propertiesWithHistory"]["dealstage"][0]["value"] == "qualifiedtobuy"
    assert deal["propertiesWithHistory"]["dealstage"][0]["sourceType"] == "INTEGRATION"
    none = hubspot.call("POST", "/crm/v3/objects/deals/batch/read", {
        "idProperty": "zhub_deal_key", "inputs": [{"id": "b-2/default"}],
        "properties": ["dealstage"], "propertiesWithHistory": []}, HS_AUTH)
    assert none.status == 207 and none.json["results"] == []
    assert none.json["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert none.json["errors"][0]["context"]["ids"] == ["b-2/default"]


def test_encoded_slash_in_a_path_segment_is_refused_before_the_api(hubspot):
    hubspot.call("POST", "/crm/v3/objects/deals/batch/upsert", {"inputs": [
        {"id": "b-1/default", "idProperty": "zhub_deal_key", "properties": {
            "dealname": "d", "dealstage": "qualifiedtobuy"}}]}, HS_AUTH)
    for path in ("/crm/v3/objects/deals/b-1%2Fdefault?idProperty=zhub_deal_key",
                 "/crm/v3/objects/deals/b-1%2fdefault?idProperty=zhub_deal_key"):
        reply = hubspot.call("GET", path, headers=HS_AUTH)
        assert reply.status == 400
        assert reply.headers["Content-Type"].startswith("text/html")
        assert b"Ambiguous URI path separator" in reply.raw and reply.json is None
    # before the token is even looked at
    assert hubspot.call("GET", "/crm/v3/objects/deals/a%2Fb").status == 400
    # other escapes in a segment are fine
    assert hubspot.call("GET", "/crm/v3/objects/deals/b-1%40x?idProperty=zhub_deal_key",
                        headers=HS_AUTH).status == 404


def test_property_values_that_are_not_strings_are_recorded(hubspot):
    ua = {"User-Agent": "zhub/test"}
    reply = hubspot.call("POST", "/crm/v3/objects/deals/batch/upsert", {"inputs": [
        {"id": "b-1/default", "idProperty": "zhub_deal_key", "properties": {
            "dealname": "d", "dealstage": "qualifiedtobuy", "qualification_score": 35}}]},
        dict(HS_AUTH, **ua))
    # coerced, as HubSpot does ...
    assert reply.status == 200
    assert reply.json["results"][0]["properties"]["qualification_score"] == "35"
    note = hubspot.call("POST", "/crm/v3/objects/notes", {"properties": {
        "hs_timestamp": "2030-01-01T00:00:00Z", "hs_note_body": "x", "hs_pinned": True}},
        dict(HS_AUTH, **ua))
    assert note.status == 201
    # ... and kept as a breach of the string-typed contract
    seen = hubspot.call("GET", "/__peer/state").json["contract_violations"]
    assert [(v["path"], v["property"], v["json_type"], v["user_agent"]) for v in seen] == [
        ("/crm/v3/objects/deals/batch/upsert", "qualification_score", "int", "zhub/test"),
        ("/crm/v3/objects/notes", "hs_pinned", "bool", "zhub/test")]
    hs_create(hubspot, email="a@b.com", firstname="A")
    assert len(hubspot.call("GET", "/__peer/state").json["contract_violations"]) == 2


# ---------------------------------------------------------- HubSpot search

def search(peer, body):
    return peer.call("POST", "/crm/v3/objects/contacts/search", body, HS_AUTH)


def test_search_filters_sorts_and_paging(start):
    peer = start("hubspot_peer.py", "--search-rate", "100")
    for i in range(5):
        hs_create(peer, email="u%d@x.com" % i, firstname="n%d" % i,
                  ai_conversation_status="open" if i % 2 else "closed")
    eq = search(peer, {"filterGroups": [{"filters": [
        {"propertyName": "ai_conversation_status", "operator": "EQ", "value": "open"}]}]})
    assert eq.status == 200 and eq.json["total"] == 2
    assert "X-HubSpot-RateLimit-Remaining" not in eq.headers
    either = search(peer, {"filterGroups": [
        {"filters": [{"propertyName": "email", "operator": "EQ", "value": "U0@X.COM"}]},
        {"filters": [{"propertyName": "firstname", "operator": "IN", "values": ["n3", "n4"]}]}]})
    assert either.json["total"] == 3
    has = search(peer, {"filterGroups": [{"filters": [
        {"propertyName": "phone", "operator": "HAS_PROPERTY"}]}]})
    assert has.json["total"] == 0
    since = search(peer, {"filterGroups": [{"filters": [
        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(0)},
        {"propertyName": "hs_object_id", "operator": "LT", "value": "504"}]}]})
    assert since.json["total"] == 3

    pages, after = [], None
    while True:
        body = {"sorts": [{"propertyName": "firstname", "direction": "DESCENDING"}],
                "properties": ["firstname"], "limit": 2}
        if after:
            body["after"] = after
        page = search(peer, body).json
        pages += [r["properties"]["firstname"] for r in page["results"]]
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
    assert pages == ["n4", "n3", "n2", "n1", "n0"]


def test_search_limits_and_per_second_rate(start):
    peer = start("hubspot_peer.py", "--search-rate", "3")
    assert search(peer, {"limit": 201}).status == 400
    capped = search(peer, {"after": "10000"})
    assert capped.status == 400 and capped.json["category"] == "VALIDATION_ERROR"
    assert search(peer, {"limit": 200}).status == 200
    limited = search(peer, {})
    assert limited.status == 429
    assert limited.json["errorType"] == "RATE_LIMIT"
    assert limited.json["policyName"] == "SECONDLY"
    assert "X-HubSpot-RateLimit-Max" not in limited.headers
    time.sleep(1.1)
    assert search(peer, {}).status == 200


# ------------------------------------------------------ HubSpot rate limit

def test_ten_secondly_limit_then_429(start):
    peer = start("hubspot_peer.py", "--rate-max", "3")
    remaining = [peer.call("GET", "/crm/v3/objects/contacts", headers=HS_AUTH)
                 .headers["X-HubSpot-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    reply = peer.call("GET", "/crm/v3/objects/contacts", headers=HS_AUTH)
    assert reply.status == 429
    assert reply.json["policyName"] == "TEN_SECONDLY_ROLLING"
    assert reply.json["message"] == "You have reached your ten_secondly_rolling limit."
    assert reply.json["errorType"] == "RATE_LIMIT" and reply.json["requestId"]
    assert reply.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert reply.headers["X-HubSpot-RateLimit-Max"] == "3"
    # Search has its own limit, so it still works.
    assert search(peer, {}).status == 200


def test_daily_limit(start):
    peer = start("hubspot_peer.py", "--daily", "2")
    statuses = [peer.call("GET", "/crm/v3/objects/contacts", headers=HS_AUTH) for _ in range(3)]
    assert [r.status for r in statuses] == [200, 200, 429]
    assert statuses[1].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    assert statuses[2].json["policyName"] == "DAILY"


# ---------------------------------------------- HubSpot properties & deals

def test_custom_property_provisioning(start):
    peer = start("hubspot_peer.py", "--no-custom-properties")
    assert hs_create(peer, bird_contact_id="b-1").status == 400
    definition = {"name": "bird_contact_id", "label": "Bird contact id", "type": "string",
                  "fieldType": "text", "groupName": "contactinformation",
                  "hasUniqueValue": True}
    created = peer.call("POST", "/crm/v3/properties/contacts", definition, HS_AUTH)
    assert created.status == 201 and created.json["hasUniqueValue"] is True
    again = peer.call("POST", "/crm/v3/properties/contacts", definition, HS_AUTH)
    assert again.status == 409
    listed = peer.call("GET", "/crm/v3/properties/contacts", headers=HS_AUTH).json["results"]
    assert "bird_contact_id" in [p["name"] for p in listed]
    upsert = peer.call("POST", "/crm/v3/objects/contacts/batch/upsert", {"inputs": [
        {"id": "b-1", "idProperty": "bird_contact_id", "properties": {}}]}, HS_AUTH)
    assert upsert.status == 200 and upsert.json["results"][0]["new"] is True


def test_deals_and_pipeline(hubspot):
    stages = hubspot.call("GET", "/crm/v3/pipelines/deals", headers=HS_AUTH).json
    ids = [s["id"] for s in stages["results"][0]["stages"]]
    assert stages["results"][0]["id"] == "default"
    assert ids == ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                   "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"]
    deal = hubspot.call("POST", "/crm/v3/objects/deals", {"properties": {
        "dealname": "Depto 4B", "dealstage": "appointmentscheduled", "pipeline": "default",
        "amount": 1500}}, HS_AUTH)
    assert deal.status == 201 and deal.json["properties"]["amount"] == "1500"
    assert "hs_lastmodifieddate" in deal.json["properties"]
    moved = hubspot.call("PATCH", "/crm/v3/objects/deals/" + deal.json["id"],
                         {"properties": {"dealstage": "contractsent"}}, HS_AUTH)
    assert moved.status == 200
    read = hubspot.call("GET", "/crm/v3/objects/deals/%s?properties=dealstage" % deal.json["id"],
                        headers=HS_AUTH)
    assert read.json["properties"]["dealstage"] == "contractsent"
    bad = hubspot.call("POST", "/crm/v3/objects/deals",
                       {"properties": {"dealname": "x", "dealstage": "nope"}}, HS_AUTH)
    assert bad.status == 400
    missing = hubspot.call("POST", "/crm/v3/objects/deals", {"properties": {"dealname": "x"}},
                           HS_AUTH)
    assert missing.status == 400


# ------------------------------------------------- faults and control API

def test_fault_injection_status_retry_after_and_filters(hubspot):
    spec = {"status": 503, "count": 2, "retry_after": 7, "path_prefix": "/crm/v3/objects",
            "method": "POST"}
    assert hubspot.call("POST", "/__peer/faults", spec).status == 201
    assert hubspot.call("GET", "/crm/v3/objects/contacts", headers=HS_AUTH).status == 200
    for _ in range(2):
        reply = hs_create(hubspot, email="a@b.com")
        assert reply.status == 503 and reply.headers["Retry-After"] == "7"
    assert hs_create(hubspot, email="a@b.com").status == 201

    hubspot.call("POST", "/__peer/faults", {"status": 429})
    limited = hubspot.call("GET", "/crm/v3/objects/contacts/501", headers=HS_AUTH)
    assert limited.status == 429 and limited.json["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"

    log = hubspot.call("GET", "/__peer/requests").json["requests"]
    assert [e["status"] for e in log] == [200, 503, 503, 201, 429]
    assert log[1]["body"] == {"properties": {"email": "a@b.com"}}
    assert log[1]["headers"]["authorization"] == "Bearer test-token"
    assert all(not e["path"].startswith("/__peer") for e in log)
    assert isinstance(log[0]["time"], int)


def test_fault_delay_and_reset(hubspot):
    hubspot.call("POST", "/__peer/faults", {"delay_ms": 400})
    began = time.monotonic()
    assert hubspot.call("GET", "/crm/v3/objects/contacts", headers=HS_AUTH).status == 200
    assert time.monotonic() - began >= 0.35
    hubspot.call("POST", "/__peer/faults", {"reset": True})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        hubspot.call("GET", "/crm/v3/objects/contacts", headers=HS_AUTH)
    assert hubspot.call("GET", "/crm/v3/objects/contacts", headers=HS_AUTH).status == 200
    log = hubspot.call("GET", "/__peer/requests").json["requests"]
    assert [e["status"] for e in log] == [200, None, 200]


def test_bad_fault_spec_and_reset_endpoint(hubspot):
    assert hubspot.call("POST", "/__peer/faults", {"status": 99}).status == 400
    assert hubspot.call("POST", "/__peer/faults", {"count": 2}).status == 400
    hubspot.call("POST", "/__peer/faults", {"status": 500, "count": 5})
    hs_create(hubspot, email="a@b.com")
    assert hubspot.call("POST", "/__peer/reset").status == 204
    state = hubspot.call("GET", "/__peer/state").json
    assert state["contacts"] == [] and state["deals"] == []
    assert hubspot.call("GET", "/__peer/requests").json["requests"] == []
    assert hubspot.call("GET", "/__peer/faults").json["faults"] == []
    assert hs_create(hubspot, email="a@b.com").json["id"] == "501"


# ------------------------------------------------------- HubSpot webhooks

def test_hubspot_signature_functions_match_official_vectors():
    secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
    b1 = (b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
          b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
          b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]')
    assert hubspot_peer.signature_v1(secret, b1) == (
        "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de")
    assert hubspot_peer.signature_v3(
        secret, "POST", "https://www.example.com/webhook_uri",
        b"{'example_field':'example_value'}", "1693657560000") == (
        "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=")
    assert hubspot_peer.signature_v3(
        secret, "POST", "https://www.example.com/webhook_uri?src=hs%3Aapp%2Fv3&x=%28a%29&q=a%20b",
        b1, "1700000300000") == "UENFCBa4eWSz2dZ+3k9TyG85PDroUMnLGCeUdDUFW6k="


def test_hubspot_sends_signed_webhooks(start, receiver):
    peer = start("hubspot_peer.py", "--webhook-url", receiver.url, "--app-secret", "s3cret",
                 "--webhook-properties", "ai_conversation_status,firstname")
    hs_create(peer, email="a@b.com", firstname="Ana")
    path, headers, body = receiver.next()
    events = json.loads(body)
    assert [e["subscriptionType"] for e in events] == ["contact.creation",
                                                       "contact.propertyChange"]
    assert events[0]["objectId"] == 501 and events[0]["attemptNumber"] == 0
    assert events[1]["propertyName"] == "firstname" and events[1]["propertyValue"] == "Ana"
    stamp = headers["X-HubSpot-Request-Timestamp"]
    assert abs(int(stamp) - time.time() * 1000) < 60000
    signed_uri = receiver.url.replace("%3A", ":")
    expected_v3 = base64.b64encode(hmac.new(
        b"s3cret", b"POST" + signed_uri.encode() + body + stamp.encode(),
        hashlib.sha256).digest()).decode()
    assert headers["X-HubSpot-Signature-v3"] == expected_v3
    assert headers["X-HubSpot-Signature"] == hashlib.sha256(b"s3cret" + body).hexdigest()
    assert headers["X-HubSpot-Signature-Version"] == "v1"

    peer.call("PATCH", "/crm/v3/objects/contacts/501",
              {"properties": {"ai_conversation_status": "handoff", "phone": "1"}}, HS_AUTH)
    events = json.loads(receiver.next()[2])
    assert [(e["propertyName"], e["propertyValue"]) for e in events] == [
        ("ai_conversation_status", "handoff")]


# ------------------------------------------------------------------- Bird

def iso(ms):
    return bird_peer.iso_ms(ms)


def bird_path(rest):
    return "/workspaces/%s%s" % (WS, rest)


def test_bird_requires_access_key(start):
    peer = start("bird_peer.py", "--access-key", "k1")
    for headers in ({}, {"Authorization": "Bearer k1"}, {"Authorization": "AccessKey nope"}):
        reply = peer.call("GET", bird_path("/contacts/x"), headers=headers)
        assert reply.status == 401 and reply.json["code"] == "Unauthorized"
        assert reply.json["message"]
    ok = peer.call("GET", bird_path("/contacts"), headers={"Authorization": "AccessKey k1"})
    assert ok.status == 200


def test_bird_contact_create_read_update_conflict(bird):
    created = bird.call("POST", bird_path("/contacts"), {
        "displayName": "Ana Paz",
        "identifiers": [{"key": "phonenumber", "value": "+5215512345678"},
                        {"key": "emailaddress", "value": "ana@x.com"}],
        "attributes": {"firstName": "Ana"}}, BIRD_AUTH)
    assert created.status == 201
    contact = created.json
    assert contact["computedDisplayName"] == "Ana Paz"
    assert contact["featuredIdentifiers"][0] == {"key": "phonenumber", "value": "+5215512345678"}
    assert contact["identifierCount"] == 2 and contact["workspaceId"] == WS
    assert contact["attributes"]["firstName"] == "Ana"
    assert contact["attributes"]["phonenumber"] == ["+5215512345678"]
    assert contact["createdAt"].endswith("Z")

    read = bird.call("GET", bird_path("/contacts/" + contact["id"]), headers=BIRD_AUTH)
    assert read.status == 200 and read.json == contact
    missing = bird.call("GET", bird_path("/contacts/nope"), headers=BIRD_AUTH)
    assert missing.status == 404 and missing.json["code"] == "NotFound"

    patched = bird.call("PATCH", bird_path("/contacts/" + contact["id"]),
                        {"attributes": {"hubspotContactId": "501", "firstName": None}},
                        BIRD_AUTH)
    assert patched.status == 200
    assert patched.json["attributes"]["hubspotContactId"] == "501"
    assert "firstName" not in patched.json["attributes"]

    dup = bird.call("POST", bird_path("/contacts"), {
        "displayName": "Other", "identifiers": [{"key": "emailaddress", "value": "ANA@x.com"}]},
        BIRD_AUTH)
    assert dup.status == 409
    bad = bird.call("POST", bird_path("/contacts"), {
        "displayName": "Bad", "identifiers": [{"key": "phonenumber", "value": "5512345"}]},
        BIRD_AUTH)
    assert bad.status == 422


def test_bird_contact_name_is_an_attribute_on_update(bird):
    created = bird.call("POST", bird_path("/contacts"), {
        "displayName": "Ana Paz",
        "identifiers": [{"key": "phonenumber", "value": "+5215512345678"}]}, BIRD_AUTH)
    assert created.json["attributes"]["displayName"] == "Ana Paz"
    path = bird_path("/contacts/" + created.json["id"])
    # a top-level displayName is not a documented update field: accepted, no effect
    ignored = bird.call("PATCH", path, {"displayName": "Ana López"}, BIRD_AUTH)
    assert ignored.status == 200
    assert ignored.json["computedDisplayName"] == "Ana Paz"
    assert ignored.json["attributes"]["displayName"] == "Ana Paz"
    renamed = bird.call("PATCH", path, {"attributes": {
        "displayName": "Ana López", "firstName": "Ana", "lastName": "López"}}, BIRD_AUTH)
    assert renamed.status == 200
    assert renamed.json["computedDisplayName"] == "Ana López"
    assert renamed.json["attributes"]["lastName"] == "López"
    # the same through create-or-update by identifier
    upsert = bird_path("/contacts/identifiers/phonenumber/%2B5215512345678")
    assert bird.call("PATCH", upsert, {"displayName": "Otra"}, BIRD_AUTH).json[
        "computedDisplayName"] == "Ana López"
    assert bird.call("PATCH", upsert, {"attributes": {"displayName": "Ana L."}},
                     BIRD_AUTH).json["computedDisplayName"] == "Ana L."
    fresh = bird.call("PATCH", bird_path("/contacts/identifiers/phonenumber/%2B5215599998888"),
                      {"displayName": "Nadie"}, BIRD_AUTH)
    assert fresh.status == 201 and fresh.json["computedDisplayName"] == "+5215599998888"
    assert "displayName" not in fresh.json["attributes"]


def test_bird_delete_contact(bird):
    created = bird.call("POST", bird_path("/contacts"), {
        "displayName": "Ana", "identifiers": [{"key": "phonenumber", "value": "+5215512345678"}]},
        BIRD_AUTH)
    cid = created.json["id"]
    gone = bird.call("DELETE", bird_path("/contacts/" + cid), headers=BIRD_AUTH)
    assert gone.status == 204 and not gone.raw
    assert bird.call("GET", bird_path("/contacts/" + cid), headers=BIRD_AUTH).status == 404
    again = bird.call("DELETE", bird_path("/contacts/" + cid), headers=BIRD_AUTH)
    assert again.status == 404 and again.json["code"] == "NotFound"
    assert again.json["message"] == "contact %s not found" % cid
    assert bird.call("GET", "/__peer/state").json["contacts"] == []
    # the phone is free again: a new contact may take it
    reuse = bird.call("POST", bird_path("/contacts"), {
        "displayName": "Other", "identifiers": [{"key": "phonenumber",
                                                 "value": "+5215512345678"}]}, BIRD_AUTH)
    assert reuse.status == 201


def test_bird_upsert_by_identifier(bird):
    path = bird_path("/contacts/identifiers/phonenumber/%2B5215512345678")
    created = bird.call("PATCH", path, {"displayName": "Ana",
                                        "attributes": {"source": "whatsapp"}}, BIRD_AUTH)
    assert created.status == 201
    assert created.json["featuredIdentifiers"] == [
        {"key": "phonenumber", "value": "+5215512345678"}]
    updated = bird.call("PATCH", path, {
        "attributes": {"hubspotContactId": "501"},
        "addIdentifiers": [{"key": "emailaddress", "value": "ana@x.com"}]}, BIRD_AUTH)
    assert updated.status == 200 and updated.json["id"] == created.json["id"]
    assert updated.json["identifierCount"] == 2
    assert updated.json["attributes"]["source"] == "whatsapp"

    other = bird.call("PATCH", bird_path("/contacts/identifiers/emailaddress/bo@x.com"), {},
                      BIRD_AUTH)
    assert other.status == 201
    clash = {"addIdentifiers": [{"key": "emailaddress", "value": "bo@x.com"}]}
    assert bird.call("PATCH", path, clash, BIRD_AUTH).status == 409
    lenient = bird.call("PATCH", path, dict(clash, strategy="first_alias"), BIRD_AUTH)
    assert lenient.status == 200 and lenient.json["identifierCount"] == 2

    found = bird.call("GET", bird_path(
        "/contacts?identifierKey=phonenumber&identifierValue=%2B5215512345678"),
        headers=BIRD_AUTH)
    assert [c["id"] for c in found.json["results"]] == [created.json["id"]]


def test_bird_send_message(start):
    peer = start("bird_peer.py", "--channel-id", CHANNEL)
    body = {"receiver": {"contacts": [{"identifierKey": "phonenumber",
                                       "identifierValue": "+5215512345678"}]},
            "body": {"type": "text", "text": {"text": "Hola"}}}
    sent = peer.call("POST", bird_path("/channels/%s/messages" % CHANNEL), body, BIRD_AUTH)
    assert sent.status == 202
    message = sent.json
    assert message["status"] == "accepted" and message["channelId"] == CHANNEL
    assert message["direction"] == "outgoing" and message["id"]
    contact_id = message["receiver"]["contacts"][0]["id"]
    state = peer.call("GET", "/__peer/state").json
    assert [c["id"] for c in state["contacts"]] == [contact_id]
    assert state["messages"][0]["body"]["text"]["text"] == "Hola"
    again = peer.call("GET", bird_path("/channels/%s/messages/%s" % (CHANNEL, message["id"])),
                      headers=BIRD_AUTH)
    assert again.status == 200

    no_body = dict(body)
    del no_body["body"]
    assert peer.call("POST", bird_path("/channels/%s/messages" % CHANNEL), no_body,
                     BIRD_AUTH).status == 422
    other = "0c7a3b1e-5d2f-4a8e-9b6c-1f2e3d4c5b6a"
    assert peer.call("POST", bird_path("/channels/%s/messages" % other), body,
                     BIRD_AUTH).status == 404


def test_hubspot_private_app_token_info(start):
    """POST /oauth/v2/private-apps/get/access-token-info {"tokenKey"} answers
    who made the token, the portal, the app and its scopes (flag --scopes);
    the token is in the body, no Authorization header is needed."""
    peer = start("hubspot_peer.py", "--token", "pat-na1-good", "--portal-id", "4242",
                 "--scopes", "crm.objects.contacts.read,crm.objects.deals.read")
    path = "/oauth/v2/private-apps/get/access-token-info"
    info = peer.call("POST", path, {"tokenKey": "pat-na1-good"})
    assert info.status == 200, info
    assert info.json["hubId"] == 4242 and isinstance(info.json["userId"], int)
    assert isinstance(info.json["appId"], int)
    assert info.json["scopes"] == ["crm.objects.contacts.read", "crm.objects.deals.read"]
    refused = peer.call("POST", path, {"tokenKey": "pat-na1-revoked"})
    assert refused.status == 401 and refused.json["category"] == "INVALID_AUTHENTICATION"
    assert peer.call("POST", path, {}).status == 400
    assert peer.call("GET", path).status == 405
    # the default token holds every scope zhub's private app is made with
    default = start("hubspot_peer.py").call("POST", path, {"tokenKey": "anything"})
    assert {"crm.objects.contacts.write", "crm.objects.deals.write",
            "crm.schemas.contacts.write", "crm.schemas.deals.write"} <= set(default.json["scopes"])


def test_bird_get_channel(start):
    peer = start("bird_peer.py", "--channel-id", CHANNEL, "--workspace-id", WS)
    got = peer.call("GET", bird_path("/channels/%s" % CHANNEL), headers=BIRD_AUTH)
    assert got.status == 200, got
    assert got.json["id"] == CHANNEL and got.json["status"] == "active"
    assert got.json["platformId"] == "whatsapp" and got.json["connectorId"]
    other = "0b2e7c9a-5d41-4f6e-8a3b-7c9d1e2f3a4b"  # a UUID, but not this workspace's channel
    assert peer.call("GET", bird_path("/channels/%s" % other), headers=BIRD_AUTH).status == 404
    assert peer.call("GET", bird_path("/channels/%s" % CHANNEL)).status == 401
    assert peer.call("GET", "/workspaces/%s/channels/%s" % (other, CHANNEL),
                     headers=BIRD_AUTH).status == 404
    paused = start("bird_peer.py", "--channel-status", "inactive")
    assert paused.call("GET", bird_path("/channels/%s" % CHANNEL),
                       headers=BIRD_AUTH).json["status"] == "inactive"


def test_bird_ids_are_uuids(start):
    peer = start("bird_peer.py")
    body = {"receiver": {"contacts": [{"identifierKey": "phonenumber",
                                       "identifierValue": "+5215512345678"}]},
            "body": {"type": "text", "text": {"text": "Hola"}}}
    bad_channel = peer.call("POST", bird_path("/channels/ch-whatsapp/messages"), body, BIRD_AUTH)
    assert bad_channel.status == 422 and bad_channel.json["code"] == "InvalidPayload"
    assert "channelId" in bad_channel.json["details"]
    bad_ws = peer.call("GET", "/workspaces/local-workspace/contacts", headers=BIRD_AUTH)
    assert bad_ws.status == 422 and "workspaceId" in bad_ws.json["details"]
    assert peer.call("GET", bird_path("/contacts"), headers=BIRD_AUTH).status == 200
    # the stand-in itself refuses to start on a workspace Bird could not have
    proc = subprocess.run([sys.executable, os.path.join(HERE, "bird_peer.py"), "--port", "0",
                           "--max-seconds", "5", "--workspace-id", "local-workspace"],
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 2 and "not a UUID" in proc.stderr


def bird_send(peer, content, phone="+5215512345678"):
    body = {"receiver": {"contacts": [{"identifierKey": "phonenumber", "identifierValue": phone}]},
            "reference": "bk-test"}
    body.update(content)
    return peer.call("POST", bird_path("/channels/%s/messages" % CHANNEL), body, BIRD_AUTH)


TEXT = {"body": {"type": "text", "text": {"text": "Hola"}}}
TEMPLATE = {"template": {"projectId": "ce6a2fd6-b2fa-4f5a-a2cd-f3bd15883318",
                         "version": "latest", "locale": "es-MX",
                         "parameters": [{"type": "string", "key": "fecha",
                                         "value": "jueves 5 de marzo, 11:00"}]}}


def bird_message(peer, mid):
    return peer.call("GET", bird_path("/channels/%s/messages/%s" % (CHANNEL, mid)),
                     headers=BIRD_AUTH).json


def test_bird_free_text_outside_the_window_is_accepted_then_fails(start, receiver):
    peer = start("bird_peer.py", "--signing-key", "k-sign", "--channel-id", CHANNEL,
                 "--webhook-url", receiver.url)
    sent = bird_send(peer, TEXT)  # this person never wrote in
    assert sent.status == 202 and sent.json["status"] == "accepted"
    failed = bird_message(peer, sent.json["id"])
    assert failed["status"] == "delivery_failed" and failed["reason"] == "131047"
    assert "24 hours" in failed["details"]
    # ...and Bird says so on the webhook, signed like every Bird webhook
    path, headers, body = receiver.next()
    event = json.loads(body)
    assert event["service"] == "channels" and event["event"] == "whatsapp.outbound"
    assert event["payload"]["id"] == sent.json["id"]
    assert event["payload"]["status"] == "delivery_failed"
    assert event["payload"]["reference"] == "bk-test"
    assert event["payload"]["direction"] == "outgoing"
    stamp = headers["messagebird-request-timestamp"]
    assert headers["messagebird-signature"] == bird_peer.signature("k-sign", stamp, receiver.url,
                                                                   body)
    # a template may go at any time
    templated = bird_send(peer, TEMPLATE)
    assert templated.status == 202
    assert bird_message(peer, templated.json["id"])["status"] == "delivered"


def test_bird_free_text_inside_the_window_is_delivered(start, receiver):
    peer = start("bird_peer.py", "--channel-id", CHANNEL, "--webhook-url", receiver.url)
    long_ago = int(time.time() * 1000) - 25 * 3600 * 1000
    old = peer.call("POST", "/__peer/inbound", {"from": "+5215512345678", "text": "hola",
                                                "sent_at": long_ago})
    assert old.status == 200
    assert old.json["event"]["payload"]["createdAt"] == iso(long_ago)
    receiver.next()  # the inbound event
    late = bird_send(peer, TEXT)
    assert bird_message(peer, late.json["id"])["status"] == "delivery_failed"
    assert json.loads(receiver.next()[2])["event"] == "whatsapp.outbound"
    # the person writes again: 24 hours of free text
    assert peer.call("POST", "/__peer/inbound", {"from": "+5215512345678",
                                                 "text": "sigo aquí"}).status == 200
    receiver.next()
    fine = bird_send(peer, TEXT)
    assert fine.status == 202
    assert bird_message(peer, fine.json["id"])["status"] == "delivered"
    state = peer.call("GET", "/__peer/state").json
    assert list(state["last_inbound"]) == [fine.json["receiver"]["contacts"][0]["id"]]
    bad = peer.call("POST", "/__peer/inbound", {"from": "+5215512345678", "sent_at": "soon"})
    assert bad.status == 400


def test_bird_template_shape_is_checked(bird):
    for template, field in (({}, "template.projectId"),
                            ({"projectId": "reminder", "version": "latest", "locale": "es"},
                             "template.projectId"),
                            ({"projectId": "ce6a2fd6-b2fa-4f5a-a2cd-f3bd15883318",
                              "locale": "es"}, "template.version"),
                            ({"projectId": "ce6a2fd6-b2fa-4f5a-a2cd-f3bd15883318",
                              "version": "latest", "locale": "es",
                              "parameters": [{"key": "x", "value": "y"}]},
                             "template.parameters")):
        reply = bird.call("POST", bird_path("/channels/%s/messages" % CHANNEL), {
            "receiver": {"contacts": [{"identifierKey": "phonenumber",
                                       "identifierValue": "+5215512345678"}]},
            "template": template}, BIRD_AUTH)
        assert reply.status == 422 and field in reply.json["details"], (template, reply)
    both = bird_send(bird, dict(TEXT, **TEMPLATE))
    assert both.status == 422


def test_bird_faults(bird):
    bird.call("POST", "/__peer/faults", {"status": 429, "retry_after": 3,
                                         "path_prefix": "/workspaces/"})
    limited = bird.call("GET", bird_path("/contacts"), headers=BIRD_AUTH)
    assert limited.status == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json["code"] == "TooManyRequests"
    bird.call("POST", "/__peer/faults", {"reset": True, "method": "POST"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        bird.call("POST", bird_path("/contacts"), {"displayName": "x"}, BIRD_AUTH)
    assert bird.call("POST", bird_path("/contacts"), {"displayName": "x"},
                     BIRD_AUTH).status == 201


def test_bird_signature_matches_vector():
    body = (b'{"service":"channels","event":"whatsapp.inbound",'
            b'"payload":{"id":"404544c5-9920-45f1-8990-0855634ab7ac"}}')
    assert bird_peer.signature("secureSigningKey", "1719823259",
                               "https://domain.com/webhook/bird", body) == (
        "ruRK3xC4XGKYPcDfcHzZp7lDsb9/yJ7aVS9HwHZWJMk=")


def test_bird_inbound_webhook(start, receiver):
    peer = start("bird_peer.py", "--signing-key", "k-sign", "--channel-id", CHANNEL)
    no_url = peer.call("POST", "/__peer/inbound", {"from": "+5215512345678", "text": "hola"})
    assert no_url.status == 409
    assert peer.call("POST", "/__peer/config", {"webhook_url": receiver.url}).status == 200
    result = peer.call("POST", "/__peer/inbound", {"from": "+5215512345678", "text": "hola"})
    assert result.status == 200 and result.json["status"] == 200
    path, headers, body = receiver.next()
    event = json.loads(body)
    assert event["service"] == "channels" and event["event"] == "whatsapp.inbound"
    payload = event["payload"]
    assert payload["channelId"] == CHANNEL and payload["direction"] == "incoming"
    assert payload["sender"]["contact"]["identifierValue"] == "+5215512345678"
    assert payload["body"] == {"type": "text", "text": {"text": "hola"}}
    assert payload["parts"][0]["platformReference"].startswith("wamid.")
    stamp = headers["messagebird-request-timestamp"]
    expected = base64.b64encode(hmac.new(
        b"k-sign", ("%s\n%s\n" % (stamp, receiver.url)).encode() + hashlib.sha256(body).digest(),
        hashlib.sha256).digest()).decode()
    assert headers["messagebird-signature"] == expected
    state = peer.call("GET", "/__peer/state").json
    assert state["contacts"][0]["id"] == payload["sender"]["contact"]["id"]
    assert state["webhook_deliveries"][0]["status"] == 200


# ------------------------------------- associations, history, UI edits

def test_deal_custom_properties_and_unique_key_upsert(hubspot):
    upsert = hubspot.call("POST", "/crm/v3/objects/deals/batch/upsert", {"inputs": [
        {"id": "b-1/default", "idProperty": "zhub_deal_key", "properties": {
            "dealname": "Lead b-1", "dealstage": "qualifiedtobuy", "pipeline": "default",
            "ai_agent_type": "qualifier", "qualification_score": "80",
            "last_ai_interaction": "2026-01-02T03:04:05Z"}}]}, HS_AUTH)
    assert upsert.status == 200 and upsert.json["results"][0]["new"] is True
    again = hubspot.call("POST", "/crm/v3/objects/deals/batch/upsert", {"inputs": [
        {"id": "b-1/default", "idProperty": "zhub_deal_key",
         "properties": {"dealstage": "contractsent"}}]}, HS_AUTH)
    assert again.json["results"][0]["new"] is False
    assert again.json["results"][0]["id"] == upsert.json["results"][0]["id"]
    no_stage = hubspot.call("POST", "/crm/v3/objects/deals/batch/upsert", {"inputs": [
        {"id": "b-2/default", "idProperty": "zhub_deal_key",
         "properties": {"dealname": "x"}}]}, HS_AUTH)
    assert no_stage.status == 207 and no_stage.json["results"] == []
    assert no_stage.json["errors"][0]["errors"][0]["code"] == "REQUIRED_PROPERTY"
    unknown = hubspot.call("POST", "/crm/v3/objects/deals", {"properties": {
        "dealname": "x", "dealstage": "closedwon", "nope": "1"}}, HS_AUTH)
    assert unknown.status == 400 and unknown.json["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"


def test_associations_v4_default_read_and_batch(hubspot):
    contact = hs_create(hubspot, email="a@example.com").json["id"]
    deal = hubspot.call("POST", "/crm/v3/objects/deals", {"properties": {
        "dealname": "d", "dealstage": "qualifiedtobuy"}}, HS_AUTH).json["id"]
    put = hubspot.call("PUT", "/crm/v4/objects/deals/%s/associations/default/contacts/%s"
                       % (deal, contact), headers=HS_AUTH)
    assert put.status == 200
    again = hubspot.call("PUT", "/crm/v4/objects/deals/%s/associations/default/contacts/%s"
                         % (deal, contact), headers=HS_AUTH)
    assert again.status == 200
    read = hubspot.call("GET", "/crm/v4/objects/deals/%s/associations/contacts" % deal,
                        headers=HS_AUTH).json["results"]
    assert read == [{"toObjectId": int(contact), "associationTypes": [
        {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}]}]
    back = hubspot.call("GET", "/crm/v4/objects/contacts/%s/associations/deals" % contact,
                        headers=HS_AUTH).json["results"]
    assert back[0]["toObjectId"] == int(deal) and back[0]["associationTypes"][0]["typeId"] == 4
    missing = hubspot.call("PUT", "/crm/v4/objects/deals/%s/associations/default/contacts/9999"
                           % deal, headers=HS_AUTH)
    assert missing.status == 404
    batch = hubspot.call("POST", "/crm/v4/associations/contacts/deals/batch/associate/default",
                         {"inputs": [{"from": {"id": contact}, "to": {"id": deal}}]}, HS_AUTH)
    assert batch.status == 200
    labelled = hubspot.call("PUT", "/crm/v4/objects/deals/%s/associations/contacts/%s"
                            % (deal, contact), [{"associationCategory": "HUBSPOT_DEFINED",
                                                 "associationTypeId": 3}], HS_AUTH)
    assert labelled.status == 201
    bad = hubspot.call("PUT", "/crm/v4/objects/deals/%s/associations/contacts/%s"
                       % (deal, contact), {"x": 1}, HS_AUTH)
    assert bad.status == 400
    assert len(hubspot.call("GET", "/__peer/state").json["associations"]) == 2


def test_associations_v4_object_ids_as_strings(start):
    peer = start("hubspot_peer.py", "--v4-object-ids", "string")
    contact = hs_create(peer, email="a@example.com").json["id"]
    deal = peer.call("POST", "/crm/v3/objects/deals", {"properties": {
        "dealname": "d", "dealstage": "qualifiedtobuy"}}, HS_AUTH).json["id"]
    peer.call("PUT", "/crm/v4/objects/deals/%s/associations/default/contacts/%s"
              % (deal, contact), headers=HS_AUTH)
    read = peer.call("GET", "/crm/v4/objects/deals/%s/associations/contacts" % deal,
                     headers=HS_AUTH).json["results"]
    assert read[0]["toObjectId"] == contact and isinstance(read[0]["toObjectId"], str)


def test_ui_edit_history_and_change_source(start, receiver):
    peer = start("hubspot_peer.py", "--webhook-url", receiver.url)
    deal = peer.call("POST", "/crm/v3/objects/deals", {"properties": {
        "dealname": "d", "dealstage": "qualifiedtobuy"}}, HS_AUTH).json["id"]
    receiver.next()  # the API creation's webhooks
    edit = peer.call("POST", "/__peer/ui_edit", {"kind": "deals", "id": deal,
                                                 "properties": {"dealstage": "contractsent"}})
    assert edit.status == 200
    _, _, body = receiver.next()
    events = json.loads(body)
    assert events[0]["subscriptionType"] == "deal.propertyChange"
    assert events[0]["changeSource"] == "CRM_UI" and events[0]["propertyValue"] == "contractsent"
    read = peer.call("GET", "/crm/v3/objects/deals/%s?properties=dealstage"
                     "&propertiesWithHistory=dealstage" % deal, headers=HS_AUTH).json
    history = read["propertiesWithHistory"]["dealstage"]
    assert [h["value"] for h in history] == ["contractsent", "qualifiedtobuy"]
    assert [h["sourceType"] for h in history] == ["CRM_UI", "INTEGRATION"]
