"""zhub-scheduler end to end against the stand-in Google Calendar,
Microsoft Graph and Bird: tour requests published on the real broker
become calendar events, tour.scheduled / tour.unavailable events and
WhatsApp messages; timers fire once across a restart; OAuth tokens are
refreshed before they expire and never stored in the clear."""
import glob
import json
import os
import time
import uuid

from harness import wait_until
from peer_http import bus_messages, http, peer_fault, peer_requests, peer_state, publish

SECRET_KEY = "5f" * 32
ANA = {"id": "ana", "name": "Ana", "email": "ana@urbanhub.mx", "platform": "google"}
LUIS = {"id": "luis", "name": "Luis", "email": "luis@urbanhub.mx", "platform": "graph"}
# 11:00 in Mexico City (UTC-6, no daylight saving time since 2022)
SLOT = "2030-03-05T17:00:00Z"
CHANNEL = "52ad151f-f7b4-46f9-a5c6-d3318e650c84"  # Bird channel ids are UUIDs
# Approved WhatsApp templates (Bird template projects) for what may go
# outside the 24-hour window: in these tests nobody wrote in first.
TEMPLATES = {
    "confirmation": {"project_id": "0c7a3b1e-5d2f-4a8e-9b6c-1f2e3d4c5b6a",
                     "parameters": {"fecha": "when", "lugar": "location", "enlace": "url"}},
    "reminder": {"project_id": "ce6a2fd6-b2fa-4f5a-a2cd-f3bd15883318",
                 "parameters": {"fecha": "when", "lugar": "location", "asesor": "agent"}},
    "link": {"project_id": "9f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
             "parameters": {"enlace": "url"}},
}


def start(hub, agents=(ANA, LUIS), google_args=(), restart_env=None, **section):
    hub.start_peer("google", *google_args)
    hub.start_peer("graph")
    hub.start_peer("bird")
    hub.start("broker")
    config = {"time_zone": "America/Mexico_City",
              "business_hours": {"start": "09:00", "end": "19:00", "days": [0, 1, 2, 3, 4, 5, 6]},
              "buffer": "15m", "bird_channel_id": CHANNEL, "agents": list(agents),
              "whatsapp": {"templates": TEMPLATES}}
    config.update(section)
    path = os.path.join(hub.tmp, "mapping.json")
    with open(path, "w") as f:
        json.dump({"scheduler": config}, f)
    env = {"ZHUB_MAPPING_FILE": path, "ZHUB_SECRET_KEY": SECRET_KEY,
           "ZHUB_GOOGLE_CLIENT_ID": "google-client-id",
           "ZHUB_GOOGLE_CLIENT_SECRET": "google-client-secret",
           "ZHUB_GOOGLE_REFRESH_TOKEN": "google-refresh-token",
           "ZHUB_GOOGLE_TOKEN_URL": hub.peers["google"] + "/token",
           "ZHUB_GRAPH_CLIENT_ID": "graph-client-id",
           "ZHUB_GRAPH_CLIENT_SECRET": "graph-client-secret",
           "ZHUB_GRAPH_BASE_URL": hub.peers["graph"] + "/v1.0",
           "ZHUB_GRAPH_TOKEN_URL": hub.peers["graph"] + "/{tenant}/oauth2/v2.0/token",
           "ZHUB_GRAPH_TENANT_ID": "contoso.onmicrosoft.com",
           "ZHUB_BACKOFF": "200ms",
           # watch channels are opened only with a token the gateway can check
           "ZHUB_GOOGLE_CHANNEL_TOKEN": "test-google-channel-token"}
    env.update(restart_env or {})
    hub.scheduler_env = env
    return hub.start("scheduler", extra_env=env)


def request(hub, times, bird_id=None, **data):
    bird_id = bird_id or str(uuid.uuid4())
    body = {"bird_contact_id": bird_id, "conversation_id": "conv-" + bird_id[:6],
            "preferred_times": list(times), "duration_min": 45, "location": "Torre Reforma",
            "phone": "+5215512345678"}
    body.update(data)
    return publish(hub, "tour.requested", body, subject="contact:" + bird_id), bird_id


