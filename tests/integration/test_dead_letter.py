"""zhub-dead-letter and `zhub dlq` end to end: a real broker dead-letters
messages that a Python consumer NACKs, the actor keeps them, and the CLI
lists, shows, replays, edits and purges them (reads from the actor's store,
changes through commands on the bus, docs/adr/0004)."""
import http.server
import json
import os
import subprocess
import threading
import time
import urllib.request

import pytest

from harness import BINARIES, wait_until
from zhub_bus import Bus, envelope

FAST = {
    "ZHUB_BROKER_ACK_DEADLINE": "2s",
    "ZHUB_BROKER_BACKOFF": "100ms",
    "ZHUB_BROKER_MAX_DELIVERIES": "5",
}


@pytest.fixture
def bus(hub):
    hub.start("broker", extra_env=FAST)
    clients = []

    def make(name="pytest"):
        client = Bus(hub.env["ZHUB_BROKER"], name)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def zhub(hub, *args, timeout=30):
    return subprocess.run([BINARIES["zhub"]] + list(args), env=hub.env, capture_output=True,
                          text=True, timeout=timeout)


def zhub_json(hub, *args):
    result = zhub(hub, *args, "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def dead_letter(producer, consumer, group, msg, code=422, reason="invalid input"):
    """Publishes msg and NACKs it terminally in group: one dead letter."""
    producer.publish(msg)
    delivery = consumer.recv(5)
    assert delivery is not None and delivery["message"]["id"] == msg["id"]
    consumer.nack(delivery["tag"], terminal=True, code=code, reason=reason)


def wait_listed(hub, count, *filters):
    return wait_until(lambda: (lambda rows: rows if len(rows) == count else None)(
        zhub_json(hub, "dlq", "list", *filters)), 10, 0.1, "%d dead letters listed" % count)


def test_dead_letter_is_kept_with_its_failure_history(hub, bus):
    hub.start("dead-letter")
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("contact-sync", ["webhook.bird.>"], credit=1, max_deliveries=3)
    original = envelope("bird:evt-1", "webhook.bird.contact.updated", subject="contact:b1",
                        data={"phone": "+15550001", "big": 18446744073709551615})
    producer.publish(original)
    for attempt in (1, 2, 3):
        delivery = consumer.recv(5)
        assert delivery is not None and delivery["attempt"] == attempt
        consumer.nack(delivery["tag"], code=500 + attempt, reason="HubSpot said %d" % (500 + attempt))

    [row] = wait_listed(hub, 1)
    assert row["id"] == 1 and row["group"] == "contact-sync"
    assert row["topic"] == "webhook.bird.contact.updated"
    assert row["reason_code"] == 503 and row["cause"] == "max_deliveries"
    shown = zhub_json(hub, "dlq", "show", "1")
    assert [a["code"] for a in shown["attempts"]] == [501, 502, 503]
    assert shown["attempts"][2]["reason"] == "HubSpot said 503"
    assert shown["original_id"] == "bird:evt-1"
    assert shown["message"]["data"]["phone"] == "+15550001"
    # the same letter by its dlq id, and the table form
    assert zhub_json(hub, "dlq", "show", "dlq:contact-sync:bird:evt-1")["id"] == 1
    table = zhub(hub, "dlq", "list")
    assert table.returncode == 0 and "contact-sync" in table.stdout and "HubSpot said 503" in table.stdout
    # unknown letter: exit code 4
    assert zhub(hub, "dlq", "show", "99").returncode == 4


def test_list_filters_by_group_reason_and_time(hub, bus):
    hub.start("dead-letter")
    producer, consumer, other = bus("producer"), bus("consumer"), bus("other")
    consumer.join("contact-sync", ["webhook.bird.>"], credit=1)
    other.join("deal-sync", ["qualification.completed"], credit=1)
    dead_letter(producer, consumer, "contact-sync",
                envelope("b-1", "webhook.bird.contact.updated", subject="contact:1"),
                422, "invalid phone")
    dead_letter(producer, other, "deal-sync",
                envelope("q-1", "qualification.completed", subject="contact:1"), 400, "bad score")
    wait_listed(hub, 2)
    time.sleep(0.05)
    now = time.time()
    middle = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int(now % 1 * 1000)
    time.sleep(0.05)
    dead_letter(producer, consumer, "contact-sync",
                envelope("b-2", "webhook.bird.contact.updated", subject="contact:2"),
                429, "rate limited")
    wait_listed(hub, 3)
    assert [r["original_id"] for r in zhub_json(hub, "dlq", "list", "--group", "contact-sync")] \
        == ["b-1", "b-2"]
    assert [r["original_id"] for r in zhub_json(hub, "dlq", "list", "--reason", "PHONE")] == ["b-1"]
    assert [r["original_id"] for r in zhub_json(hub, "dlq", "list", "--reason", "400")] == ["q-1"]
    assert [r["original_id"] for r in zhub_json(hub, "dlq", "list", "--since", middle)] == ["b-2"]
    assert [r["original_id"] for r in zhub_json(hub, "dlq", "list", "--group", "contact-sync",
                                                "--since", "1h")] == ["b-1", "b-2"]
    assert zhub(hub, "dlq", "list", "--since", "yesterday-ish").returncode == 2


def test_replay_twice_applies_once_and_again_replays_anew(hub, bus):
    hub.start("dead-letter")
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("contact-sync", ["webhook.bird.>"], credit=1)
    dead_letter(producer, consumer, "contact-sync",
                envelope("bird:evt-9", "webhook.bird.contact.updated", subject="contact:9",
                         data={"phone": "+15550009"}))
    wait_listed(hub, 1)

    dry = zhub(hub, "dlq", "replay", "1", "--dry-run")
    assert dry.returncode == 0 and "replay:1:bird:evt-9" in dry.stdout
    assert consumer.recv(0.5) is None  # a dry run publishes nothing

    first = zhub(hub, "dlq", "replay", "1")
    assert first.returncode == 0, first.stderr
    assert "replayed as replay:1:bird:evt-9" in first.stdout
    replay = consumer.recv(5)
    assert replay is not None
    msg = replay["message"]
    assert msg["id"] == "replay:1:bird:evt-9" and msg["type"] == "webhook.bird.contact.updated"
    assert msg["subject"] == "contact:9" and msg["data"]["phone"] == "+15550009"
    assert msg["data"]["zhub_replay"] == {"of": "bird:evt-9", "n": 1,
                                          "dead_letter": "dlq:contact-sync:bird:evt-9",
                                          "group": "contact-sync"}
    consumer.ack(replay["tag"])

    # the same replay again keeps the id: the broker's dedup drops it
    second = zhub(hub, "dlq", "replay", "1")
    assert second.returncode == 0, second.stderr
    assert consumer.recv(1.0) is None
    assert producer.stats()["topics"]["webhook.bird.contact.updated"] == 2

    # an explicit re-replay is a new message
    third = zhub_json(hub, "dlq", "replay", "1", "--again")
    assert third[0]["replay_id"] == "replay:2:bird:evt-9"
    again = consumer.recv(5)
    assert again is not None and again["message"]["id"] == "replay:2:bird:evt-9"
    consumer.ack(again["tag"])
    assert zhub_json(hub, "dlq", "show", "1")["replays"] == 2


def test_edit_dry_run_shows_the_change_then_the_replay_carries_it(hub, bus, tmp_path):
    hub.start("dead-letter")
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("contact-sync", ["webhook.bird.>"], credit=1)
    dead_letter(producer, consumer, "contact-sync",
                envelope("bird:evt-5", "webhook.bird.contact.updated", subject="contact:5",
                         data={"phone": "5550005", "name": "Ana"}), 2002, "invalid phone")
    wait_listed(hub, 1)

    dry = zhub(hub, "dlq", "edit", "1", "--set", "data.phone=+525550005", "--set",
               "data.address.city=CDMX", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert '- data.phone: "5550005"' in dry.stdout
    assert '+ data.phone: "+525550005"' in dry.stdout
    assert '+ data.address: {"city":"CDMX"}' in dry.stdout
    assert zhub_json(hub, "dlq", "show", "1")["message"]["data"]["phone"] == "5550005"

    edit = zhub(hub, "dlq", "edit", "1", "--set", "data.phone=+525550005")
    assert edit.returncode == 0, edit.stderr + edit.stdout
    shown = zhub_json(hub, "dlq", "show", "1")
    assert shown["revision"] == 1 and shown["message"]["data"]["phone"] == "+525550005"
    assert shown["original_message"]["data"]["phone"] == "5550005"

    # a whole new data object from a file
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"phone": "+525550006", "name": "Ana"}))
    assert zhub(hub, "dlq", "edit", "1", "--file", str(path)).returncode == 0
    assert zhub(hub, "dlq", "edit", "1", "--set", "type=x").returncode == 2

    assert zhub(hub, "dlq", "replay", "1").returncode == 0
    replay = consumer.recv(5)
    assert replay is not None and replay["message"]["data"]["phone"] == "+525550006"
    consumer.ack(replay["tag"])


