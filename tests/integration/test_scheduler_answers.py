"""What the customer reads when a tour cannot simply be booked: the
alternatives when no agent is free, the cancellation when a booked tour
ends, and a single-use Calendly link when the calendar itself is down (with
a note in HubSpot saying so). Each goes through the Bird stand-in as free
text inside WhatsApp's 24-hour window and as the kind's template outside
it, end to end with the real scheduler, broker, gateway and activity-log."""
import calendar
import time
import uuid

from harness import wait_until
from peer_http import bus_messages, http, peer_fault, peer_requests, peer_state, publish
from test_scheduler import ANA, LUIS, SLOT, TEMPLATES, graph_changed, params, request, start
from test_scheduler_whatsapp import fecha, with_gateway, write_in

HUBSPOT_AUTH = {"Authorization": "Bearer test-hubspot-token"}
# Approved templates of the two kinds that came last (Bird template projects)
ANSWER_TEMPLATES = dict(TEMPLATES, **{
    "alternatives": {"project_id": "5b7c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4",
                     "parameters": {"horarios": "alternatives", "lugar": "location"}},
    "cancellation": {"project_id": "6c8d2e3f-4a5b-4c6d-9e7f-8091a2b3c4d5",
                     "parameters": {"fecha": "when", "lugar": "location"}},
})
CLOSED_AT_NIGHT = "2030-03-06T03:00:00Z"  # 21:00 in Mexico City: outside business hours
# the three alternatives the next morning (09:00, 09:30, 10:00 local), as
# test_scheduler's test_no_slot_outside_business_hours_offers_alternatives_inside finds them
NEXT_MORNING = ["2030-03-06T15:00:00Z", "2030-03-06T15:30:00Z", "2030-03-06T16:00:00Z"]


def sent_as(hub, kind):
    """The messages the Bird stand-in took as that kind's template."""
    project = ANSWER_TEMPLATES[kind]["project_id"]
    return [m for m in peer_state(hub, "bird")["messages"]
            if m.get("template", {}).get("projectId") == project]


def free_texts(hub):
    return [m for m in peer_state(hub, "bird")["messages"] if "body" in m]