def whatsapp_sent(hub, kind=None):
    """The messages the Bird stand-in took; with kind, those sent as that
    kind's template."""
    sent = peer_state(hub, "bird")["messages"]
    if kind:
        project = TEMPLATES[kind]["project_id"]
        sent = [m for m in sent if m.get("template", {}).get("projectId") == project]
    return sent


def params(message):
    return {p["key"]: p["value"] for p in message["template"]["parameters"]}


def test_tour_request_books_google_event_and_confirms_on_whatsapp(hub):
    start(hub)
    _, bird_id = request(hub, [SLOT])
    scheduled = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    data = scheduled[0]["data"]
    assert scheduled[0]["subject"] == "contact:" + bird_id
    assert data["agent_id"] == "ana" and data["platform"] == "google"
    assert data["start"].startswith("2030-03-05T17:00:00") and \
        data["end"].startswith("2030-03-05T17:45:00")
    events = peer_state(hub, "google")["events"]["ana@urbanhub.mx"]
    assert len(events) == 1
    assert events[0]["id"] == data["booking_id"] == data["calendar_event_id"]
    assert events[0]["htmlLink"] == data["confirmation_url"]
    assert events[0]["attendees"][0]["email"] == "ana@urbanhub.mx"
    assert events[0]["sendUpdates"] == "all"
    sent = wait_until(lambda: whatsapp_sent(hub), what="the confirmation")
    assert len(sent) == 1
    # the person never wrote in: outside WhatsApp's window, so the template,
    # in Spanish, and Bird delivers it
    assert "body" not in sent[0]
    assert sent[0]["template"]["projectId"] == TEMPLATES["confirmation"]["project_id"]
    assert sent[0]["template"]["locale"] == "es-MX"
    assert params(sent[0]) == {"fecha": "martes 5 de marzo, 11:00", "lugar": "Torre Reforma",
                               "enlace": data["confirmation_url"]}
    assert sent[0]["status"] == "delivered"
    assert sent[0]["channelId"] == CHANNEL
    assert sent[0]["receiver"]["contacts"][0]["identifierValue"] == "+5215512345678"


def test_busy_agent_is_skipped_for_the_next_one_on_graph(hub):
    start(hub)
    status, _ = http("POST", hub.peers["google"] + "/__peer/busy",
                     {"calendar": "ana@urbanhub.mx", "start": "2030-03-05T16:30:00Z",
                      "end": "2030-03-05T17:10:00Z"})
    assert status == 201
    request(hub, [SLOT])
    scheduled = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    data = scheduled[0]["data"]
    assert data["agent_id"] == "luis" and data["platform"] == "graph"
    events = peer_state(hub, "graph")["events"]["luis@urbanhub.mx"]
    assert len(events) == 1 and events[0]["id"] == data["calendar_event_id"]
    assert events[0]["transactionId"] == data["booking_id"]
    assert events[0]["start"]["dateTime"].startswith("2030-03-05T17:00:00")
    schedule = peer_requests(hub, "graph", "/v1.0/users/", "POST")[0]
    assert schedule["path"].endswith("/calendar/getSchedule")
    assert schedule["headers"]["prefer"] == 'outlook.timezone="UTC"'
    # the app-only token came from the configured tenant ({tenant} in
    # ZHUB_GRAPH_TOKEN_URL filled in), with the default Graph scope
    tokens = peer_requests(hub, "graph", "/", "POST")
    tokens = [r for r in tokens if r["path"].endswith("/oauth2/v2.0/token")]
    assert tokens and all(r["path"] == "/contoso.onmicrosoft.com/oauth2/v2.0/token" and r["status"] == 200
                          for r in tokens)


