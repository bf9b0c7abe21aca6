"""The Python client's event catalogue held to the C one
(proto/zhub_catalogue.c, the one source of truth): the generated modules
are what the generator writes from the C table today, the Python check
says what zhub_event_check_msg says (same verdict, same reason), and the
typed events build envelopes that the C check accepts and the broker
stores and delivers unchanged."""
import datetime
import os
import subprocess
import sys

import pytest

from conftest import CATALOGUE_TOOL, CLIENT_DIR, catalogue_check

import zhub
from zhub import CatalogueError, Envelope, InvalidMessage, catalogue, events

GENERATOR = os.path.join(CLIENT_DIR, "tools", "gen_catalogue.py")
BIRD = "d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"


def generator(tool, *args):
    return subprocess.run([sys.executable, GENERATOR, tool] + list(args), capture_output=True,
                          text=True)


def test_the_generated_modules_are_what_the_c_catalogue_gives_today():
    run = generator(CATALOGUE_TOOL, "--check")
    assert run.returncode == 0, (
        "clients/python/zhub/_catalogue_table.py or events.py differ from the catalogue in "
        "proto/zhub_catalogue.c; run: python3 clients/python/tools/gen_catalogue.py "
        "build/tests/clients/zhub_catalogue_tool\n" + run.stderr)


def test_a_catalogue_that_changed_is_caught_as_drift(tmp_path):
    # the same check against a catalogue where one enum gained a value
    fake = tmp_path / "changed_catalogue"
    fake.write_text("#!/bin/sh\n%s --json | sed 's/%s/%s/'\n"
                    % (CATALOGUE_TOOL, '\"lease_signed\"', '\"lease_signed\", \"moved_in\"'))
    fake.chmod(0o755)
    run = generator(str(fake), "--check")
    assert run.returncode == 1 and "out of date" in run.stderr
    assert "_catalogue_table.py" in run.stderr and "events.py" in run.stderr


def test_every_entry_has_its_typed_event():
    assert [e["type"] for e in catalogue.entries()] == list(events.BY_TYPE)
    cls = events.ConversationStageChanged
    assert cls.TYPE == "conversation.stage_changed" and cls.SUBJECT == "contact:<bird id>"
    assert [name for _, name in cls.FIELDS] == [
        "bird_contact_id", "conversation_id", "stage", "agent_type", "qualification_score",
        "property_interest"]


def _example_envelope(entry, i):
    """The entry's example as its typed event, then as an envelope."""
    cls = events.BY_TYPE[entry["type"]]
    attrs = dict((name, attr) for attr, name in cls.FIELDS)
    example = entry["example"]
    event = cls(extra={k: v for k, v in example.items() if k not in attrs},
                **{attr: example.get(name) for name, attr in attrs.items()})
    subject = None
    if event.default_subject() is None:          # a form in words, or a field we lack
        form = entry["subject"]
        if form.startswith("whatsapp:"):
            subject = "whatsapp:16505551234"
        elif form.startswith("contact:") or "<" not in form:
            subject = "contact:%s" % BIRD
        else:                                   # "admin:<token name>": the form's own prefix
            subject = form[:form.index("<")] + "sample"
    if entry["type"] == "dead-letter.command.edit":
        event.message = Envelope(type="contact.synced", id="x", source="t").encode()
    return event.envelope(id="example-%d" % i, source="pytest", type=entry["example_type"],
                          subject=subject)


def test_every_catalogue_example_built_with_its_typed_event_passes_the_c_check(tmp_path):
    built = [_example_envelope(entry, i) for i, entry in enumerate(catalogue.entries())]
    verdicts = catalogue_check(tmp_path, [e.encode() for e in built])
    assert [(e.type, v["rc"], v["reason"]) for e, v in zip(built, verdicts)] == \
        [(e.type, "OK", "") for e in built]


def test_typed_events_go_through_the_broker_unchanged_and_read_back(client, tmp_path):
    producer, consumer = client("producer"), client("consumer")
    consumer.join("every", [">"], credit=100)
    # contact.forget makes the broker itself redact what mentions the
    # person (docs/operations.md, "Erasing a person"): not sent here
    built = [_example_envelope(entry, i) for i, entry in enumerate(catalogue.entries())
             if entry["type"] != "contact.forget"]
    results = producer.publish_many(built)
    assert all(isinstance(r, zhub.PubAck) and not r.duplicate for r in results), results
    delivered = {}
    while len(delivered) < len(built):
        d = consumer.receive(10)
        assert d is not None, "delivered %d of %d" % (len(delivered), len(built))
        delivered[d.envelope.id] = d
        d.ack()
    got = [delivered[e.id] for e in built]
    # what the broker delivers passes the C check too, and reads back as the same event
    verdicts = catalogue_check(tmp_path, [d.envelope.encode(4 * 1024 * 1024) for d in got])
    assert all(v["ok"] for v in verdicts), verdicts
    for sent, d in zip(built, got):
        typed = d.event()
        assert type(typed) is events.BY_TYPE[catalogue.find(sent.type)["type"]]
        assert typed.data() == sent.data and d.envelope.subject == sent.subject


