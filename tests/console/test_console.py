"""The gateway's console end to end: real zhub-broker, zhub-dead-letter and
zhub-gateway on 127.0.0.1, the page driven in Debian's headless Chromium by
console.test.js (playwright-core from this folder's package-lock.json), and
the console's API checked directly. Screenshots are kept in the build dir
under console-screenshots/ as test artefacts.

Chromium and node_modules are required, not optional: without them the test
fails (./dev installs both)."""
import base64
import hashlib
import hmac
import json
import os
import queue
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
from harness import BUILD_DIR, Hub, free_port, wait_until  # noqa: E402  (conftest.py put it on the path)
from zhub_bus import Bus, envelope  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
NODE = "/usr/bin/node"
TOKEN = "c0nsole-Test-token_1"
SHOTS = os.path.join(BUILD_DIR, "console-screenshots")
FAST = {"ZHUB_BROKER_BACKOFF": "100ms"}


def start(hub):
    """broker, dead-letter (admin listener on) and the gateway with an admin
    token and the dead-letter actor's admin listener to probe."""
    hub.start("broker", extra_env=FAST)
    actor_admin = free_port()
    hub.start("dead-letter", extra_env={"ZHUB_ACTOR_ADMIN_LISTEN": "127.0.0.1:%d" % actor_admin})
    hub.start("gateway", extra_env={
        "ZHUB_ADMIN_TOKEN": "console@" + TOKEN,
        "ZHUB_CONSOLE_PROCESSES": "dead-letter=127.0.0.1:%d" % actor_admin})


def call(hub, method, path, token=TOKEN):
    req = urllib.request.Request(hub.admin_url + path, method=method, data=b"" if method == "POST" else None)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as reply:
            return reply.status, json.loads(reply.read()), dict(reply.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), dict(e.headers)