def test_replay_a_group_then_purge_it(hub, bus):
    hub.start("dead-letter")
    producer, consumer, other = bus("producer"), bus("consumer"), bus("other")
    consumer.join("contact-sync", ["webhook.bird.>"], credit=1)
    other.join("deal-sync", ["qualification.completed"], credit=1)
    for i in range(5):
        dead_letter(producer, consumer, "contact-sync",
                    envelope("b-%d" % i, "webhook.bird.contact.updated", subject="contact:%d" % i))
    dead_letter(producer, other, "deal-sync", envelope("q-1", "qualification.completed"))
    wait_listed(hub, 6)

    rows = zhub_json(hub, "dlq", "replay", "--group", "contact-sync")
    assert len(rows) == 5 and all(r["result"] == "replayed" for r in rows)
    ids = set()
    for _ in range(5):
        delivery = consumer.recv(5)
        assert delivery is not None
        ids.add(delivery["message"]["id"])
        consumer.ack(delivery["tag"])
    assert ids == {"replay:1:b-%d" % i for i in range(5)}
    assert other.recv(0.3) is None

    assert zhub_json(hub, "dlq", "purge", "--group", "contact-sync", "--dry-run")["would_purge"] \
        == [1, 2, 3, 4, 5]
    assert len(zhub_json(hub, "dlq", "list")) == 6
    assert zhub(hub, "dlq", "purge").returncode == 2
    purge = zhub(hub, "dlq", "purge", "--group", "contact-sync")
    assert purge.returncode == 0, purge.stderr
    assert [r["group"] for r in zhub_json(hub, "dlq", "list")] == ["deal-sync"]
    assert zhub(hub, "dlq", "purge", "6").returncode == 0
    assert zhub_json(hub, "dlq", "list") == []
    assert zhub(hub, "dlq", "purge", "6").returncode == 4