def test_a_stage_change_has_its_subject_filled_in_and_datetimes_written_as_rfc3339():
    stage = events.ConversationStageChanged(bird_contact_id=BIRD, conversation_id="c-1",
                                            stage="tour_scheduled", qualification_score=91.5,
                                            extra={"note": "from the agent"})
    env = stage.envelope(id="s-1", source="my-agent")
    assert env.subject == "contact:" + BIRD and env.type == "conversation.stage_changed"
    assert env.data == {"bird_contact_id": BIRD, "conversation_id": "c-1",
                        "stage": "tour_scheduled", "qualification_score": 91.5,
                        "note": "from the agent"}
    mexico = datetime.timezone(datetime.timedelta(hours=-6))
    at = datetime.datetime(2030, 1, 2, 16, 0, tzinfo=mexico)
    tour = events.TourRequested(bird_contact_id=BIRD, preferred_times=[at, "2030-01-03T17:00:00Z"])
    assert tour.envelope(id="t-1", source="me").data["preferred_times"] == \
        ["2030-01-02T22:00:00.000Z", "2030-01-03T17:00:00Z"]
    with pytest.raises(InvalidMessage, match="timezone-aware"):
        events.TourRequested(bird_contact_id=BIRD,
                             preferred_times=[datetime.datetime(2030, 1, 2)]).envelope(
            id="t-2", source="me")


def test_typed_events_refuse_what_the_catalogue_refuses_before_anything_is_sent():
    with pytest.raises(CatalogueError, match='data.stage must be one of `lead`'):
        events.ConversationStageChanged(bird_contact_id=BIRD, conversation_id="c",
                                        stage="won").envelope(id="x", source="me")
    with pytest.raises(CatalogueError, match="data.letter is missing"):
        events.DeadLetterCommandReplay(letter=None).envelope(id="x", source="me")
    with pytest.raises(CatalogueError, match="data.why is not part of "
                                             "dead-letter.command.replay"):
        events.DeadLetterCommandReplay(letter=3, extra={"why": "x"}).envelope(id="x",
                                                                              source="me")
    with pytest.raises(CatalogueError, match='subject "lead:1" is not contact:<bird id>'):
        events.QualificationCompleted(conversation_id="c", bird_contact_id=BIRD, score=50,
                                      qualified=True).envelope(id="x", source="me",
                                                               subject="lead:1")
    with pytest.raises(InvalidMessage, match="family of types"):
        events.Dlq(group="g", cause="terminal", reason_code=1, attempts=[],
                   message={}).envelope(id="x", source="me", subject="s")


