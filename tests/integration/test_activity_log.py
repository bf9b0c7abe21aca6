"""zhub-activity-log end to end: conversation events published on the real
broker become notes, tasks and meetings in the stand-in HubSpot, associated
with the contact and the deal. What is checked is what a user would look
at: the engagements in HubSpot (GET /__peer/state), the calls HubSpot saw
(GET /__peer/requests) and the activity.logged events on the bus."""
import time
import uuid

from harness import wait_until
from peer_http import (bus_messages, peer_fault, peer_requests, peer_state, publish,
                       seed_hubspot)

CONTACT_TO = {"notes": 202, "tasks": 204, "meetings": 200}
DEAL_TO = {"notes": 214, "tasks": 216, "meetings": 212}


def start(hub, **env):
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker")
    settings = {"ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL": "1s", "ZHUB_BACKOFF": "200ms"}
    settings.update(env)
    return hub.start("activity-log", extra_env=settings)


def known_contact(hub, with_deal=True):
    """A HubSpot contact (and deal) that activity-log learns from the bus."""
    bird_id = str(uuid.uuid4())
    contact = seed_hubspot(hub, "contacts", {"email": "%s@example.com" % bird_id[:8],
                                             "bird_contact_id": bird_id})
    deal = None
    publish(hub, "contact.synced", {"bird_contact_id": bird_id, "hubspot_contact_id": contact,
                                    "changed": ["email"], "direction": "bird_to_hubspot"},
            subject="contact:" + bird_id)
    if with_deal:
        deal = seed_hubspot(hub, "deals", {"dealname": "Tour", "dealstage": "appointmentscheduled",
                                           "pipeline": "default"})
        publish(hub, "deal.stage_changed", {"bird_contact_id": bird_id, "hubspot_contact_id": contact,
                                            "hubspot_deal_id": deal, "stage": "qualified", "by": "ai"},
                subject="contact:" + bird_id)
    return bird_id, contact, deal


def engagements(hub, kind):
    return peer_state(hub, "hubspot")[kind]


def associated(rec, contact, deal, kind):
    links = {(a["type"], a["id"], a["associationTypeId"]) for a in rec["associations"]}
    want = {("contacts", contact, CONTACT_TO[kind])}
    if deal:
        want.add(("deals", deal, DEAL_TO[kind]))
    return links == want


def test_conversation_started_becomes_note_on_contact_and_deal(hub):
    start(hub)
    bird_id, contact, deal = known_contact(hub)
    stamp = int(time.time() * 1000) - 60000
    publish(hub, "conversation.started", {"conversation_id": "conv-1", "bird_contact_id": bird_id,
                                          "channel": "whatsapp", "agent_type": "qualifier"},
            subject="contact:" + bird_id, time_ms=stamp)
    notes = wait_until(lambda: engagements(hub, "notes"), what="a note")
    assert len(notes) == 1
    note = notes[0]
    assert associated(note, contact, deal, "notes")
    body = note["properties"]["hs_note_body"]
    assert "AI Agent Activity: conversation.started" in body
    assert "whatsapp" in body and "qualifier" in body
    # hs_timestamp is the event's time, not the time of the call
    assert note["properties"]["hs_timestamp"].startswith(
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp / 1000)))
    logged = wait_until(lambda: bus_messages(hub, "activity.logged", quiet=0.5), what="logged")
    assert logged[0]["data"]["kind"] == "note"
    assert logged[0]["data"]["hubspot_id"] == note["id"]
    assert logged[0]["subject"] == "contact:" + bird_id


