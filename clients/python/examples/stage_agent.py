#!/usr/bin/env python3
"""stage-agent: the skeleton of an AI agent on the zhub bus. It reads every
conversation message (conversation.message, docs/events.md) in a consumer
group of its own, decides whether the message moves the lead to another
stage, and when it does publishes conversation.stage_changed, which
deal-sync turns into the HubSpot deal's stage.

The decision is deliberately trivial, so that the plumbing around it is
what you read; replace decide() with your model:

- a message from the contact (direction "in") that says no ("no me
  interesa", "ya no", "not interested") -> "unqualified";
- one that asks to see a property ("visita", "visitar", "recorrido",
  "tour", "visit", "conocer el depto") -> "qualified": asking to visit is
  what makes a lead qualified here. Not "tour_scheduled": the tour is
  booked by the scheduler (tour.requested -> tour.scheduled) and deal-sync
  moves the deal to tour_scheduled when it is, not when someone asks;
- anything else, and every message to the contact (direction "out"), moves
  nothing.

What makes it correct, whatever the decision:

- the stage change's id is derived from the message's id, so a message
  delivered again (a crash before the ACK, a broker restart, a replay)
  publishes the same id and the broker stores it once;
- the ACK comes after the publish was confirmed; a publish that was not is
  nacked with a delay, so the message comes back and is tried again;
- a message that breaks the catalogue can never succeed: it is nacked
  terminally (422, with the reason), and lands in dlq.stage-agent for
  `zhub dlq list`;
- the trace context of the message is carried on to the stage change.

Run (the broker from `./dev up`, or $ZHUB_BROKER):

    python3 clients/python/examples/stage_agent.py

Settings: ZHUB_BROKER; STAGE_AGENT_GROUP (default stage-agent); STAGE_AGENT_CREDIT
(default 8, messages in flight to this replica). Run more replicas with the
same group to share the work. Logs one key=value line per event on stderr,
`event=ready` once joined; SIGTERM or Ctrl-C finishes the message in hand,
leaves the group and exits 0.
"""
import json
import os
import re
import signal
import sys
import unicodedata

try:
    import zhub
except ImportError:     # run from the checkout: clients/python is the package's home
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import zhub

from zhub import CatalogueError, NotConfirmed, ZhubError, events
from zhub.ids import derive_id

NAME = "stage-agent"
SOURCE = "zhub-example/stage-agent"
RETRY_MS = 5000          # a stage change the broker did not confirm: try the message again

NOT_INTERESTED = re.compile(r"\b(no me interesa|ya no|no gracias|not interested)\b")
WANTS_TO_VISIT = re.compile(r"\b(visit\w*|recorrido|tour|conocer el (depto|departamento|lugar))\b")


def _plain(text):
    """Lower case without accents: "¿Puedo VISITÁRLO?" -> "¿puedo visitarlo?"."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in folded if not unicodedata.combining(c))


def decide(message):
    """The stage a conversation message moves its lead to, or None. Pure:
    takes the typed event, returns the decision."""
    if message.direction != "in":
        return None
    text = _plain(message.text)
    if NOT_INTERESTED.search(text):
        return "unqualified"
    if WANTS_TO_VISIT.search(text):
        return "qualified"
    return None


def log(event, **fields):
    """One key=value line; values with spaces, quotes or = are quoted."""
    def quote(value):
        text = str(value)
        return json.dumps(text, ensure_ascii=False) if not text or re.search(r'[\s"=]', text) \
            else text
    parts = ["event=%s" % event] + ["%s=%s" % (k, quote(v)) for k, v in fields.items()]
    sys.stderr.write(" ".join(parts) + "\n")
    sys.stderr.flush()


def handle(bus, delivery):
    """One delivery: decide, publish, then ack, or nack as it failed."""
    try:
        message = events.ConversationMessage.from_envelope(delivery.envelope)
    except CatalogueError as e:
        delivery.nack(terminal=True, code=422, reason=str(e))
        log("dead_lettered", id=delivery.envelope.id, reason=str(e))
        return
    stage = decide(message)
    if stage is None:
        delivery.ack()
        log("no_change", id=delivery.envelope.id)
        return
    change = events.ConversationStageChanged(
        bird_contact_id=message.bird_contact_id, conversation_id=message.conversation_id,
        stage=stage, agent_type="qualifier")
    envelope = change.envelope(id=derive_id(NAME + ":", delivery.envelope.id), source=SOURCE,
                               traceparent=delivery.envelope.traceparent)
    try:
        ack = bus.publish(envelope)
    except NotConfirmed as e:
        delivery.nack(delay_ms=RETRY_MS, code=503, reason=str(e))
        log("retry_later", id=delivery.envelope.id, reason=str(e))
        return
    delivery.ack()
    log("stage_changed", id=delivery.envelope.id, published=envelope.id, stage=stage,
        contact=message.bird_contact_id, duplicate=ack.duplicate)


def main():
    group = os.environ.get("STAGE_AGENT_GROUP", NAME)
    try:
        credit = int(os.environ.get("STAGE_AGENT_CREDIT", "8"))
    except ValueError:
        credit = 0
    if not 1 <= credit <= 1000000:
        sys.stderr.write("stage-agent: STAGE_AGENT_CREDIT must be 1..1000000\n")
        return 2
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    with zhub.Client(name=group) as bus:
        try:
            bus.join(group, ["conversation.message"], credit=credit, timeout=60)
        except ZhubError as e:
            log("join_failed", group=group, broker=bus.endpoint, reason=str(e))
            return 1
        log("ready", group=group, broker=bus.endpoint, credit=credit)
        while not stopping:
            delivery = bus.receive(timeout=0.5)
            if delivery is not None:
                handle(bus, delivery)
    log("stopped", group=group)
    return 0


if __name__ == "__main__":
    sys.exit(main())