def ms(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ")) * 1000


def start_answers(hub, **section):
    section.setdefault("whatsapp", {"templates": ANSWER_TEMPLATES})
    return start(hub, **section)


def test_no_slot_outside_the_window_sends_the_alternatives_template(hub):
    proc = start_answers(hub, agents=(ANA,))
    _, bird_id = request(hub, [CLOSED_AT_NIGHT])  # nobody wrote in: the window is closed
    unavailable = wait_until(lambda: bus_messages(hub, "tour.unavailable", quiet=0.5),
                             what="unavailable")
    starts = [a["start"][:19] + "Z" for a in unavailable[0]["data"]["alternatives"]]
    assert starts == NEXT_MORNING
    sent = wait_until(lambda: sent_as(hub, "alternatives"), what="the alternatives")
    assert len(sent) == 1 and "body" not in sent[0]
    assert params(sent[0]) == {"horarios": "; ".join(fecha(ms(s)) for s in NEXT_MORNING),
                               "lugar": "Torre Reforma"}
    assert params(sent[0])["horarios"].startswith("miércoles 6 de marzo, 09:00; ")
    assert sent[0]["template"]["locale"] == "es-MX" and sent[0]["status"] == "delivered"
    assert sent[0]["reference"] == unavailable[0]["data"]["booking_id"]
    assert "kind=alternatives form=template" in proc.log_text()
    time.sleep(0.5)
    assert len(peer_state(hub, "bird")["messages"]) == 1  # once


def test_no_slot_inside_the_window_sends_the_alternatives_as_free_text_in_the_mapped_locale(hub):
    # English, with the mapping file's own text for the locale
    start_answers(hub, agents=(ANA,), whatsapp={
        "locale": "en-US", "templates": ANSWER_TEMPLATES,
        "texts": {"en-US": {"alternatives": "Sorry, that time is taken[ at {location}]. "
                                            "Free: {alternatives}."}}})
    with_gateway(hub)
    bird_id = write_in(hub)  # just now: the window is open
    request(hub, [CLOSED_AT_NIGHT], bird_id=bird_id)
    wait_until(lambda: bus_messages(hub, "tour.unavailable", quiet=0.5), what="unavailable")
    sent = wait_until(lambda: free_texts(hub), what="the alternatives")
    assert len(sent) == 1 and "template" not in sent[0]
    assert sent[0]["body"]["text"]["text"] == (
        "Sorry, that time is taken at Torre Reforma. Free: Wednesday, March 6, 9:00 AM; "
        "Wednesday, March 6, 9:30 AM; Wednesday, March 6, 10:00 AM.")
    assert sent[0]["status"] == "delivered"


def book_and_cancel_on_graph(hub, bird_id=None):
    """A tour booked with Luis on Graph, then its event deleted in Outlook;
    returns the booking id."""
    _, bird_id = request(hub, [SLOT], bird_id=bird_id)
    first = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    booking, event_id = first[0]["data"]["booking_id"], first[0]["data"]["calendar_event_id"]
    form = ("client_id=graph-client-id&client_secret=graph-client-secret&grant_type="
            "client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
    _, token = http("POST", hub.peers["graph"] + "/t/oauth2/v2.0/token", raw=form.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    status, _ = http("DELETE", "%s/v1.0/users/luis%%40urbanhub.mx/events/%s"
                     % (hub.peers["graph"], event_id),
                     headers={"Authorization": "Bearer " + token["access_token"]})
    assert status == 204
    graph_changed(hub, "deleted", "luis@urbanhub.mx", event_id)
    wait_until(lambda: bus_messages(hub, "tour.canceled", quiet=0.5), what="canceled")
    return booking


def test_cancellation_outside_the_window_goes_as_its_template_once(hub):
    proc = start_answers(hub, agents=(LUIS,))
    booking = book_and_cancel_on_graph(hub)
    sent = wait_until(lambda: sent_as(hub, "cancellation"), what="the cancellation")
    assert len(sent) == 1
    assert params(sent[0]) == {"fecha": "martes 5 de marzo, 11:00", "lugar": "Torre Reforma"}
    assert sent[0]["reference"] == booking and sent[0]["status"] == "delivered"
    wait_until(lambda: "outcome=cancellation_sent" in proc.log_text(), what="recorded")
    # a redelivery of the same tour.canceled (a restart before the ack, say)
    # finds it sent: the person reads it once
    proc.stop()
    proc.start()
    time.sleep(1.0)
    assert len(sent_as(hub, "cancellation")) == 1
    assert len(sent_as(hub, "confirmation")) == 1


def test_cancellation_inside_the_window_goes_as_free_text(hub):
    start_answers(hub, agents=(LUIS,))
    with_gateway(hub)
    bird_id = write_in(hub)
    booking = book_and_cancel_on_graph(hub, bird_id=bird_id)
    texts = wait_until(lambda: [m for m in free_texts(hub)
                                if "cancelada" in m["body"]["text"]["text"]],
                       what="the cancellation")
    assert texts[0]["body"]["text"]["text"] == (
        "Tu visita del martes 5 de marzo, 11:00 a Torre Reforma fue cancelada. Si quieres "
        "agendar otra, responde a este mensaje.")
    assert texts[0]["reference"] == booking
    assert sent_as(hub, "cancellation") == []


def test_google_down_sends_a_calendly_link_on_whatsapp_and_a_note_in_hubspot(hub):
    """Google answers 503 (backendError) to every freeBusy: after the retry
    the scheduler's policy allows (calendly_fallback_after, default 2), the
    person gets a single-use Calendly link instead of waiting for a dead
    letter, and the contact's record in HubSpot says why."""
    hub.start_peer("hubspot")
    hub.start_peer("calendly")
    bird_id = str(uuid.uuid4())
    status, contact = http("POST", hub.peers["hubspot"] + "/crm/v3/objects/contacts",
                           {"properties": {"email": "down@example.com",
                                           "bird_contact_id": bird_id}}, HUBSPOT_AUTH)
    assert status == 201
    proc = start_answers(hub, agents=(ANA,),
                         calendly_event_type=hub.peers["calendly"] + "/event_types/AAAAEVENTTYPE",
                         restart_env={"ZHUB_CALENDLY_TOKEN": "calendly-pat"})
    peer_fault(hub, "google", status=503, count=100, path_prefix="/calendar/v3/freeBusy")
    hub.start("activity-log")
    request(hub, [SLOT], bird_id=bird_id)
    sent = wait_until(lambda: sent_as(hub, "link"), what="the Calendly link on WhatsApp")
    link = params(sent[0])["enlace"]
    assert link.startswith("https://calendly.com/d/") and "utm_content=bk" in link
    assert sent[0]["status"] == "delivered" and "body" not in sent[0]
    asked = peer_requests(hub, "calendly", "/scheduling_links")
    assert len(asked) == 1 and asked[0]["body"]["max_event_count"] == 1
    assert asked[0]["body"]["owner_type"] == "EventType"
    # Google was asked twice (the first delivery and its retry), never booked
    assert [r["status"] for r in peer_requests(hub, "google", "/calendar/v3/freeBusy")] == [503, 503]
    assert peer_state(hub, "google")["events"] == {}
    down = wait_until(lambda: bus_messages(hub, "tour.calendar_down", quiet=0.3),
                      what="tour.calendar_down")
    data = down[0]["data"]
    assert down[0]["subject"] == "contact:" + bird_id
    assert data["platform"] == "google" and data["confirmation_url"] == link
    assert data["reason"].startswith("google freeBusy") and "503" in data["reason"]
    notes = wait_until(lambda: peer_state(hub, "hubspot")["notes"], what="the note")
    body = notes[0]["properties"]["hs_note_body"]
    assert "The calendar was down" in body and "Calendly link" in body
    assert link.replace("&", "&amp;") in body
    assert notes[0]["associations"][0]["id"] == contact["id"]
    log = proc.log_text()
    assert "event=calendar_down" in log and "outcome=calendar_down_link_sent" in log
    assert bus_messages(hub, "dlq.scheduler", quiet=0.3) == []
    # the person books through the link: the booking is made on Calendly
    status, booked = http("POST", hub.peers["calendly"] + "/__peer/book",
                          {"booking_url": link, "start_time": "2030-03-05T18:00:00Z"})
    assert status == 200
    event_uuid = booked["webhooks"][0]["payload"]["scheduled_event"]["uri"].rsplit("/", 1)[1]
    publish(hub, "webhook.calendly.invitee.created", booked["webhooks"][0],
            subject="calendly:event:" + event_uuid)
    scheduled = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booked")
    assert scheduled[0]["data"]["platform"] == "calendly"
    assert scheduled[0]["data"]["booking_id"] == data["booking_id"]


def test_google_rate_limit_is_not_a_calendar_down(hub):
    """A 429 is Google asking us to slow down, not Google being down: the
    request waits and books; no Calendly link."""
    hub.start_peer("calendly")
    start_answers(hub, agents=(ANA,),
                  calendly_event_type=hub.peers["calendly"] + "/event_types/AAAAEVENTTYPE",
                  restart_env={"ZHUB_CALENDLY_TOKEN": "calendly-pat"})
    peer_fault(hub, "google", status=429, count=2, path_prefix="/calendar/v3/freeBusy")
    request(hub, [SLOT])
    wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    assert peer_requests(hub, "calendly", "/scheduling_links") == []
    assert bus_messages(hub, "tour.calendar_down", quiet=0.3) == []