def test_google_403_rate_limit_is_retried_not_dead_lettered(hub):
    # Google answers some rate limits with 403 rateLimitExceeded /
    # userRateLimitExceeded (https://developers.google.com/calendar/api/guides/errors):
    # the request backs off and books; nothing reaches the dead-letter topic.
    start(hub, agents=(ANA,))
    peer_fault(hub, "google", status=403, count=1, path_prefix="/calendar/v3/freeBusy")
    peer_fault(hub, "google", status=403, count=1, reason="userRateLimitExceeded",
               path_prefix="/calendar/v3/freeBusy")
    request(hub, [SLOT])
    scheduled = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    assert scheduled[0]["data"]["agent_id"] == "ana"
    asked = [r["status"] for r in peer_requests(hub, "google", "/calendar/v3/freeBusy")]
    assert asked == [403, 403, 200]
    assert bus_messages(hub, "dlq.scheduler", quiet=0.3) == []


def test_two_requests_for_one_agent_and_slot_give_one_booking_and_alternatives(hub):
    start(hub, agents=(ANA,))
    request(hub, [SLOT])
    request(hub, [SLOT])
    scheduled = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    unavailable = wait_until(lambda: bus_messages(hub, "tour.unavailable", quiet=0.5),
                             what="unavailable")
    time.sleep(0.5)
    assert len(bus_messages(hub, "tour.scheduled", quiet=0.3)) == 1
    assert len(unavailable) == 1
    alternatives = unavailable[0]["data"]["alternatives"]
    assert alternatives, "alternatives offered"
    # the first alternative leaves the buffer after the booked tour (17:45 + 15 min)
    assert alternatives[0]["start"] >= "2030-03-05T18:00:00"
    assert len(peer_state(hub, "google")["events"]["ana@urbanhub.mx"]) == 1
    del scheduled


def test_no_slot_outside_business_hours_offers_alternatives_inside(hub):
    start(hub, agents=(ANA,))
    request(hub, ["2030-03-06T03:00:00Z"])  # 21:00 local: closed
    unavailable = wait_until(lambda: bus_messages(hub, "tour.unavailable", quiet=0.5),
                             what="unavailable")
    alternatives = unavailable[0]["data"]["alternatives"]
    assert len(alternatives) == 3
    # 09:00 local the next morning = 15:00 UTC
    assert alternatives[0]["start"].startswith("2030-03-06T15:00:00")
    assert peer_state(hub, "google")["events"] == {}


def test_reminders_fire_once_across_a_restart(hub):
    proc = start(hub, agents=(ANA,), reminders=["6s", "4s"],
                 business_hours={"start": "00:00", "end": "24:00",
                                 "days": [0, 1, 2, 3, 4, 5, 6]})
    tour = int(time.time() * 1000) + 10000
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tour / 1000))
    request(hub, [when], duration_min=5)
    wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.3), what="booking")
    assert proc.stop() == 0  # down before either reminder is due
    time.sleep(max(0.0, (tour - 3500) / 1000 - time.time()))  # both are due now
    proc.start()
    texts = wait_until(lambda: len(whatsapp_sent(hub, "reminder")) >= 2, timeout=8,
                       what="two reminders")
    time.sleep(1.5)
    assert len(whatsapp_sent(hub, "reminder")) == 2
    reminders = bus_messages(hub, "tour.reminder", quiet=0.3)
    assert sorted(m["data"]["reminder"] for m in reminders) == [0, 1]
    assert proc.log_text().count("event=timer_fired kind=reminder") == 2
    del texts


def test_google_token_is_refreshed_before_expiry_and_sealed_at_rest(hub):
    start(hub, agents=(ANA,), google_args=("--token-ttl", "4"),
          restart_env={"ZHUB_OAUTH_REFRESH_MARGIN": "2s"})
    request(hub, [SLOT])
    wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.3), what="booking")
    # With no traffic at all, the timer keeps a valid token: about every 2 s.
    wait_until(lambda: peer_state(hub, "google")["token_requests"] >= 3, timeout=8,
               what="refreshes by timer")
    request(hub, ["2030-03-05T19:00:00Z"])
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.3)) == 2, what="2nd")
    calls = peer_requests(hub, "google", "/calendar/v3/")
    assert all(c["status"] != 401 for c in calls)
    tokens = {c["headers"]["authorization"].split()[1] for c in calls}
    files = glob.glob(os.path.join(hub.data_dir, "scheduler", "*.mdb"))
    assert files
    for path in files:
        raw = open(path, "rb").read()
        for token in tokens:
            assert token.encode() not in raw, "access token stored in the clear"
        assert b"google-refresh-token" not in raw
    logs = "\n".join(p.log_text() for p in hub.procs if p.name == "scheduler")
    assert not any(token in logs for token in tokens)


