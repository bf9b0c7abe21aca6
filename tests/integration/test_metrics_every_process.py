"""One scrape per process: each zhub process answers GET /metrics on its
admin listener with its series, and its figures move as traffic goes
through it and faults are injected into the services it calls. Prometheus
reads the exposition as promtool does.

Beside the processes they belong to: the broker's lag and dead letters
(test_broker_metrics.py), the gateway's refused signature
(test_gateway_limits.py), contact-sync's HubSpot 503 -> writes waiting and
the circuit open (test_actor_admin.py), the dead-letter gauge
(test_dead_letter.py). This file scrapes the rest: deal-sync,
activity-log, scheduler, conversation and intent, and the gateway beside
the last two on the path a WhatsApp message takes."""
import json
import time

import test_conversation_intent as conv
import test_deal_sync as deal
import test_scheduler as sched
from harness import free_port, wait_until
from peer_http import bus_messages, http, peer_fault, publish, seed_hubspot
from test_activity_log import engagements
from test_activity_log import start as start_activity_log
from test_actor_admin import get, promtool_accepts, series


def admin():
    """A port for a process's admin listener and its /metrics URL."""
    port = free_port()
    return "127.0.0.1:%d" % port, "http://127.0.0.1:%d/metrics" % port


def scrape(url):
    status, text = get(url)
    assert status == 200, text
    return text


def scrape_until(url, check, what, timeout=20):
    """The exposition once check(text) holds."""
    return wait_until(lambda: (lambda t: t if check(t) else None)(scrape(url)), timeout=timeout,
                      what=what)


def assert_exposition(text):
    ok, why = promtool_accepts(text)
    assert ok, why


def test_deal_sync_counts_its_deals_and_hubspot_refusals(hub):
    listen, url = admin()
    deal.start_stack(hub, ZHUB_ACTOR_ADMIN_LISTEN=listen)
    assert series(scrape(url), "zhub_actor_messages_total") == 0
    bird_id, contact_id = deal.seed_contact(hub)
    deal.publish(hub, "contact.synced", bird_id, {"bird_contact_id": bird_id,
                                                  "hubspot_contact_id": contact_id,
                                                  "changed": [], "direction": "bird_to_hubspot"})
    # HubSpot refuses the first deal write with a 503, then answers
    peer_fault(hub, "hubspot", status=503, count=1, path_prefix="/crm/v3/objects/deals")
    deal.stage_changed(hub, bird_id, "lead", qualification_score=35)
    deal.wait_stage(hub, bird_id, "qualifiedtobuy", timeout=20)
    text = scrape_until(url, lambda t: series(
        t, "zhub_actor_messages_total", route="conversation.stage_changed", outcome="ok") >= 1,
        "the stage change counted")
    assert series(text, "zhub_actor_messages_total", route="contact.synced", outcome="ok") >= 1
    assert series(text, "zhub_actor_http_requests_total", peer="127.0.0.1",
                  **{"class": "5xx"}) >= 1
    assert series(text, "zhub_actor_http_requests_total", peer="127.0.0.1",
                  **{"class": "2xx"}) >= 1
    assert series(text, "zhub_actor_ready") == 1
    assert bird_id not in text
    assert_exposition(text)


def test_activity_log_counts_its_engagements(hub):
    listen, url = admin()
    start_activity_log(hub, ZHUB_ACTOR_ADMIN_LISTEN=listen)
    bird_id = "2b0d4f7e-1c3a-4e5f-8a9b-0c1d2e3f4a5b"
    contact = seed_hubspot(hub, "contacts", {"email": "pia@example.com",
                                             "bird_contact_id": bird_id})
    publish(hub, "contact.synced", {"bird_contact_id": bird_id, "hubspot_contact_id": contact,
                                    "changed": ["email"], "direction": "bird_to_hubspot"},
            subject="contact:" + bird_id)
    peer_fault(hub, "hubspot", status=503, count=1, path_prefix="/crm/v3/objects/notes")
    publish(hub, "conversation.started", {"conversation_id": "conv-m", "bird_contact_id": bird_id,
                                          "channel": "whatsapp", "agent_type": "qualifier"},
            subject="contact:" + bird_id)
    wait_until(lambda: engagements(hub, "notes"), timeout=20, what="a note")
    text = scrape_until(url, lambda t: series(
        t, "zhub_actor_messages_total", route="conversation.started", outcome="ok") >= 1,
        "the note counted")
    assert series(text, "zhub_actor_http_requests_total", peer="127.0.0.1",
                  **{"class": "5xx"}) >= 1
    assert series(text, "zhub_actor_http_requests_total", peer="127.0.0.1",
                  **{"class": "2xx"}) >= 1
    assert series(text, "zhub_actor_handle_seconds_count", route="conversation.started") >= 1
    assert bird_id not in text
    assert_exposition(text)