# (type, subject, data): each is held to the C check and the Python one
CASES = [
    ("conversation.stage_changed", "contact:b", {"bird_contact_id": "b", "conversation_id": "c",
                                                 "stage": "qualified"}),
    ("conversation.stage_changed", "contact:b", {"bird_contact_id": "b", "conversation_id": "c"}),
    ("conversation.stage_changed", "contact:b", {"bird_contact_id": "b", "conversation_id": "c",
                                                 "stage": "won"}),
    ("conversation.stage_changed", "contact:b", {"bird_contact_id": "b", "conversation_id": "c",
                                                 "stage": "lead", "qualification_score": 100.5}),
    ("conversation.stage_changed", "contact:b", {"bird_contact_id": "b", "conversation_id": "c",
                                                 "stage": "lead", "qualification_score": True}),
    ("conversation.stage_changed", "contact:", {"bird_contact_id": "b", "conversation_id": "c",
                                                "stage": "lead"}),
    ("conversation.stage_changed", None, {"bird_contact_id": "b", "conversation_id": "c",
                                          "stage": "lead"}),
    ("conversation.message", "contact:b", {"conversation_id": "", "bird_contact_id": "b",
                                           "direction": "in", "text": "t",
                                           "sent_at": "2030-01-01T10:00:00Z"}),
    ("conversation.message", "contact:b", {"conversation_id": -4, "bird_contact_id": "b",
                                           "direction": "in", "text": "t",
                                           "sent_at": "2030-01-01T10:00:00Z"}),
    ("conversation.message", "contact:b", {"conversation_id": 4, "bird_contact_id": 2 ** 63,
                                           "direction": "in", "text": "t",
                                           "sent_at": "2030-01-01 10:00:00.5+01:00"}),
    ("conversation.message", "contact:b", {"conversation_id": "c", "bird_contact_id": "b",
                                           "direction": "in", "text": "t",
                                           "sent_at": "2030-01-01T10:00Z"}),
    ("conversation.message", "contact:b", {"conversation_id": "c", "bird_contact_id": "b",
                                           "direction": "in", "text": "t",
                                           "sent_at": "2030-13-01T10:00:00Z"}),
    ("conversation.message", "contact:b", {"conversation_id": "c", "bird_contact_id": "b",
                                           "direction": "in", "text": "t",
                                           "sent_at": "2030-02-31t23:59:60.123456z"}),
    ("conversation.message", "contact:b", {"conversation_id": "c", "bird_contact_id": "b",
                                           "direction": "in", "text": None,
                                           "sent_at": "2030-01-01T10:00:00Z"}),
    ("tour.requested", "contact:b", {"bird_contact_id": "b", "preferred_times": []}),
    ("tour.requested", "contact:b", {"bird_contact_id": "b",
                                     "preferred_times": ["2030-01-01T10:00:00Z"] * 17}),
    ("tour.requested", "contact:b", {"bird_contact_id": "b", "preferred_times": ["tomorrow"]}),
    ("tour.requested", "contact:b", {"bird_contact_id": "b",
                                     "preferred_times": ["2030-01-01T10:00:00Z"],
                                     "duration_min": 4}),
    ("tour.requested", "contact:b", {"bird_contact_id": "b",
                                     "preferred_times": ["2030-01-01T10:00:00Z"],
                                     "duration_min": 45.0}),
    ("intent.detected", "contact:b", {"message_id": "m", "conversation_id": "c",
                                      "bird_contact_id": "b", "intent": "pricing",
                                      "confidence": float("nan"), "decided_by": "ai",
                                      "language": "es"}),
    ("contact.erase", "erase:r1", {"request": "", "identifier": "+52"}),
    ("contact.erase", "erase:r1", {"request": "r" * 201, "identifier": "+52"}),
    ("contact.reconcile", "reconcile", {}),
    ("contact.reconcile", "reconcile-now", {}),
    ("dead-letter.command.purge", "dead-letter", {"letters": [1, 2], "extra": 1}),
    ("dead-letter.command.purge", "dead-letter", {"letters": [1, "2"]}),
    ("dead-letter.command.edit", "dead-letter", {"letter": 1, "revision": 0, "message": "text"}),
    ("dead-letter.command.edit", "dead-letter", {"letter": 1, "revision": 0, "message": b"\x80"}),
    ("dlq.contact-sync", "anything at all", {"group": "g", "cause": "terminal", "reason_code": 0,
                                             "attempts": [{"code": 1}, 2], "message": {}}),
    ("webhook.hubspot.contact.creation", "x", {"anything": ["goes"]}),
    ("contact.synced", "contact:b", {"bird_contact_id": "b", "hubspot_contact_id": 501,
                                     "changed": ["email"], "direction": "hubspot_to_bird"}),
    ("not.in.catalogue", "x", {}),
]


def test_the_python_check_says_what_the_c_check_says(tmp_path):
    bodies, python = [], []
    for type, subject, data in CASES:
        envelope = Envelope(type=type, id="case", source="pytest", subject=subject, data=data)
        bodies.append(msgpack_envelope(envelope))
        try:
            catalogue.check_envelope(envelope)
            python.append(("OK", ""))
        except CatalogueError as e:
            python.append(("NOTFOUND" if "not in the catalogue" in str(e) else "REJECT", str(e)))
    c = [(v["rc"], v["reason"]) for v in catalogue_check(tmp_path, bodies)]
    assert python == c
    assert sum(1 for rc, _ in c if rc == "OK") >= 5 and sum(1 for rc, _ in c if rc != "OK") >= 20


def msgpack_envelope(envelope):
    """The bytes of an envelope, NaN and all (Envelope.encode refuses a NaN
    before the catalogue is asked)."""
    import msgpack
    return msgpack.packb(envelope.to_map(), use_bin_type=True)