def test_contact_reconcile_ticks_periodically(hub):
    start(hub, agents=(ANA,), reconcile_every="1s")
    ticks = wait_until(lambda: len(bus_messages(hub, "contact.reconcile", quiet=0.3)) >= 2
                       and bus_messages(hub, "contact.reconcile", quiet=0.3), timeout=8,
                       what="two reconcile ticks")
    assert len({m["id"] for m in ticks}) == len(ticks)
    assert all(m["subject"] == "reconcile" and "since" in m["data"] for m in ticks)


def calendly_publish(hub, envelopes):
    """What the gateway publishes for Calendly webhooks."""
    for env in envelopes:
        event_uuid = env["payload"]["scheduled_event"]["uri"].rsplit("/", 1)[1]
        publish(hub, "webhook.calendly." + env["event"], env,
                subject="calendly:event:" + event_uuid)


def test_self_service_calendly_link_then_book_reschedule_and_cancel(hub):
    hub.start_peer("calendly")
    start(hub, agents=(ANA,), self_service=True,
          calendly_event_type=hub.peers["calendly"] + "/event_types/AAAAEVENTTYPE",
          restart_env={"ZHUB_CALENDLY_TOKEN": "calendly-pat"})
    _, bird_id = request(hub, [SLOT])
    sent = wait_until(lambda: whatsapp_sent(hub, "link"), what="the link on WhatsApp")
    link = params(sent[0])["enlace"]
    assert link.startswith("https://calendly.com/d/") and "utm_content=bk" in link
    assert len(peer_state(hub, "calendly")["links"]) == 1
    assert peer_requests(hub, "calendly", "/scheduling_links")[0]["body"]["max_event_count"] == 1
    # the person picks a time on Calendly's page
    status, booked = http("POST", hub.peers["calendly"] + "/__peer/book",
                          {"booking_url": link, "start_time": "2030-03-05T18:00:00Z"})
    assert status == 200
    calendly_publish(hub, booked["webhooks"])
    scheduled = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booked")
    data = scheduled[0]["data"]
    assert scheduled[0]["subject"] == "contact:" + bird_id
    assert data["platform"] == "calendly" and data["start"].startswith("2030-03-05T18:00:00")
    assert data["calendar_event_id"] == booked["webhooks"][0]["payload"]["scheduled_event"]["uri"]
    booking = data["booking_id"]
    # the link was single-use
    status, _ = http("POST", hub.peers["calendly"] + "/__peer/book",
                     {"booking_url": link, "start_time": "2030-03-05T20:00:00Z"})
    assert status == 410
    # rescheduled: canceled (rescheduled) + created, one booking moves
    invitee = booked["webhooks"][0]["payload"]["uri"]
    status, moved = http("POST", hub.peers["calendly"] + "/__peer/reschedule",
                         {"invitee": invitee, "start_time": "2030-03-06T16:00:00Z"})
    calendly_publish(hub, moved["webhooks"])
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 2, what="moved")
    again = bus_messages(hub, "tour.scheduled", quiet=0.3)[1]["data"]
    assert again["booking_id"] == booking and again["start"].startswith("2030-03-06T16:00:00")
    assert bus_messages(hub, "tour.canceled", quiet=0.3) == []
    # canceled for good
    status, gone = http("POST", hub.peers["calendly"] + "/__peer/cancel",
                        {"invitee": moved["webhooks"][1]["payload"]["uri"]})
    calendly_publish(hub, gone["webhooks"])
    canceled = wait_until(lambda: bus_messages(hub, "tour.canceled", quiet=0.5), what="canceled")
    assert canceled[0]["data"]["booking_id"] == booking