def test_scheduler_counts_bookings_token_refreshes_and_calendar_refusals(hub):
    listen, url = admin()
    sched.start(hub, agents=(sched.ANA,), restart_env={"ZHUB_ACTOR_ADMIN_LISTEN": listen})
    # Google's rate limit answer (403 rateLimitExceeded) once, then a booking
    peer_fault(hub, "google", status=403, count=1, path_prefix="/calendar/v3/freeBusy")
    sched.request(hub, [sched.SLOT])
    wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), timeout=20,
               what="the booking")
    text = scrape_until(url, lambda t: series(
        t, "zhub_actor_messages_total", route="tour.requested", outcome="ok") >= 1,
        "the booking counted")
    assert series(text, "zhub_actor_token_refresh_total", provider="google", outcome="ok") >= 1
    assert series(text, "zhub_actor_http_requests_total", **{"class": "4xx"}) >= 1
    assert series(text, "zhub_actor_http_requests_total", **{"class": "2xx"}) >= 3
    assert "google-refresh-token" not in text
    assert_exposition(text)


def test_a_whatsapp_message_moves_the_gateway_conversation_and_intent(hub):
    # the path of a message: the gateway verifies Bird's webhook, the
    # conversation actor threads it, the intent actor classifies it
    conv_listen, conv_url = admin()
    intent_listen, intent_url = admin()
    hub.start_peer("bird")
    hub.start("broker")
    hub.start("gateway")
    status, _ = http("POST", hub.peers["bird"] + "/__peer/config",
                     {"webhook_url": hub.gateway_url + "/v1/webhooks/bird",
                      "signing_key": hub.BIRD_KEY})
    assert status == 200
    hub.start("conversation", extra_env={"ZHUB_ACTOR_ADMIN_LISTEN": conv_listen})
    hub.start("intent", extra_env={"ZHUB_INTENT_HOLD": "0",
                                   "ZHUB_ACTOR_ADMIN_LISTEN": intent_listen})
    gateway_url = hub.admin_url + "/metrics"
    before = series(scrape(gateway_url), "zhub_gateway_requests_total", status="200")

    event = conv.write_in(hub, "Hola, quisiera información del departamento")
    bird_id = conv.contact_of(event)
    conv.wait_for(hub, "intent.detected", bird_contact_id=bird_id)

    text = scrape_until(gateway_url, lambda t: series(
        t, "zhub_gateway_requests_total", status="200") > before, "the webhook counted")
    assert series(text, "zhub_gateway_publish_seconds_count") >= 1
    assert series(text, "zhub_gateway_broker_up") == 1
    assert_exposition(text)
    # a body Bird did not sign: refused and counted by reason
    body = json.dumps(event, separators=(",", ":")).encode()
    status, _ = http("POST", hub.gateway_url + "/v1/webhooks/bird", raw=body, headers={
        "Content-Type": "application/json", "messagebird-signature": "bm90IGEgc2lnbmF0dXJl",
        "messagebird-request-timestamp": str(int(time.time()))})
    assert status == 401
    scrape_until(gateway_url, lambda t: series(t, "zhub_gateway_signature_failures_total") >= 1,
                 "the refused signature counted")

    text = scrape_until(conv_url, lambda t: series(
        t, "zhub_actor_messages_total", route="webhook.bird.*.inbound", outcome="ok") >= 1,
        "the conversation's message counted")
    assert series(text, "zhub_actor_sync_latency_seconds_count",
                  route="webhook.bird.*.inbound") >= 1
    assert series(text, "zhub_actor_ready") == 1
    assert bird_id not in text and "5512345678" not in text
    assert_exposition(text)

    text = scrape_until(intent_url, lambda t: series(
        t, "zhub_actor_messages_total", route="conversation.message", outcome="ok") >= 1,
        "the intent's message counted")
    assert series(text, "zhub_actor_outbox_pending") == 0
    assert bird_id not in text
    assert_exposition(text)
