"""zhub-gateway's providers beyond HubSpot and Bird, end to end against a real
zhub-broker: Calendly, WhatsApp (Meta), Google Calendar push, Microsoft
Graph, Standard Webhooks and CloudEvents. For each: a valid request reaches
the bus with a stable id, and a tampered body, a wrong secret, a stale
timestamp (a replay of an old signature), missing headers are refused with
401 and publish nothing; the handshakes are answered; a secret's _PREVIOUS
twin is accepted during a rotation.

Requests are signed here with hmac/hashlib from the algorithms in
https://developer.calendly.com/api-docs, https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md.
"""
import base64
import hashlib
import hmac
import json
import time
import urllib.parse

from test_gateway import (bus_factory, compact, error_code, marker,  # noqa: F401
                          request, sample)

CALENDLY_KEY = "calendly-key"
WHATSAPP_SECRET = "meta-app-secret"
WHATSAPP_VERIFY = "meta-verify-token"
GOOGLE_TOKEN = "google-channel-token"
GRAPH_STATE = "graph-client-state"
EVENTS_TOKEN = "events-token"
GENERIC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

SECRETS = {
    "ZHUB_CALENDLY_SIGNING_KEY": CALENDLY_KEY,
    "ZHUB_WHATSAPP_APP_SECRET": WHATSAPP_SECRET,
    "ZHUB_WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY,
    "ZHUB_GOOGLE_CHANNEL_TOKEN": GOOGLE_TOKEN,
    "ZHUB_GRAPH_CLIENT_STATE": GRAPH_STATE,
    "ZHUB_EVENTS_TOKEN": EVENTS_TOKEN,
    "ZHUB_GENERIC_SECRET_CRM": GENERIC_SECRET,
}


def start(hub, **extra):
    env = dict(SECRETS)
    env.update(extra)
    hub.start("broker")
    return hub.start("gateway", extra_env=env)


def published(hub, bus_factory, topics=("webhook.>",)):  # noqa: F811
    """Everything published before a fresh marker, in log order (the marker
    itself is left out). Messages with one subject are delivered one at a
    time, so the marker can overtake some of them: read on briefly."""
    expected = marker(hub)
    bus = bus_factory(list(topics) + ["webhook.hubspot.contact.marker"])
    got = []
    while True:
        msg = bus.next(timeout=5.0)
        assert msg is not None, "the marker never arrived; got %r" % got
        if msg["id"] == expected:
            return got + bus.drain(timeout=0.5)
        got.append(msg)


# ------------------------------------------------------------ signing

def calendly_headers(body, key=CALENDLY_KEY, age_s=0):
    t = str(int(time.time()) - age_s)
    v1 = hmac.new(key.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Calendly-Webhook-Signature": "t=%s,v1=%s" % (t, v1)}


def whatsapp_headers(body, secret=WHATSAPP_SECRET):
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + sig}


