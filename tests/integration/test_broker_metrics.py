"""The broker's admin listener (ZHUB_BROKER_ADMIN_LISTEN): /healthz,
/readyz and /metrics, whose figures follow the traffic: per-group lag and
dead letters, retained topics, commits. promtool reads the exposition as
Prometheus would."""
import subprocess

import pytest

from harness import free_port, wait_until
from test_actor_admin import get, series
from zhub_bus import Bus, envelope


@pytest.fixture
def admin(hub):
    port = free_port()
    hub.start("broker", extra_env={"ZHUB_BROKER_ADMIN_LISTEN": "127.0.0.1:%d" % port,
                                   "ZHUB_BROKER_MAX_DELIVERIES": "1"})
    return "http://127.0.0.1:%d" % port


def test_lag_dead_letters_and_commits_show_in_the_metrics(hub, admin):
    assert get(admin + "/healthz")[0] == 200
    assert get(admin + "/readyz")[0] == 200
    producer, consumer = Bus(hub.env["ZHUB_BROKER"], "p"), Bus(hub.env["ZHUB_BROKER"], "c")
    consumer.join("metrics-group", ["m.>"], credit=1)
    producer.publish_many([envelope("m-%d" % i, "m.item") for i in range(5)])
    d = consumer.recv(5)
    consumer.nack(d["tag"], terminal=True, code=422, reason="bad")   # one dead letter

    def figures():
        text = get(admin + "/metrics")[1]
        done = series(text, "zhub_broker_dead_letters_total", group="metrics-group") == 1 \
            and series(text, "zhub_broker_group_lag", group="metrics-group") == 4
        return text if done else None
    text = wait_until(figures, timeout=10, what="the figures to follow")
    assert series(text, "zhub_broker_topic_messages", topic="m.item") == 5
    assert series(text, "zhub_broker_published_total") == 5          # confirmed publishes
    assert series(text, "zhub_broker_commit_seconds_count") >= 1
    assert series(text, "zhub_broker_clients") >= 2
    assert series(text, "zhub_broker_group_oldest_unacked_age_seconds", group="metrics-group") >= 0
    assert 0 < series(text, "zhub_store_used_bytes") < series(text, "zhub_store_limit_bytes")
    out = subprocess.run(["/usr/bin/promtool", "check", "metrics"], input=text,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    producer.close()
    consumer.close()
