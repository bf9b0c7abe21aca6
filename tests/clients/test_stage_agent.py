"""The example service (clients/python/examples/stage_agent.py) run as a
process against a real broker: what it publishes for the conversation
messages it reads, once per message whatever the redeliveries, what it
dead-letters, and how it stops."""
import os

import pytest

from conftest import CLIENT_DIR, catalogue_check
from harness import PYTHON, wait_until
from zhub_bus import Bus

from zhub import Envelope, events
from zhub.ids import derive_id

AGENT = os.path.join(CLIENT_DIR, "examples", "stage_agent.py")
BIRD = "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def agent(hub, broker):
    return hub._start("stage-agent", [PYTHON, AGENT], ready_text="event=ready",
                      extra_env={"PYTHONPATH": CLIENT_DIR})


def said(id, text, direction="in", bird=BIRD):
    message = events.ConversationMessage(conversation_id="c-7f3a", bird_contact_id=bird,
                                         direction=direction, text=text,
                                         sent_at="2030-01-01T10:00:00Z")
    return message.envelope(id=id, source="bird", traceparent=TRACE)


def agent_group(c):
    return c.stats()["groups"].get("stage-agent", {})


def test_an_inbound_request_to_visit_moves_the_lead_to_qualified(client, agent, tmp_path):
    producer, observer = client("bird-flow"), client("deal-sync")
    observer.join("deal-sync", ["conversation.stage_changed"], credit=4)
    producer.publish(said("bird:msg-1", "Hola, ¿puedo VISITAR el depto mañana?"))
    d = observer.receive(15)
    assert d is not None, agent.log_tail()
    change = d.envelope
    assert (change.type, change.id, change.source, change.subject, change.traceparent) == (
        "conversation.stage_changed", derive_id("stage-agent:", "bird:msg-1"),
        "zhub-example/stage-agent", "contact:" + BIRD, TRACE)
    assert change.data == {"bird_contact_id": BIRD, "conversation_id": "c-7f3a",
                           "stage": "qualified", "agent_type": "qualifier"}
    assert catalogue_check(tmp_path, [change.encode()])[0]["ok"]    # what deal-sync accepts
    d.ack()
    assert "event=stage_changed" in agent.log_text()


def test_a_contact_who_is_not_interested_becomes_unqualified(client, agent):
    producer, observer = client("bird-flow"), client("deal-sync")
    observer.join("deal-sync", ["conversation.stage_changed"], credit=4)
    producer.publish(said("bird:msg-2", "No me interesa, gracias", bird="b-ana"))
    d = observer.receive(15)
    assert d is not None, agent.log_tail()
    assert d.event().stage == "unqualified" and d.envelope.subject == "contact:b-ana"


def test_messages_to_the_contact_and_small_talk_change_nothing(client, agent):
    producer = client("bird-flow")
    producer.publish(said("bird:out-1", "¿Quieres agendar una visita?", direction="out"))
    producer.publish(said("bird:in-1", "Hola, buenas tardes"))
    wait_until(lambda: agent_group(producer).get("acked") == 2, timeout=15,
               what="the agent to ack both messages")
    assert "conversation.stage_changed" not in producer.stats()["topics"]


def test_a_message_delivered_again_publishes_its_stage_change_once(hub, client, agent):
    producer = client("bird-flow")
    producer.publish(said("bird:msg-3", "Me gustaría un recorrido"))
    wait_until(lambda: producer.stats()["topics"].get("conversation.stage_changed") == 1,
               timeout=15, what="the stage change")
    wait_until(lambda: agent_group(producer).get("acked") == 1, timeout=15, what="the ACK")
    operator = Bus(hub.env["ZHUB_BROKER"], "operator")      # replay the group from the start
    try:
        assert operator.group_reset("stage-agent", offset=1)["cmd"] == "GROUP_OK"
    finally:
        operator.close()
    wait_until(lambda: agent_group(producer).get("acked") == 2, timeout=15,
               what="the agent to process the message again")
    stats = producer.stats()
    assert stats["topics"]["conversation.stage_changed"] == 1   # the same id: stored once
    assert stats["broker"]["duplicates"] == 1
    assert "duplicate=True" in agent.log_text()


def test_a_message_that_breaks_the_catalogue_is_dead_lettered_with_the_reason(client, agent):
    producer, keeper = client("bird-flow"), client("dead-letter")
    keeper.join("dead-letter", ["dlq.>"], credit=1)
    producer.publish(Envelope(type="conversation.message", id="bird:bad-1", source="bird",
                              subject="contact:" + BIRD,
                              data={"conversation_id": "c", "bird_contact_id": BIRD,
                                    "direction": "in", "text": "visita"}))
    letter = keeper.receive(15)
    assert letter is not None, agent.log_tail()
    assert letter.envelope.type == "dlq.stage-agent"
    data = letter.envelope.data
    assert (data["cause"], data["reason_code"]) == ("terminal", 422)
    assert data["attempts"][-1]["reason"] == "conversation.message: data.sent_at is missing"
    assert data["message"]["id"] == "bird:bad-1"


def test_sigterm_stops_it_cleanly_and_it_leaves_its_group(client, agent):
    observer = client("observer")
    names = [m["name"] for m in agent_group(observer)["members"]]
    assert len(names) == 1 and names[0].startswith("stage-agent-")
    assert agent.stop() == 0
    assert agent_group(observer)["members"] == []
    assert "event=stopped" in agent.log_text()