def standard_headers(body, msg_id="msg_1", secret=GENERIC_SECRET, age_s=0):
    stamp = str(int(time.time()) - age_s)
    key = base64.b64decode(secret[len("whsec_"):] + "==")
    mac = hmac.new(key, ("%s.%s." % (msg_id, stamp)).encode() + body, hashlib.sha256).digest()
    return {"Content-Type": "application/json", "webhook-id": msg_id, "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode()}


def google_headers(state="exists", number="10", token=GOOGLE_TOKEN):
    h = json.loads(sample("google-calendar-push-notification.json"))["headers"]
    h["X-Goog-Channel-Token"] = token
    h["X-Goog-Resource-State"] = state
    h["X-Goog-Message-Number"] = number
    del h["Content-Length"]
    return h


# ------------------------------------------------------------ Calendly

def test_calendly_signed_event_is_published_and_bad_ones_are_401(hub, bus_factory):  # noqa: F811
    start(hub)
    path = "/v1/webhooks/calendly"
    body = sample("calendly-invitee-created.json")
    reply = request(hub.gateway_url, "POST", path, body, calendly_headers(body))
    assert reply.status == 200, reply
    # Calendly's retry, signed afresh a second later, collapses
    time.sleep(1.0)
    assert request(hub.gateway_url, "POST", path, body, calendly_headers(body)).status == 200
    bad = [
        (body + b" ", calendly_headers(body)),                        # tampered body
        (body, calendly_headers(body, key="wrong")),                   # wrong secret
        (body, calendly_headers(body, age_s=600)),                     # replay of an old signature
        (body, {"Content-Type": "application/json"}),                  # missing header
    ]
    for data, headers in bad:
        reply = request(hub.gateway_url, "POST", path, data, headers)
        assert reply.status == 401, reply
        assert error_code(reply) == "unauthorized"
    got = published(hub, bus_factory)
    assert [m["type"] for m in got] == ["webhook.calendly.invitee.created"]
    assert got[0]["id"].startswith("calendly:")
    assert got[0]["subject"] == "calendly:event:GBGBDCAADAEDCRZ2"
    assert got[0]["data"]["payload"]["email"] == "test@example.com"


def test_calendly_previous_key_is_accepted_during_rotation(hub, bus_factory):  # noqa: F811
    start(hub, ZHUB_CALENDLY_SIGNING_KEY="brand-new-key",
          ZHUB_CALENDLY_SIGNING_KEY_PREVIOUS=CALENDLY_KEY)
    path = "/v1/webhooks/calendly"
    body = sample("calendly-invitee-created.json")
    assert request(hub.gateway_url, "POST", path, body, calendly_headers(body)).status == 200
    assert request(hub.gateway_url, "POST", path, body,
                   calendly_headers(body, key="brand-new-key")).status == 200
    assert request(hub.gateway_url, "POST", path, body,
                   calendly_headers(body, key="older")).status == 401


# ------------------------------------------------------------ WhatsApp

def test_whatsapp_verification_handshake(hub):
    start(hub)
    query = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY,
                                    "hub.challenge": "1158201444"})
    reply = request(hub.gateway_url, "GET", "/v1/webhooks/whatsapp?" + query)
    assert reply.status == 200 and reply.body == "1158201444", reply
    assert reply.headers["content-type"].startswith("text/plain")
    query = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": "guess",
                                    "hub.challenge": "1"})
    assert request(hub.gateway_url, "GET", "/v1/webhooks/whatsapp?" + query).status == 403
    # GET elsewhere is still not a webhook
    assert request(hub.gateway_url, "GET", "/v1/webhooks/hubspot").status == 405


def test_whatsapp_signed_message_is_published_and_bad_ones_are_401(hub, bus_factory):  # noqa: F811
    start(hub)
    path = "/v1/webhooks/whatsapp"
    body = sample("whatsapp-message.json")
    reply = request(hub.gateway_url, "POST", path, body, whatsapp_headers(body))
    assert reply.status == 200 and reply.json["accepted"] == 1, reply
    # Meta's retry of the same delivery collapses on the wamid
    assert request(hub.gateway_url, "POST", path, body, whatsapp_headers(body)).status == 200
    for data, headers in [(body.replace(b"color", b"colour"), whatsapp_headers(body)),
                          (body, whatsapp_headers(body, secret="wrong")),
                          (body, {"Content-Type": "application/json"})]:
        assert request(hub.gateway_url, "POST", path, data, headers).status == 401
    got = published(hub, bus_factory)
    assert len(got) == 1, got
    assert got[0]["id"] == "whatsapp:wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert got[0]["type"] == "webhook.whatsapp.message"
    assert got[0]["subject"] == "whatsapp:16505551234"
    assert got[0]["data"]["message"]["text"]["body"] == "Does it come in another color?"


# ------------------------------------------------------------ Google

def test_google_sync_is_acknowledged_and_a_change_asks_for_a_sync(hub, bus_factory):  # noqa: F811
    start(hub)
    path = "/v1/webhooks/google"
    reply = request(hub.gateway_url, "POST", path, b"", google_headers("sync", "1"))
    assert reply.status == 200 and reply.json["accepted"] == 0, reply
    assert request(hub.gateway_url, "POST", path, b"", google_headers("exists", "10")).status == 200
    assert request(hub.gateway_url, "POST", path, b"", google_headers("exists", "10")).status == 200
    assert request(hub.gateway_url, "POST", path, b"",
                   google_headers(token="wrong")).status == 401
    no_token = google_headers()
    del no_token["X-Goog-Channel-Token"]
    assert request(hub.gateway_url, "POST", path, b"", no_token).status == 401
    got = published(hub, bus_factory)
    assert [m["type"] for m in got] == ["webhook.google.calendar.changed"]
    assert got[0]["id"] == "google:4ba78bf0-6a47-11e2-bcfd-0800200c9a66:10"
    assert got[0]["data"]["channel_id"] == "4ba78bf0-6a47-11e2-bcfd-0800200c9a66"
    assert got[0]["data"]["resource_id"] == "ret08u3rv24htgh289g"


# ------------------------------------------------------------ Graph

