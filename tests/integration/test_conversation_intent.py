"""Real conversations end to end: a person writes on WhatsApp through the
Bird stand-in (a signed whatsapp.inbound, through the real gateway, onto
the bus); zhub-conversation turns it into conversation.started and
conversation.message; zhub-intent classifies it and publishes
intent.detected and the workflow event it calls for. The AI classifier is
the OpenAI-compatible stand-in (tests/peers/llm_peer.py), which answers,
fails or hangs as each test asks."""
import datetime
import json
import os
import sys
import time
import uuid
import zoneinfo

from harness import PEERS_DIR, wait_until
from peer_http import bus_messages, http, peer_fault, publish

sys.path.insert(0, PEERS_DIR)
import bird_peer  # noqa: E402

MEXICO = zoneinfo.ZoneInfo("America/Mexico_City")
PHONE = "+5215512345678"


def start(hub, intent_env=None, llm=False):
    hub.start_peer("bird")
    if llm:
        hub.start_peer("llm", "--api-key", "sk-test")
    hub.start("broker")
    hub.start("gateway")
    status, _ = http("POST", hub.peers["bird"] + "/__peer/config",
                     {"webhook_url": hub.gateway_url + "/v1/webhooks/bird",
                      "signing_key": hub.BIRD_KEY})
    assert status == 200
    hub.conversation = hub.start("conversation")
    env = {"ZHUB_INTENT_HOLD": "0"}
    if llm:
        env.update({"ZHUB_INTENT_LLM_URL": hub.peers["llm"] + "/v1",
                    "ZHUB_INTENT_LLM_MODEL": "gpt-4o-mini", "ZHUB_INTENT_LLM_KEY": "sk-test",
                    "ZHUB_INTENT_LLM_TIMEOUT": "1s"})
    env.update(intent_env or {})
    return hub.start("intent", extra_env=env)


def write_in(hub, text, phone=PHONE):
    """The person writes; returns Bird's event as the stand-in signed it."""
    status, result = http("POST", hub.peers["bird"] + "/__peer/inbound",
                          {"from": phone, "text": text})
    assert status == 200 and result["status"] == 200, result
    return result["event"]