class _Receiver(http.server.BaseHTTPRequestHandler):
    posts = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.posts.append((time.monotonic(), json.loads(body)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def test_alert_one_message_per_burst_rate_limited_and_metrics(hub, bus):
    posts = []
    handler = type("Receiver", (_Receiver,), {"posts": posts})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from harness import free_port
    metrics_port = free_port()
    try:
        hub.start("dead-letter", extra_env={
            "ZHUB_ALERT_WEBHOOK_URL": "http://127.0.0.1:%d/hooks/T0/B0/secret" % server.server_address[1],
            "ZHUB_ALERT_BURST": "500ms",
            "ZHUB_ALERT_INTERVAL": "3s",
            "ZHUB_ACTOR_ADMIN_LISTEN": "127.0.0.1:%d" % metrics_port,
        })
        producer, consumer = bus("producer"), bus("consumer")
        consumer.join("contact-sync", ["webhook.bird.>"], credit=1)
        for i in range(4):
            dead_letter(producer, consumer, "contact-sync",
                        envelope("a-%d" % i, "webhook.bird.contact.updated"))
        wait_until(lambda: posts, 5, 0.05, "the first alert")
        time.sleep(0.8)
        assert len(posts) == 1, posts
        assert posts[0][1]["text"].startswith("zhub: 4 new dead letters (contact-sync 4)")

        # within the interval: counted, sent once the interval is over
        dead_letter(producer, consumer, "contact-sync",
                    envelope("a-9", "webhook.bird.contact.updated"))
        wait_until(lambda: len(posts) == 2, 6, 0.05, "the second alert")
        assert posts[1][0] - posts[0][0] >= 2.9
        assert posts[1][1]["text"].startswith("zhub: 1 new dead letter (contact-sync 1)")

        def metrics_text():
            return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port,
                                          timeout=5).read().decode()
        # the receiver has the post before the sender has counted its answer
        wait_until(lambda: "zhub_dead_letter_alerts_sent_total 2" in metrics_text(), 5, 0.05,
                   "the second alert to be counted")
        metrics = metrics_text()
        assert 'zhub_dead_letters_total{group="contact-sync"} 5' in metrics
        assert "zhub_dead_letters_stored 5" in metrics
        assert "zhub_dead_letter_alerts_sent_total 2" in metrics
        assert "secret" not in hub.procs[-1].log_text()
    finally:
        server.shutdown()


def admin_metrics(port):
    return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()


def test_the_figures_are_on_the_runtime_admin_listener(hub, bus):
    # one listener, the runtime's: the dead-letter figures beside every
    # actor's, followed as letters come and go
    from harness import free_port
    from test_actor_admin import get, promtool_accepts, series
    port = free_port()
    hub.start("dead-letter", extra_env={"ZHUB_ACTOR_ADMIN_LISTEN": "127.0.0.1:%d" % port})
    text = admin_metrics(port)
    assert "zhub_dead_letters_stored 0" in text.splitlines()
    assert "# TYPE zhub_actor_messages_total counter" in text
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("contact-sync", ["webhook.bird.>"], credit=1)
    for i in range(2):
        dead_letter(producer, consumer, "contact-sync",
                    envelope("m-%d" % i, "webhook.bird.contact.updated"))
    text = wait_until(lambda: (lambda t: t if series(t, "zhub_dead_letters_stored") == 2 else None)(
        admin_metrics(port)), 10, 0.05, "the gauge at 2")
    assert series(text, "zhub_dead_letters_total", group="contact-sync") == 2
    assert series(text, "zhub_actor_messages_total", route="dlq.>", outcome="ok") == 2
    assert series(text, "zhub_actor_ready") == 1
    ok, why = promtool_accepts(text)
    assert ok, why
    assert zhub(hub, "dlq", "purge", "1").returncode == 0
    text = wait_until(lambda: (lambda t: t if series(t, "zhub_dead_letters_stored") == 1 else None)(
        admin_metrics(port)), 10, 0.05, "the gauge back at 1")
    assert series(text, "zhub_dead_letter_purged_total") == 1
    assert series(text, "zhub_dead_letters_total", group="contact-sync") == 2
    assert get("http://127.0.0.1:%d/readyz" % port)[0] == 200
    assert get("http://127.0.0.1:%d/healthz" % port)[0] == 200


def test_the_old_metrics_variable_is_an_alias_of_the_admin_listener(hub, bus):
    from harness import free_port
    port = free_port()
    proc = hub.start("dead-letter",
                     extra_env={"ZHUB_DEAD_LETTER_METRICS_LISTEN": "127.0.0.1:%d" % port})
    assert "event=config_deprecated variable=ZHUB_DEAD_LETTER_METRICS_LISTEN" in proc.log_text()
    text = admin_metrics(port)
    assert "zhub_dead_letters_stored 0" in text.splitlines()
    assert "zhub_actor_ready 1" in text.splitlines()
    proc.stop()
    # both set to different places: refused at start, said once
    other = free_port()
    result = subprocess.run([BINARIES["dead-letter"]], env=dict(
        hub.env, ZHUB_DEAD_LETTER_METRICS_LISTEN="127.0.0.1:%d" % port,
        ZHUB_ACTOR_ADMIN_LISTEN="127.0.0.1:%d" % other), capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "set only ZHUB_ACTOR_ADMIN_LISTEN" in result.stdout + result.stderr


def test_cli_exit_codes_and_help(hub):
    assert zhub(hub, "dlq", "--help").returncode == 0
    for sub in ("list", "show", "replay", "edit", "purge"):
        result = zhub(hub, "dlq", sub, "--help")
        assert result.returncode == 0 and "usage: zhub dlq" in result.stdout
    assert zhub(hub, "dlq").returncode == 2
    assert zhub(hub, "dlq", "frobnicate").returncode == 2
    assert zhub(hub, "dlq", "list", "--bogus").returncode == 2
    assert zhub(hub, "dlq", "show").returncode == 2
    assert "4 not found" in zhub(hub, "--help").stdout
    # no store yet: an empty list, and show says not found
    assert zhub_json(hub, "dlq", "list") == []
    assert zhub(hub, "dlq", "show", "1").returncode == 4


def test_replay_without_broker_exits_3(hub, bus):
    hub.start("dead-letter")
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("contact-sync", ["webhook.bird.>"], credit=1)
    dead_letter(producer, consumer, "contact-sync", envelope("x-1", "webhook.bird.contact.updated"))
    wait_listed(hub, 1)
    hub.procs[0].stop()  # the broker
    result = zhub(hub, "dlq", "replay", "1")
    assert result.returncode == 3, result.stderr
    # reads still work without the broker
    assert len(zhub_json(hub, "dlq", "list")) == 1