def test_graph_validation_and_client_state_per_notification(hub, bus_factory):  # noqa: F811
    start(hub)
    path = "/v1/webhooks/graph"
    token = "Validation: Testing client application"
    reply = request(hub.gateway_url, "POST",
                    path + "?validationToken=" + urllib.parse.quote_plus(token), b"",
                    {"Content-Type": "text/plain; charset=utf-8"})
    assert reply.status == 200 and reply.body == token, reply
    assert reply.headers["content-type"].startswith("text/plain")

    doc = json.loads(sample("msgraph-change-notification.json"))
    good = dict(doc["value"][0], clientState=GRAPH_STATE)
    forged = dict(doc["value"][0], clientState="forged", changeType="deleted")
    body = compact({"value": [good, forged]})
    reply = request(hub.gateway_url, "POST", path, body, {"Content-Type": "application/json"})
    assert reply.status == 200 and reply.json["accepted"] == 1, reply
    only_forged = compact({"value": [forged]})
    assert request(hub.gateway_url, "POST", path, only_forged,
                   {"Content-Type": "application/json"}).status == 401
    got = published(hub, bus_factory)
    assert [m["type"] for m in got] == ["webhook.graph.created"]
    assert "clientState" not in got[0]["data"]
    assert GRAPH_STATE not in hub.procs[-1].log_text()


# ------------------------------------------------------------ Standard Webhooks

def test_standard_webhook_is_published_and_bad_ones_are_401(hub, bus_factory):  # noqa: F811
    start(hub)
    path = "/v1/webhooks/generic/crm"
    body = sample("standard-webhooks-example.json")
    assert request(hub.gateway_url, "POST", path, body, standard_headers(body)).status == 200
    # the sender's retry: same webhook-id, new timestamp
    time.sleep(1.0)
    assert request(hub.gateway_url, "POST", path, body, standard_headers(body)).status == 200
    for data, headers in [(body + b" ", standard_headers(body)),
                          (body, standard_headers(body, secret="whsec_" + "A" * 32)),
                          (body, standard_headers(body, age_s=400)),
                          (body, standard_headers(body, age_s=-400)),
                          (body, {"Content-Type": "application/json"})]:
        assert request(hub.gateway_url, "POST", path, data, headers).status == 401
    # a sender nobody configured does not exist
    assert request(hub.gateway_url, "POST", "/v1/webhooks/generic/other", body,
                   standard_headers(body)).status == 404
    got = published(hub, bus_factory)
    assert [m["id"] for m in got] == ["generic:crm:msg_1"]
    assert got[0]["type"] == "webhook.crm.contact.created"
    assert got[0]["source"] == "generic/crm"


# ------------------------------------------------------------ CloudEvents

def test_cloudevents_both_modes_publish_catalogue_events(hub, bus_factory):  # noqa: F811
    start(hub)
    auth = {"Authorization": "Bearer " + EVENTS_TOKEN}
    structured = compact({"specversion": "1.0", "id": "evt-1", "source": "bird/flows",
                          "type": "conversation.started", "subject": "contact:c-1",
                          "data": {"conversation_id": "conv-1", "bird_contact_id": "c-1"}})
    headers = dict(auth, **{"Content-Type": "application/cloudevents+json"})
    reply = request(hub.gateway_url, "POST", "/v1/events", structured, headers)
    assert reply.status == 200, reply
    binary = dict(auth, **{"Content-Type": "application/json", "ce-specversion": "1.0",
                           "ce-id": "evt-2", "ce-source": "svc", "ce-type": "tour.requested",
                           "ce-subject": "contact:c-1"})
    assert request(hub.gateway_url, "POST", "/v1/events", b'{"duration_min":30}',
                   binary).status == 200
    wrong = dict(headers, Authorization="Bearer nope")
    assert request(hub.gateway_url, "POST", "/v1/events", structured, wrong).status == 401
    assert request(hub.gateway_url, "POST", "/v1/events", structured,
                   {"Content-Type": "application/cloudevents+json"}).status == 401
    forged = dict(binary, **{"ce-type": "webhook.hubspot.contact.creation", "ce-id": "x"})
    assert request(hub.gateway_url, "POST", "/v1/events", b"{}", forged).status == 400
    got = published(hub, bus_factory, topics=("conversation.>", "tour.>", "webhook.>"))
    assert [(m["id"], m["type"]) for m in got] == [("evt-1", "conversation.started"),
                                                   ("evt-2", "tour.requested")]
    assert got[1]["data"] == {"duration_min": 30}
