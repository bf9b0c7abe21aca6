"""docs/connecting-bird.md's ready requests for a Bird flow's HTTP step,
sent as written (their flow variables filled in) to a real zhub-gateway:
each is accepted, a retry of it is stored once, and what reaches the bus
is the catalogue event it names, as deal-sync reads it."""
import http.client
import json
import os
import re

from conftest import SOURCE_ROOT, catalogue_check

import zhub
from zhub import events

DOC = os.path.join(SOURCE_ROOT, "docs", "connecting-bird.md")
TOKEN = "events-token-for-the-doc"
BIRD = "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"
FLOW_VALUES = {"bird_contact_id": BIRD, "conversation_id": "c-7f3a", "stage": "qualified",
               "score": "82", "qualified": "true", "property_interest": "Torre Reforma 2BR"}


def doc_requests():
    """{type: the ```http block under its "### `type`" heading}."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    return dict(re.findall(r"\n### `([a-z_.]+)`\n.*?```http\n(.*?)```", text, re.S))


def placeholders_explained():
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    return set(re.findall(r"^\| `\{\{(\w+)\}\}` \|", text, re.M))


def fill(block):
    used = set(re.findall(r"\{\{(\w+)\}\}", block))
    assert used <= placeholders_explained(), "placeholders the doc does not explain: %s" % (
        used - placeholders_explained())
    for name, value in FLOW_VALUES.items():
        block = block.replace("{{%s}}" % name, value)
    return block.replace("$ZHUB_EVENTS_TOKEN", TOKEN)


def send(port, block):
    head, body = block.split("\n\n", 1)
    lines = head.splitlines()
    method, path, _ = lines[0].split(" ")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body.encode("utf-8"), headers)
        reply = conn.getresponse()
        return reply.status, json.loads(reply.read() or b"null")
    finally:
        conn.close()


def test_the_docs_requests_for_bird_flows_reach_the_bus_as_catalogue_events(hub, tmp_path):
    hub.start("broker")
    hub.start("gateway", extra_env={"ZHUB_EVENTS_TOKEN": TOKEN})
    requests = doc_requests()
    assert sorted(requests) == ["conversation.stage_changed", "qualification.completed"]
    with zhub.Client(hub.env["ZHUB_BROKER"], "deal-sync") as bus:
        bus.join("deal-sync", ["conversation.stage_changed", "qualification.completed"],
                 credit=4)
        for type, block in sorted(requests.items()):
            request = fill(block)
            assert send(hub.gateway_port, request) == (200, {"accepted": 1})
            assert send(hub.gateway_port, request) == (200, {"accepted": 1})   # a retry
        got = {}
        while len(got) < 2:
            d = bus.receive(15)
            assert d is not None, "got %r" % sorted(got)
            got[d.envelope.type] = d.envelope
            d.ack()
        stats = bus.stats()
    for type in requests:                           # each stored once, the retry collapsed
        assert stats["topics"][type] == 1
    verdicts = catalogue_check(tmp_path, [got[t].encode() for t in sorted(got)])
    assert [v["reason"] for v in verdicts] == ["", ""] and all(v["ok"] for v in verdicts)

    stage = events.parse(got["conversation.stage_changed"])
    assert (stage.bird_contact_id, stage.conversation_id, stage.stage, stage.agent_type,
            stage.qualification_score) == (BIRD, "c-7f3a", "qualified", "qualifier", 82)
    assert got["conversation.stage_changed"].id == "bird-flow:stage:c-7f3a:qualified"
    assert got["conversation.stage_changed"].subject == "contact:" + BIRD
    qualification = events.parse(got["qualification.completed"])
    assert (qualification.score, qualification.qualified, qualification.property_interest) == \
        (82, True, "Torre Reforma 2BR")


def test_a_request_without_the_token_is_refused_and_publishes_nothing(hub):
    hub.start("broker")
    hub.start("gateway", extra_env={"ZHUB_EVENTS_TOKEN": TOKEN})
    block = fill(doc_requests()["conversation.stage_changed"])
    status, body = send(hub.gateway_port, block.replace("Bearer " + TOKEN, "Bearer not-it"))
    assert status == 401 and body["error"]
    with zhub.Client(hub.env["ZHUB_BROKER"], "observer") as bus:
        assert "conversation.stage_changed" not in bus.stats()["topics"]