def test_qualification_becomes_task_and_tour_becomes_meeting(hub):
    start(hub)
    bird_id, contact, deal = known_contact(hub)
    subject = "contact:" + bird_id
    publish(hub, "qualification.completed", {"conversation_id": "c2", "bird_contact_id": bird_id,
                                             "score": 82, "qualified": True,
                                             "property_interest": "Torre Reforma 2BR"},
            subject=subject)
    publish(hub, "tour.scheduled", {"bird_contact_id": bird_id, "booking_id": "bk-1",
                                    "start": "2030-03-05T17:00:00Z", "end": "2030-03-05T17:45:00Z",
                                    "platform": "google", "calendar_event_id": "evt123",
                                    "confirmation_url": "https://calendar.example/evt123",
                                    "agent_id": "ana", "location": "Torre Reforma"},
            subject=subject)
    tasks = wait_until(lambda: engagements(hub, "tasks"), what="a task")
    meetings = wait_until(lambda: engagements(hub, "meetings"), what="a meeting")
    task, meeting = tasks[0]["properties"], meetings[0]["properties"]
    assert task["hs_task_subject"] == "AI Agent Activity: qualification.completed"
    assert "82 / 100" in task["hs_task_body"] and "Torre Reforma 2BR" in task["hs_task_body"]
    assert task["hs_task_priority"] == "MEDIUM"
    assert associated(tasks[0], contact, deal, "tasks")
    assert meeting["hs_meeting_title"] == "AI Agent Activity: tour.scheduled"
    assert meeting["hs_meeting_start_time"].startswith("2030-03-05T17:00:00")
    assert meeting["hs_meeting_end_time"].startswith("2030-03-05T17:45:00")
    assert meeting["hs_timestamp"] == meeting["hs_meeting_start_time"]
    assert meeting["hs_meeting_outcome"] == "SCHEDULED"
    assert associated(meetings[0], contact, deal, "meetings")
    # The same booking moved, then canceled: the one meeting follows it.
    publish(hub, "tour.scheduled", {"bird_contact_id": bird_id, "booking_id": "bk-1",
                                    "start": "2030-03-06T18:00:00Z", "end": "2030-03-06T18:45:00Z",
                                    "platform": "google"}, subject=subject)
    wait_until(lambda: engagements(hub, "meetings")[0]["properties"]["hs_meeting_start_time"]
               .startswith("2030-03-06T18:00:00"), what="meeting moved")
    publish(hub, "tour.canceled", {"bird_contact_id": bird_id, "booking_id": "bk-1"},
            subject=subject)
    wait_until(lambda: engagements(hub, "meetings")[0]["properties"]["hs_meeting_outcome"]
               == "CANCELED", what="meeting canceled")
    assert len(engagements(hub, "meetings")) == 1


def test_escalation_makes_note_and_high_priority_task_once_despite_failure(hub):
    start(hub, ZHUB_ACTIVITY_OWNER_ID="910901")
    bird_id, contact, _ = known_contact(hub, with_deal=False)
    # The task call fails once (503): the event comes back, and the note
    # already made must not be made again.
    peer_fault(hub, "hubspot", status=503, count=1, path_prefix="/crm/v3/objects/tasks")
    publish(hub, "escalation.triggered", {"conversation_id": "c3", "bird_contact_id": bird_id,
                                          "reason": "asks for a human", "priority": "high"},
            subject="contact:" + bird_id)
    tasks = wait_until(lambda: engagements(hub, "tasks"), what="the task")
    time.sleep(0.5)
    notes = engagements(hub, "notes")
    assert len(notes) == 1 and len(tasks) == 1
    assert "asks for a human" in notes[0]["properties"]["hs_note_body"]
    task = tasks[0]["properties"]
    assert task["hs_task_priority"] == "HIGH"
    assert task["hubspot_owner_id"] == "910901"
    assert task["hs_task_subject"] == "AI Agent Activity: escalation.triggered"
    assert associated(tasks[0], contact, None, "tasks")
    assert len(peer_requests(hub, "hubspot", "/crm/v3/objects/notes", "POST")) == 1


def test_chatty_conversation_is_one_transcript_note_with_few_calls(hub):
    start(hub, ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL="1s")
    bird_id, contact, deal = known_contact(hub)
    bus_pub = None
    texts = ["message number %d <b>&" % i for i in range(30)]
    for i, text in enumerate(texts):
        publish(hub, "conversation.message",
                {"conversation_id": "chat-1", "bird_contact_id": bird_id,
                 "direction": "in" if i % 2 == 0 else "out", "text": text,
                 "sent_at": "2030-01-01T10:%02d:00Z" % i},
                subject="contact:" + bird_id, bus=bus_pub)

    def complete():
        notes = engagements(hub, "notes")
        return notes and "message number 29" in notes[0]["properties"]["hs_note_body"] and notes

    notes = wait_until(complete, timeout=10, what="the whole transcript")
    assert len(notes) == 1
    body = notes[0]["properties"]["hs_note_body"]
    assert all(("message number %d &lt;b&gt;&amp;" % i) in body for i in range(30))
    assert "AI Agent Activity: conversation.message" in body
    assert associated(notes[0], contact, deal, "notes")
    time.sleep(1.5)  # any flush still due would show now
    creates = peer_requests(hub, "hubspot", "/crm/v3/objects/notes", "POST")
    updates = peer_requests(hub, "hubspot", "/crm/v3/objects/notes/", "PATCH")
    # 30 messages within about a second: one create and a few coalesced updates
    assert len(creates) == 1
    assert 1 <= len(updates) <= 4, len(updates)