def google_changed(hub, calendar, number):
    """What the gateway publishes for a Google push notification."""
    uri = ("https://www.googleapis.com/calendar/v3/calendars/%s/events?alt=json"
           % calendar.replace("@", "%40"))
    publish(hub, "webhook.google.calendar.changed",
            {"channel_id": "zhub-test", "resource_id": "res-1", "resource_state": "exists",
             "message_number": number, "resource_uri": uri}, subject="google:resource:res-1",
            id_="google:zhub-test:%d" % number)


def test_google_change_notifications_move_and_cancel_the_booking(hub):
    start(hub, agents=(ANA,))
    request(hub, [SLOT])
    first = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    booking = first[0]["data"]["booking_id"]
    # scheduler opened a push channel for the calendar, addressed to the gateway
    channels = wait_until(lambda: peer_state(hub, "google")["channels"], what="watch channel")
    assert channels[0]["address"] == hub.gateway_url + "/v1/webhooks/google"
    assert channels[0]["calendar"] == "ana@urbanhub.mx"
    # a person drags the tour to 13:00 local in Google Calendar
    status, _ = http("POST", hub.peers["google"] + "/__peer/change",
                     {"calendar": "ana@urbanhub.mx", "event_id": booking,
                      "start": {"dateTime": "2030-03-05T19:00:00Z"},
                      "end": {"dateTime": "2030-03-05T19:45:00Z"}})
    assert status == 200
    google_changed(hub, "ana@urbanhub.mx", 2)
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 2, what="moved")
    moved = bus_messages(hub, "tour.scheduled", quiet=0.3)[1]["data"]
    assert moved["booking_id"] == booking and moved["start"].startswith("2030-03-05T19:00:00")
    # ...then deletes it
    status, _ = http("POST", hub.peers["google"] + "/__peer/change",
                     {"calendar": "ana@urbanhub.mx", "event_id": booking, "status": "cancelled"})
    google_changed(hub, "ana@urbanhub.mx", 3)
    canceled = wait_until(lambda: bus_messages(hub, "tour.canceled", quiet=0.5), what="canceled")
    assert canceled[0]["data"]["booking_id"] == booking
    # the slot is free again: a new request for 11:00 gets Ana
    request(hub, [SLOT])
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 3, what="rebooked")


def move_google_event(hub, booking, start, end):
    """A person drags the tour in Google Calendar (the stand-in's control)."""
    status, _ = http("POST", hub.peers["google"] + "/__peer/change",
                     {"calendar": "ana@urbanhub.mx", "event_id": booking,
                      "start": {"dateTime": start}, "end": {"dateTime": end}})
    assert status == 200


def event_lists(hub):
    return [r for r in peer_requests(hub, "google", "/calendar/v3/calendars/", "GET")
            if r["path"].endswith("/events")]


def test_google_change_on_a_later_page_of_events_is_not_lost(hub):
    # events.list answers 250 events a page; the moved tour is the last
    # change, on the second page (https://developers.google.com/calendar/api/guides/sync)
    start(hub, agents=(ANA,))
    request(hub, [SLOT])
    first = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    booking = first[0]["data"]["booking_id"]
    status, _ = http("POST", hub.peers["google"] + "/__peer/seed",
                     {"calendar": "ana@urbanhub.mx", "count": 300})
    assert status == 201
    move_google_event(hub, booking, "2030-03-05T19:00:00Z", "2030-03-05T19:45:00Z")
    google_changed(hub, "ana@urbanhub.mx", 2)
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 2, what="moved")
    moved = bus_messages(hub, "tour.scheduled", quiet=0.3)[1]["data"]
    assert moved["booking_id"] == booking and moved["start"].startswith("2030-03-05T19:00:00")
    lists = event_lists(hub)
    assert [("pageToken" in r["params"], r["status"]) for r in lists] == [(False, 200),
                                                                         (True, 200)]
    assert "syncToken" not in lists[0]["params"] and "timeMin" in lists[0]["params"]
    # the next notification reads only what changed since, with the sync token
    # the last page handed out
    move_google_event(hub, booking, "2030-03-05T20:00:00Z", "2030-03-05T20:45:00Z")
    google_changed(hub, "ana@urbanhub.mx", 3)
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 3, what="again")
    last = event_lists(hub)[-1]
    assert "syncToken" in last["params"] and last["status"] == 200
    assert len(event_lists(hub)) == 3