def post_bird(hub, event):
    """Delivers a Bird webhook body as Bird does: signed with the
    subscription's signing key (messagebird-signature over timestamp, URL
    and the body's SHA-256)."""
    url = hub.gateway_url + "/v1/webhooks/bird"
    body = json.dumps(event, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    status, answer = http("POST", url, raw=body, headers={
        "Content-Type": "application/json",
        "messagebird-signature": bird_peer.signature(hub.BIRD_KEY, stamp, url, body),
        "messagebird-request-timestamp": stamp})
    assert status in (200, 202), (status, answer)


def events(hub, topic, **match):
    found = bus_messages(hub, topic, quiet=0.5)
    return [m for m in found if all(m["data"].get(k) == v for k, v in match.items())]


def wait_for(hub, topic, count=1, **match):
    return wait_until(lambda: len(events(hub, topic, **match)) >= count and
                      events(hub, topic, **match), timeout=20,
                      what="%d %s %s" % (count, topic, match))


def contact_of(event):
    return event["payload"]["sender"]["contact"]["id"]


def test_a_spanish_message_from_a_new_contact_starts_a_conversation(hub):
    start(hub)
    event = write_in(hub, "Hola, quisiera información del departamento")
    bird_id = contact_of(event)
    started = wait_for(hub, "conversation.started", bird_contact_id=bird_id)
    message = wait_for(hub, "conversation.message", bird_contact_id=bird_id)
    assert len(started) == 1 and len(message) == 1
    s, m = started[0], message[0]
    assert s["subject"] == "contact:" + bird_id and s["source"] == "zhub/conversation"
    assert s["data"]["channel"] == "whatsapp"
    assert m["data"]["conversation_id"] == s["data"]["conversation_id"]
    assert m["data"]["direction"] == "in" and m["data"]["sender"] == "contact"
    assert m["data"]["text"] == "Hola, quisiera información del departamento"
    assert m["data"]["message_id"] == event["payload"]["id"]
    assert m["data"]["phone"] == PHONE
    detected = wait_for(hub, "intent.detected", bird_contact_id=bird_id)[0]["data"]
    assert detected["message_id"] == event["payload"]["id"]
    assert detected["decided_by"] == "rules" and detected["language"] == "es"


def test_a_tour_request_asks_for_eleven_tomorrow_in_mexico_city(hub):
    # held back a second (deliverat) before it is published: the path a
    # default configuration takes
    start(hub, intent_env={"ZHUB_INTENT_HOLD": "1s"})
    event = write_in(hub, "quiero agendar una visita mañana a las 11")
    bird_id = contact_of(event)
    detected = wait_for(hub, "intent.detected", bird_contact_id=bird_id)[0]["data"]
    assert detected["intent"] == "tour_request" and detected["decided_by"] == "rules"
    tour = wait_for(hub, "tour.requested", bird_contact_id=bird_id)[0]
    # 11:00 in Mexico City on the day after the message was written there
    sent = datetime.datetime.fromisoformat(event["payload"]["createdAt"].replace("Z", "+00:00"))
    day = sent.astimezone(MEXICO).date() + datetime.timedelta(days=1)
    expected = datetime.datetime(day.year, day.month, day.day, 11, tzinfo=MEXICO)
    times = tour["data"]["preferred_times"]
    assert len(times) == 1
    assert datetime.datetime.fromisoformat(times[0].replace("Z", "+00:00")) == expected
    assert tour["source"] == "zhub/intent" and tour["data"]["phone"] == PHONE
    assert tour["data"]["message_id"] == event["payload"]["id"]
    assert "flexible" not in tour["data"]


def test_asking_for_a_person_escalates_with_high_priority(hub):
    start(hub)
    bird_id = contact_of(write_in(hub, "quiero hablar con una persona"))
    escalation = wait_for(hub, "escalation.triggered", bird_contact_id=bird_id)[0]["data"]
    assert escalation["priority"] == "high"
    detected = wait_for(hub, "intent.detected", bird_contact_id=bird_id)[0]["data"]
    assert detected["intent"] == "human"


def test_baja_opts_the_contact_out(hub):
    start(hub)
    bird_id = contact_of(write_in(hub, "baja"))
    opted = wait_for(hub, "contact.opted_out", bird_contact_id=bird_id)[0]["data"]
    assert opted["channel"] == "whatsapp"
    assert wait_for(hub, "intent.detected", bird_contact_id=bird_id)[0]["data"]["intent"] == \
        "opt_out"


def test_the_same_message_delivered_three_times_is_published_once(hub):
    """Bird retries a webhook and reports each status of a message: three
    deliveries of one message that the gateway takes as three events."""
    start(hub)
    event = write_in(hub, "quiero agendar una visita el jueves a las 5")
    bird_id = contact_of(event)
    for status in ("delivered", "read"):
        again = json.loads(json.dumps(event))
        again["payload"]["status"] = status
        again["payload"]["updatedAt"] = again["payload"]["lastStatusAt"] = \
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        post_bird(hub, again)
    inbound = wait_until(lambda: len(bus_messages(hub, "webhook.bird.whatsapp.inbound",
                                                  quiet=0.5)) >= 3 and True, timeout=20,
                         what="three webhooks on the bus")
    assert inbound
    wait_for(hub, "tour.requested", bird_contact_id=bird_id)
    # every webhook handled by the bridge before counting
    wait_until(lambda: hub.conversation.log_text().count("outcome=duplicate") >= 2, timeout=20,
               what="the bridge to see the repeats")
    for topic in ("conversation.started", "conversation.message", "intent.detected",
                  "tour.requested"):
        assert len(events(hub, topic, bird_contact_id=bird_id)) == 1, topic


def test_the_ai_classifier_decides_when_it_answers(hub):
    proc = start(hub, llm=True)
    http("POST", hub.peers["llm"] + "/__peer/config",
         {"content": json.dumps({"intent": "availability", "confidence": 0.82,
                                 "language": "es"})})
    bird_id = contact_of(write_in(hub, "¿todavía se puede rentar el de la calle Roma?"))
    detected = wait_for(hub, "intent.detected", bird_contact_id=bird_id)[0]["data"]
    assert detected["decided_by"] == "ai" and detected["intent"] == "availability"
    assert abs(detected["confidence"] - 0.82) < 1e-9 and "ai_error" not in detected
    assert "decided_by=ai" in proc.log_text()


def test_a_classifier_down_or_hanging_leaves_the_decision_to_the_rules(hub):
    start(hub, llm=True)
    http("POST", hub.peers["llm"] + "/__peer/config",
         {"content": json.dumps({"intent": "other", "confidence": 0.9})})
    peer_fault(hub, "llm", status=503, path_prefix="/v1/chat/completions")
    first = contact_of(write_in(hub, "quiero agendar una visita mañana a las 11"))
    detected = wait_for(hub, "intent.detected", bird_contact_id=first)[0]["data"]
    assert detected["decided_by"] == "rules" and detected["intent"] == "tour_request"
    assert detected["ai_error"] == "HTTP 503"
    wait_for(hub, "tour.requested", bird_contact_id=first)
    # hangs: answers after 5 s, the router waits 1 s
    peer_fault(hub, "llm", delay_ms=5000, path_prefix="/v1/chat/completions")
    second = contact_of(write_in(hub, "quiero hablar con una persona", phone="+5215587654321"))
    detected = wait_for(hub, "intent.detected", bird_contact_id=second)[0]["data"]
    assert detected["decided_by"] == "rules" and detected["ai_error"] == "timeout"
    assert wait_for(hub, "escalation.triggered", bird_contact_id=second)[0]["data"][
        "priority"] == "high"


def test_an_ai_agents_own_tour_request_is_not_doubled(hub):
    proc = start(hub, intent_env={"ZHUB_INTENT_HOLD": "1s"})
    # the contact exists in Bird once they wrote; Bird's AI agent books a
    # tour itself through the bus (as /v1/events would)
    bird_id = contact_of(write_in(hub, "hola"))
    publish(hub, "tour.requested", {"bird_contact_id": bird_id, "conversation_id": "c-ai",
                                    "preferred_times": ["2030-01-02T17:00:00Z"]},
            subject="contact:" + bird_id)
    write_in(hub, "quiero agendar una visita mañana a las 11")
    wait_until(lambda: "outcome=doubled" in proc.log_text(), timeout=20,
               what="the router to see the AI agent's tour request")
    tours = events(hub, "tour.requested", bird_contact_id=bird_id)
    assert [t["source"] for t in tours] == ["pytest"]
    assert len(events(hub, "intent.detected", bird_contact_id=bird_id)) == 2


def test_bird_closing_the_conversation_ends_it(hub):
    start(hub)
    bird_id = contact_of(write_in(hub, "hola"))
    conversation = wait_for(hub, "conversation.started", bird_contact_id=bird_id)[0]["data"][
        "conversation_id"]
    bird_conversation = str(uuid.uuid4())
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    payload = {"id": bird_conversation, "name": "", "description": "", "status": "active",
               "visibility": "private", "accessibility": "invite-only",
               "featuredParticipants": [{"id": bird_id, "type": "contact", "status": "active",
                                         "displayName": "Ana", "avatarUrl": "",
                                         "contact": {"identifierKey": "phonenumber",
                                                     "identifierValue": PHONE,
                                                     "platformAddress": PHONE}}],
               "activeParticipantCount": 1, "pendingParticipantCount": 0,
               "channelId": str(uuid.uuid4()), "createdAt": now, "updatedAt": now}
    post_bird(hub, {"service": "conversations", "event": "conversation.created",
                    "payload": payload})
    closed = dict(payload, status="closed")
    post_bird(hub, {"service": "conversations", "event": "conversation.updated",
                    "payload": closed})
    ended = wait_for(hub, "conversation.ended", bird_contact_id=bird_id)
    assert len(ended) == 1
    assert ended[0]["data"]["conversation_id"] == conversation
    assert ended[0]["data"]["reason"] == "closed"
    # still one start: Bird's conversation was linked to the open one
    assert len(events(hub, "conversation.started", bird_contact_id=bird_id)) == 1


def test_erasing_the_person_empties_both_stores(hub):
    start(hub)
    bird_id = contact_of(write_in(hub, "quiero hablar con una persona"))
    wait_for(hub, "escalation.triggered", bird_contact_id=bird_id)
    request = "r-" + uuid.uuid4().hex[:8]
    publish(hub, "contact.forget", {"request": request, "bird_contact_id": bird_id,
                                    "phone": PHONE,
                                    "identifiers": [bird_id, PHONE, PHONE[1:]]},
            subject="erase:" + request)
    answers = wait_until(lambda: {m["data"]["actor"]: m["data"]["removed"]
                                  for m in bus_messages(hub, "contact.forgotten", quiet=0.5)
                                  if m["data"]["request"] == request}
                         if len([m for m in bus_messages(hub, "contact.forgotten", quiet=0.5)
                                 if m["data"]["request"] == request]) >= 2 else None,
                         timeout=20, what="both actors to answer the erase")
    assert answers["conversation"] >= 2  # the contact's state and its message
    assert answers["intent"] >= 1        # the decision