def test_event_for_unknown_contact_waits_until_contact_synced(hub):
    start(hub)
    bird_id = str(uuid.uuid4())
    publish(hub, "conversation.started", {"conversation_id": "c5", "bird_contact_id": bird_id,
                                          "channel": "whatsapp", "agent_type": "qualifier"},
            subject="contact:" + bird_id)
    time.sleep(1.0)
    assert engagements(hub, "notes") == []
    contact = seed_hubspot(hub, "contacts", {"email": "late@example.com"})
    publish(hub, "contact.synced", {"bird_contact_id": bird_id, "hubspot_contact_id": contact},
            subject="contact:" + bird_id)
    notes = wait_until(lambda: engagements(hub, "notes"), what="the parked note")
    assert associated(notes[0], contact, None, "notes")


def test_contact_found_in_hubspot_by_bird_contact_id(hub):
    start(hub)
    bird_id = str(uuid.uuid4())
    contact = seed_hubspot(hub, "contacts", {"email": "known@example.com",
                                             "bird_contact_id": bird_id})
    publish(hub, "qualification.completed", {"conversation_id": "c6", "bird_contact_id": bird_id,
                                             "score": 10, "qualified": False},
            subject="contact:" + bird_id)
    tasks = wait_until(lambda: engagements(hub, "tasks"), what="a task")
    assert associated(tasks[0], contact, None, "tasks")
    assert peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/" + bird_id, "GET")


def test_retention_sweeps_while_no_message_comes(hub):
    """The retention sweep is periodic work of its own: a conversation past
    ZHUB_ACTIVITY_RETENTION goes even when no later message arrives to
    trigger anything."""
    log = start(hub, ZHUB_ACTIVITY_RETENTION="1s")
    bird_id, _, _ = known_contact(hub)
    publish(hub, "conversation.message",
            {"conversation_id": "kept-1s", "bird_contact_id": bird_id, "direction": "in",
             "text": "hola", "sent_at": "2030-01-01T10:00:00Z"},
            subject="contact:" + bird_id)
    wait_until(lambda: engagements(hub, "notes"), what="the transcript note")
    # nothing else is published: the cached conversation expires on its own
    wait_until(lambda: "event=retention deleted=1" in log.log_text(), timeout=10,
               what="the idle retention sweep")


def test_transcript_timer_is_a_held_message_not_a_retry(hub):
    """When the transcript note has to wait, its timer is an
    activity.transcript.flush published with deliverat: the broker holds it
    until the write is due and delivers it once, and the write happens then.
    It is not a message NACKed again and again until due (each NACK a
    delivery attempt spent and a warning logged)."""
    log = start(hub, ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL="3s")
    bird_id, _, _ = known_contact(hub)
    for i, text in enumerate(["hola", "¿sigue disponible el depto?"]):
        publish(hub, "conversation.message",
                {"conversation_id": "held-1", "bird_contact_id": bird_id, "direction": "in",
                 "text": text, "sent_at": "2030-01-01T10:0%d:00Z" % i},
                subject="contact:" + bird_id)
    # the first message creates the note at once, the second waits for the timer
    wait_until(lambda: any("sigue disponible" in n["properties"]["hs_note_body"]
                           for n in engagements(hub, "notes")),
               what="the transcript with the second message")
    [flush] = bus_messages(hub, "activity.transcript.flush", quiet=0.5)
    assert flush["subject"] == "transcript:held-1"
    assert flush["deliverat"] == flush["data"]["due"]
    handled = [line for line in log.log_text().splitlines()
               if "event=handled" in line and "topic=activity.transcript.flush" in line]
    assert len(handled) == 1, handled
    assert "attempt=1 " in handled[0] and "outcome=transcript_flushed" in handled[0]
    assert len(peer_requests(hub, "hubspot", "/crm/v3/objects/notes", "POST")) == 1