def test_google_stale_sync_token_gives_a_full_resync_not_a_dead_letter(hub):
    # 410 Gone: fullSyncRequired for a stale sync token (updatedMinTooLongAgo
    # for an updatedMin further back than this stand-in's hour):
    # https://developers.google.com/calendar/api/guides/errors#410_gone
    start(hub, agents=(ANA,), google_args=("--updated-min-max-age", "3600"))
    request(hub, [SLOT])
    first = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    booking = first[0]["data"]["booking_id"]
    move_google_event(hub, booking, "2030-03-05T19:00:00Z", "2030-03-05T19:45:00Z")
    google_changed(hub, "ana@urbanhub.mx", 2)
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 2, what="moved")
    # Google drops the calendar's sync tokens; the tour moves again
    status, _ = http("POST", hub.peers["google"] + "/__peer/invalidate_sync_tokens", {})
    assert status == 200
    move_google_event(hub, booking, "2030-03-05T20:00:00Z", "2030-03-05T20:45:00Z")
    google_changed(hub, "ana@urbanhub.mx", 3)
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 3, what="resync")
    moved = bus_messages(hub, "tour.scheduled", quiet=0.3)[2]["data"]
    assert moved["booking_id"] == booking and moved["start"].startswith("2030-03-05T20:00:00")
    lists = event_lists(hub)
    assert [r["status"] for r in lists] == [200, 410, 200]
    assert "syncToken" in lists[1]["params"] and "timeMin" in lists[2]["params"]
    assert bus_messages(hub, "dlq.scheduler", quiet=0.3) == []
    # and the token of that full sync serves the next change
    move_google_event(hub, booking, "2030-03-05T21:00:00Z", "2030-03-05T21:45:00Z")
    google_changed(hub, "ana@urbanhub.mx", 4)
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 4, what="4th")
    assert [r["status"] for r in event_lists(hub)] == [200, 410, 200, 200]
    assert "syncToken" in event_lists(hub)[3]["params"]


def graph_changed(hub, change, user, event_id):
    """What the gateway publishes for one Graph change notification."""
    publish(hub, "webhook.graph." + change,
            {"id": uuid.uuid4().hex, "subscriptionId": "sub-1", "changeType": change,
             "resource": "Users/%s/Events/%s" % (user, event_id), "tenantId": "tenant-1",
             "resourceData": {"@odata.type": "#Microsoft.Graph.Event",
                              "@odata.id": "Users/%s/Events/%s" % (user, event_id),
                              "@odata.etag": 'W/"%s"' % uuid.uuid4().hex, "id": event_id}},
            subject="graph:Users/%s/Events/%s" % (user, event_id)[:200])