def hubspot_webhook(hub, event_id):
    """One signed HubSpot contact.creation, as HubSpot signs v3
    (https://developers.hubspot.com/docs/api/webhooks/validating-requests)."""
    body = json.dumps([{"eventId": event_id, "subscriptionId": 7, "portalId": 62515,
                        "occurredAt": 1700000000000, "subscriptionType": "contact.creation",
                        "attemptNumber": 0, "objectId": 501, "changeSource": "CRM"}],
                      separators=(",", ":")).encode()
    path = "/v1/webhooks/hubspot"
    stamp = str(int(time.time() * 1000))
    signed = b"POST" + (hub.gateway_url + path).encode() + body + stamp.encode()
    signature = base64.b64encode(hmac.new(Hub.HUBSPOT_SECRET.encode(), signed,
                                          hashlib.sha256).digest()).decode()
    req = urllib.request.Request(hub.gateway_url + path, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": stamp})
    with urllib.request.urlopen(req, timeout=10) as reply:
        assert reply.status == 200


def reject_next(consumer, reason="console test reject"):
    """NACKs the next delivery terminally: the broker dead-letters it."""
    delivery = consumer.recv(10)
    assert delivery is not None
    consumer.nack(delivery["tag"], terminal=True, code=422, reason=reason)
    return delivery["message"]


def open_letters(hub):
    status, body, _ = call(hub, "GET", "/v1/console/snapshot")
    assert status == 200, body
    return body["letters"]["open"]


def test_console_api_refuses_without_the_admin_token(hub):
    start(hub)
    for method, path in (("GET", "/v1/console/snapshot"), ("GET", "/v1/console/decisions"),
                         ("GET", "/v1/console/results"),
                         ("GET", "/v1/console/letters/1"), ("GET", "/v1/console/letters/1/preview"),
                         ("POST", "/v1/console/letters/1/replay"),
                         ("POST", "/v1/console/letters/1/purge")):
        status, body, headers = call(hub, method, path, token=None)
        assert status == 401 and body["error"] == "unauthorized", (path, body)
        assert headers.get("WWW-Authenticate") == "Bearer"
        status, body, _ = call(hub, method, path, token=TOKEN + "x")
        assert status == 401 and body["error"] == "unauthorized", (path, body)
    # with the token: the sync results (no run yet on a fresh hub; when no
    # actor's store keeps them yet, it says why)
    status, body, _ = call(hub, "GET", "/v1/console/results")
    assert status == 200 and body["results"] == [], body
    assert body["available"] is True or "sync results" in body["reason"], body
    # the page itself holds nothing secret and is served with a strict policy
    with urllib.request.urlopen(hub.admin_url + "/console/", timeout=10) as reply:
        page = reply.read().decode()
        assert reply.headers["Content-Type"].startswith("text/html")
        assert "default-src 'none'" in reply.headers["Content-Security-Policy"]
    assert "/console/console.js" in page and "/console/console.css" in page
    # nothing is loaded from elsewhere: no absolute URL in any of its files
    for name in ("", "console.js", "console.css"):
        with urllib.request.urlopen(hub.admin_url + "/console/" + name, timeout=10) as reply:
            assert b"://" not in reply.read(), name
    assert call(hub, "GET", "/console/nothing.js", token=None)[0] == 404


def test_console_snapshot_replay_and_purge_through_the_api(hub):
    start(hub)
    consumer = Bus(hub.env["ZHUB_BROKER"], "console-test")
    try:
        consumer.join("contact-sync", ["webhook.hubspot.>"], credit=1)
        hubspot_webhook(hub, 1001)
        reject_next(consumer)
        hubspot_webhook(hub, 1002)
        reject_next(consumer)
        letters = wait_until(lambda: (lambda l: l if len(l) == 2 else None)(open_letters(hub)),
                             20, 0.2, "two open letters")
        assert {l["reason"] for l in letters} == {"console test reject"}
        status, snap, _ = call(hub, "GET", "/v1/console/snapshot")
        assert snap["broker"]["reachable"] and "contact-sync" in snap["broker"]["stats"]["groups"]
        assert snap["gateway"]["metrics"]["requests"]["hubspot"]["200"] == 2
        [probe] = snap["processes"]
        assert probe["name"] == "dead-letter" and probe["healthy"] and probe["ready"]

        status, preview, _ = call(hub, "GET", "/v1/console/letters/1/preview")
        assert status == 200 and preview["replay_id"].startswith("replay:1:hubspot:")
        assert preview["message"]["data"]["zhub_replay"]["dead_letter"].startswith("dlq:contact-sync:")
        assert preview["preview"]["group"] == "contact-sync"
        assert consumer.recv(0.5) is None  # a preview publishes nothing
        assert call(hub, "GET", "/v1/console/letters/9/preview")[0] == 404
        assert call(hub, "GET", "/v1/console/letters/1/replay")[0] == 405
        assert call(hub, "POST", "/v1/console/letters/x/replay")[0] == 404

        status, answer, _ = call(hub, "POST", "/v1/console/letters/1/replay")
        assert status == 202 and answer["command"].startswith("dlcmd:replay:")
        replay = consumer.recv(10)
        assert replay is not None and replay["message"]["id"] == preview["replay_id"]
        consumer.ack(replay["tag"])
        status, answer, _ = call(hub, "POST", "/v1/console/letters/2/purge")
        assert status == 202
        wait_until(lambda: open_letters(hub) == [], 20, 0.2, "no open letters")
        status, kept, _ = call(hub, "GET", "/v1/console/letters/1")
        assert status == 200 and kept["replays"] == 1 and kept["last_result"] == "replayed"
        assert call(hub, "GET", "/v1/console/letters/2")[0] == 404
    finally:
        consumer.close()


def test_console_page_in_headless_chromium(hub):
    assert os.path.exists(CHROMIUM), "install Debian's chromium (./dev does)"
    assert os.path.exists(os.path.join(HERE, "node_modules", "playwright-core")), \
        "run npm ci in tests/console (./dev does)"
    os.makedirs(SHOTS, exist_ok=True)
    start(hub)
    consumer = Bus(hub.env["ZHUB_BROKER"], "console-test")
    env = dict(os.environ, CONSOLE_URL=hub.admin_url, ADMIN_TOKEN=TOKEN, CHROMIUM=CHROMIUM,
               SHOTS_DIR=SHOTS)
    driver = subprocess.Popen([NODE, os.path.join(HERE, "console.test.js")], cwd=HERE, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    transcript = []
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in driver.stdout] + [lines.put(None)],
                     daemon=True).start()

    def until_step():
        """The driver's next step; the consumer pings the broker while it
        waits, so that it stays a member (the broker forgets members silent
        for ten heartbeats, and a browser step can take that long)."""
        while True:
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                consumer.ping()
                continue
            if line is None:
                return "EOF"
            transcript.append(line.rstrip())
            if line.startswith("STEP "):
                return line.split()[1]
            if line.startswith(("DONE", "FAILED")):
                return line.strip()

    def go(name):
        driver.stdin.write("GO %s\n" % name)
        driver.stdin.flush()

    try:
        assert until_step() == "webhook", transcript
        hubspot_webhook(hub, 2001)
        go("webhook")
        assert until_step() == "dead-letter", transcript
        # joined now, from the start of the log: nothing is delivered to it
        # (and left unanswered) while the browser works
        consumer.join("contact-sync", ["webhook.hubspot.>"], credit=1, start="earliest")
        reject_next(consumer)
        go("dead-letter")
        assert until_step() == "previewed", transcript
        assert consumer.recv(0.5) is None  # the preview published nothing
        go("previewed")
        assert until_step() == "replayed", transcript
        replay = consumer.recv(10)
        assert replay is not None and replay["message"]["id"].startswith("replay:1:hubspot:"), replay
        consumer.ack(replay["tag"])
        go("replayed")
        assert until_step() == "DONE", "\n".join(transcript)
        assert driver.wait(60) == 0, "\n".join(transcript)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        consumer.close()
        print("\n".join(transcript))
    for name in ("01-refused-without-token", "03-webhook-counted", "04-dead-letter",
                 "05-replay-preview", "06-replayed-gone"):
        assert os.path.getsize(os.path.join(SHOTS, name + ".png")) > 0
