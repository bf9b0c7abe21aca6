"""Every actor's admin listener (ZHUB_ACTOR_ADMIN_LISTEN): /healthz for
liveness, /readyz for readiness (with the reason while not ready), /metrics
in the Prometheus text format, checked with promtool as Prometheus would
read it. contact-sync stands for every actor: the listener and the figures
are the runtime's."""
import json
import subprocess
import time
import urllib.error
import urllib.request

from harness import BINARIES, free_port, wait_until
from peer_http import http
from test_contact_sync import inbound_message, post_bird_webhook, seed_bird_contact

PROMTOOL = "/usr/bin/promtool"


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def series(text, name, **labels):
    """The value of name's series whose labels include labels (0 when none)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, value = line.rsplit(" ", 1)
        if head.split("{")[0] != name:
            continue
        if all('%s="%s"' % (k, v) in head for k, v in labels.items()):
            total += float(value)
    return total


def promtool_accepts(text):
    """promtool check metrics: the exposition parses and keeps Prometheus's
    naming rules (its lint)."""
    out = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=30)
    return out.returncode == 0, out.stdout + out.stderr


def start(hub, *hubspot_args):
    hub.start_peer("hubspot", *hubspot_args)
    hub.start_peer("bird")
    hub.start("broker")
    hub.start("gateway")
    port = free_port()
    env = dict(hub.env, ZHUB_ACTOR_ADMIN_LISTEN="127.0.0.1:%d" % port,
               ZHUB_HUBSPOT_BATCH_WINDOW="0", ZHUB_READY_RETRY="200ms")
    proc = hub._start("contact-sync", [BINARIES["contact-sync"]], extra_env=env,
                      ready_text="event=ready" if not hubspot_args else "event=not_ready")
    return proc, "http://127.0.0.1:%d" % port


def test_readyz_says_why_until_ready_then_metrics_follow_the_work(hub):
    _, admin = start(hub, "--no-custom-properties")
    assert get(admin + "/healthz")[0] == 200
    status, body = get(admin + "/readyz")
    assert status == 503
    assert json.loads(body)["ready"] is False and "zhub hubspot setup" in json.loads(body)["why"]
    assert series(get(admin + "/metrics")[1], "zhub_actor_ready") == 0
    setup = subprocess.run([BINARIES["zhub"], "hubspot", "setup"], env=hub.env,
                           capture_output=True, text=True, timeout=30)
    assert setup.returncode == 0, setup.stderr
    wait_until(lambda: get(admin + "/readyz")[0] == 200, timeout=15, what="ready")
    bird_id = seed_bird_contact(hub, "Ana Paz", "+5215512345678", "ana@example.com")
    assert post_bird_webhook(hub, inbound_message(bird_id, "+5215512345678"))[0] == 200
    metrics = wait_until(lambda: (lambda t: t if series(
        t, "zhub_actor_messages_total", route="webhook.bird.>", outcome="ok") >= 1 else None)(
            get(admin + "/metrics")[1]), timeout=15, what="the message counted")
    assert series(metrics, "zhub_actor_ready") == 1
    assert series(metrics, "zhub_actor_sync_latency_seconds_count", route="webhook.bird.>") >= 1
    assert series(metrics, "zhub_actor_handle_seconds_count", route="webhook.bird.>") >= 1
    assert series(metrics, "zhub_actor_http_requests_total", peer="127.0.0.1", **{"class": "2xx"}) >= 2
    assert 0 < series(metrics, "zhub_store_used_bytes") < series(metrics, "zhub_store_limit_bytes")
    # HubSpot's rate window as its answers said it, and its circuit closed
    budget_max = series(metrics, "zhub_actor_peer_budget_max", peer="127.0.0.1")
    assert budget_max > 0
    assert 0 <= series(metrics, "zhub_actor_peer_budget_remaining", peer="127.0.0.1") <= budget_max
    assert 'zhub_actor_breaker_open{peer="127.0.0.1"} 0' in metrics
    # never an id or a phone number as a label
    assert bird_id not in metrics and "5512345678" not in metrics
    ok, why = promtool_accepts(metrics)
    assert ok, why
    assert get(admin + "/nothing")[0] == 404


def test_a_peer_answering_503_shows_as_5xx_calls_and_retries(hub):
    before = time.time()
    proc, admin = start(hub)
    status, _ = http("POST", hub.peers["hubspot"] + "/__peer/faults",
                     {"status": 503, "count": 2, "path_prefix": "/crm/v3/objects/contacts"})
    assert status in (200, 201)
    bird_id = seed_bird_contact(hub, "Luis Paz", "+5215512345679", "luis@example.com")
    assert post_bird_webhook(hub, inbound_message(bird_id, "+5215512345679"))[0] == 200
    metrics = wait_until(lambda: (lambda t: t if series(
        t, "zhub_actor_http_requests_total", **{"class": "5xx"}) >= 1 and series(
            t, "zhub_actor_messages_total", route="webhook.bird.>",
            outcome="retry") + series(t, "zhub_actor_messages_total", route="webhook.bird.>",
                                      outcome="deferred") >= 1 else None)(
        get(admin + "/metrics")[1]), timeout=20, what="the 503 counted")
    assert "zhub_actor_http_seconds_bucket" in metrics
    # the last failure by host: its status and when (the console shows both)
    assert series(metrics, "zhub_actor_peer_last_error_status", peer="127.0.0.1") == 503
    assert series(metrics, "zhub_actor_peer_last_error_seconds", peer="127.0.0.1") >= before - 1


def test_an_open_circuit_shows_until_the_peer_answers_again(hub):
    # five 503s in a row: the circuit opens after three and the call is held
    # while it probes; once HubSpot answers, it closes again
    _, admin = start(hub)
    status, _ = http("POST", hub.peers["hubspot"] + "/__peer/faults",
                     {"status": 503, "count": 5, "path_prefix": "/crm/v3/objects/contacts"})
    assert status in (200, 201)
    bird_id = seed_bird_contact(hub, "Eva Paz", "+5215512345670", "eva@example.com")
    assert post_bird_webhook(hub, inbound_message(bird_id, "+5215512345670"))[0] == 200
    wait_until(lambda: 'zhub_actor_breaker_open{peer="127.0.0.1"} 1' in get(admin + "/metrics")[1],
               timeout=20, what="the circuit shown open")
    wait_until(lambda: series(get(admin + "/metrics")[1], "zhub_actor_messages_total",
                              route="webhook.bird.>", outcome="ok") >= 1,
               timeout=40, what="the message synced once HubSpot answers")
    assert 'zhub_actor_breaker_open{peer="127.0.0.1"} 0' in get(admin + "/metrics")[1]