def test_graph_change_notifications_move_and_cancel_the_booking(hub):
    start(hub, agents=(LUIS,))
    request(hub, [SLOT])
    first = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    booking, event_id = first[0]["data"]["booking_id"], first[0]["data"]["calendar_event_id"]
    form = ("client_id=graph-client-id&client_secret=graph-client-secret&grant_type="
            "client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
    _, token = http("POST", hub.peers["graph"] + "/t/oauth2/v2.0/token", raw=form.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    auth = {"Authorization": "Bearer " + token["access_token"]}
    event_url = "%s/v1.0/users/luis%%40urbanhub.mx/events/%s" % (hub.peers["graph"], event_id)
    status, _ = http("PATCH", event_url, {"start": {"dateTime": "2030-03-05T20:00:00",
                                                    "timeZone": "UTC"},
                                          "end": {"dateTime": "2030-03-05T20:45:00",
                                                  "timeZone": "UTC"}}, auth)
    assert status == 200
    graph_changed(hub, "updated", "luis@urbanhub.mx", event_id)
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 2, what="moved")
    moved = bus_messages(hub, "tour.scheduled", quiet=0.3)[1]["data"]
    assert moved["booking_id"] == booking and moved["start"].startswith("2030-03-05T20:00:00")
    status, _ = http("DELETE", event_url, headers=auth)
    assert status == 204
    graph_changed(hub, "deleted", "luis@urbanhub.mx", event_id)
    canceled = wait_until(lambda: bus_messages(hub, "tour.canceled", quiet=0.5), what="canceled")
    assert canceled[0]["data"]["booking_id"] == booking


def test_lost_answer_from_google_insert_books_once(hub):
    # The event is made, but the answer comes after our 1 s timeout: the
    # retry's insert with the same id is a 409, and we read the event back.
    start(hub, agents=(ANA,), restart_env={"ZHUB_HTTP_TIMEOUT": "1s"})
    wait_until(lambda: peer_state(hub, "google")["channels"], what="the watch channel first")
    status, _ = http("POST", hub.peers["google"] + "/__peer/faults",
                     {"delay_ms": 1500, "count": 1, "method": "POST",
                      "path_prefix": "/calendar/v3/calendars/"})
    assert status == 201
    # Bird fails once too: the confirmation is retried on its own
    status, _ = http("POST", hub.peers["bird"] + "/__peer/faults",
                     {"status": 503, "count": 1, "path_prefix": "/workspaces/"})
    request(hub, [SLOT])
    scheduled = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), timeout=10,
                           what="booking")
    wait_until(lambda: whatsapp_sent(hub), what="the confirmation")
    time.sleep(1.0)
    inserts = [r for r in peer_requests(hub, "google", "/calendar/v3/calendars/", "POST")
               if r["path"].endswith("/events")]
    assert [r["status"] for r in inserts] == [200, 409]
    assert len(peer_state(hub, "google")["events"]["ana@urbanhub.mx"]) == 1
    assert len(bus_messages(hub, "tour.scheduled", quiet=0.3)) == 1
    assert len(whatsapp_sent(hub)) == 1
    assert scheduled[0]["data"]["calendar_event_id"] == scheduled[0]["data"]["booking_id"]


def test_booked_tour_becomes_a_hubspot_meeting(hub):
    # scheduler and activity-log together: the tour lands in HubSpot
    hub.start_peer("hubspot")
    start(hub, agents=(ANA,))
    bird_id = str(uuid.uuid4())
    status, contact = http("POST", hub.peers["hubspot"] + "/crm/v3/objects/contacts",
                           {"properties": {"email": "tour@example.com",
                                           "bird_contact_id": bird_id}},
                           {"Authorization": "Bearer test-hubspot-token"})
    assert status == 201
    hub.start("activity-log")
    request(hub, [SLOT], bird_id=bird_id)
    meetings = wait_until(lambda: peer_state(hub, "hubspot")["meetings"], what="the meeting")
    props = meetings[0]["properties"]
    assert props["hs_meeting_start_time"].startswith("2030-03-05T17:00:00")
    assert props["hs_meeting_external_url"].startswith("https://www.google.com/calendar/event")
    assert meetings[0]["associations"][0]["id"] == contact["id"]


def test_preferred_time_in_the_past_is_not_booked(hub):
    start(hub, agents=(ANA,), business_hours={"start": "00:00", "end": "24:00",
                                             "days": [0, 1, 2, 3, 4, 5, 6]})
    request(hub, ["2020-03-05T17:00:00Z"])
    unavailable = wait_until(lambda: bus_messages(hub, "tour.unavailable", quiet=0.5),
                             what="unavailable")
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    assert all(a["start"] >= now for a in unavailable[0]["data"]["alternatives"])
    assert peer_state(hub, "google")["events"] == {}
