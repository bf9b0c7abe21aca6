"""The Google Calendar stand-in behaves as https://developers.google.com/calendar/api/v3/reference says."""
import sys
import os
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calendar_peer_client import Peer, Receiver  # noqa: E402

FORM = "client_id=google-client-id&client_secret=google-client-secret" \
       "&refresh_token=google-refresh-token&grant_type=refresh_token"


@pytest.fixture
def google():
    peer = Peer("google_peer.py", "--token-ttl", "60")
    yield peer
    peer.close()


def token(peer):
    status, body, _ = peer.call("POST", "/token", form=FORM)
    assert status == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 60
    return body["access_token"]


def test_google_token_endpoint_wants_form_and_valid_grant(google):
    status, body, _ = google.call("POST", "/token", form=FORM.replace("google-refresh-token", "x"))
    assert status == 400 and body["error"] == "invalid_grant"
    status, body, _ = google.call("POST", "/token", form=FORM.replace("secret=google", "secret=g"))
    assert status == 401 and body["error"] == "invalid_client"
    status, body, _ = google.call("POST", "/token", body={"grant_type": "refresh_token"})
    assert status == 400
    token(google)


def test_google_calls_need_a_live_token(google):
    status, body, _ = google.call("POST", "/calendar/v3/freeBusy", {"timeMin": "x"})
    assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
    t = token(google)
    google.call("POST", "/__peer/expire_tokens", {})
    status, _, _ = google.call("GET", "/calendar/v3/calendars/a%40b.c/events", token=t)
    assert status == 401


def test_google_insert_with_own_id_is_409_on_repeat_and_shows_in_freebusy(google):
    t = token(google)
    event = {"id": "bk0123456789abcdef", "summary": "Tour",
             "start": {"dateTime": "2030-03-05T17:00:00Z"},
             "end": {"dateTime": "2030-03-05T17:45:00Z"}}
    status, body, _ = google.call("POST", "/calendar/v3/calendars/ana%40x.mx/events?sendUpdates=all",
                                  event, token=t)
    assert status == 200 and body["id"] == event["id"] and body["htmlLink"]
    status, body, _ = google.call("POST", "/calendar/v3/calendars/ana%40x.mx/events", event,
                                  token=t)
    assert status == 409 and body["error"]["errors"][0]["reason"] == "duplicate"
    status, _, _ = google.call("POST", "/calendar/v3/calendars/ana%40x.mx/events",
                               dict(event, id="NOT-base32hex!"), token=t)
    assert status == 400
    status, body, _ = google.call("POST", "/calendar/v3/freeBusy", {
        "timeMin": "2030-03-05T00:00:00Z", "timeMax": "2030-03-06T00:00:00Z",
        "items": [{"id": "ana@x.mx"}, {"id": "luis@x.mx"}]}, token=t)
    assert status == 200 and body["kind"] == "calendar#freeBusy"
    assert body["calendars"]["ana@x.mx"]["busy"] == [
        {"start": "2030-03-05T17:00:00Z", "end": "2030-03-05T17:45:00Z"}]
    assert body["calendars"]["luis@x.mx"]["busy"] == []


def test_google_fault_injection_gives_google_error_shape(google):
    t = token(google)
    google.call("POST", "/__peer/faults", {"status": 429, "count": 1, "retry_after": 2})
    status, body, headers = google.call("POST", "/calendar/v3/freeBusy", {}, token=t)
    assert status == 429 and headers["Retry-After"] == "2"
    assert body["error"]["errors"][0]["reason"] == "rateLimitExceeded"


def test_google_403_rate_limit_fault_has_the_errors_guide_body(google):
    # https://developers.google.com/calendar/api/guides/errors: "403: Rate
    # limit exceeded" and "403: User rate limit exceeded" (domain usageLimits)
    t = token(google)
    google.call("POST", "/__peer/faults", [{"status": 403, "count": 1},
                                           {"status": 403, "reason": "userRateLimitExceeded"},
                                           {"status": 403, "reason": "forbiddenForNonOrganizer"}])
    status, body, _ = google.call("POST", "/calendar/v3/freeBusy", {}, token=t)
    assert status == 403
    assert body == {"error": {"errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded",
                                          "message": "Rate Limit Exceeded"}],
                              "code": 403, "message": "Rate Limit Exceeded"}}
    status, body, _ = google.call("POST", "/calendar/v3/freeBusy", {}, token=t)
    assert status == 403 and body["error"]["errors"][0] == {
        "domain": "usageLimits", "reason": "userRateLimitExceeded",
        "message": "User Rate Limit Exceeded"}
    status, body, _ = google.call("POST", "/calendar/v3/freeBusy", {}, token=t)
    assert status == 403 and body["error"]["errors"][0]["reason"] == "forbiddenForNonOrganizer"
    assert body["error"]["errors"][0]["domain"] == "calendar"


EVENTS = "/calendar/v3/calendars/ana%40x.mx/events"


def list_all(peer, t, query):
    """Every page of an events.list; returns (items, page count, nextSyncToken)."""
    items, pages, page = [], 0, None
    while True:
        path = EVENTS + "?" + query + ("&pageToken=" + page if page else "")
        status, body, _ = peer.call("GET", path, token=t)
        assert status == 200, body
        pages += 1
        items += body["items"]
        page = body.get("nextPageToken")
        if not page:
            return items, pages, body.get("nextSyncToken")
        assert "nextSyncToken" not in body  # only on the last page


def test_google_events_list_pages_and_hands_a_sync_token_on_the_last_page(google):
    t = token(google)
    status, _, _ = google.call("POST", "/__peer/seed", {"calendar": "ana@x.mx", "count": 260})
    assert status == 201
    # maxResults defaults to 250
    status, body, _ = google.call("GET", EVENTS, token=t)
    assert len(body["items"]) == 250 and body["nextPageToken"] and "nextSyncToken" not in body
    items, pages, sync = list_all(google, t, "singleEvents=true")
    assert pages == 2 and len({e["id"] for e in items}) == 260 and sync
    items, pages, _ = list_all(google, t, "maxResults=100")
    assert pages == 3 and len(items) == 260
    # never more than 2500 a page; below 1 is refused
    status, body, _ = google.call("GET", EVENTS + "?maxResults=5000", token=t)
    assert status == 200 and len(body["items"]) == 260
    status, body, _ = google.call("GET", EVENTS + "?maxResults=0", token=t)
    assert status == 400 and body["error"]["errors"][0]["location"] == "maxResults"
    # an incremental sync: only what changed since, deleted events included
    google.call("DELETE", EVENTS + "/" + items[0]["id"], token=t)
    google.call("PATCH", EVENTS + "/" + items[1]["id"], {"summary": "moved"}, token=t)
    changed, pages, sync2 = list_all(google, t, "singleEvents=true&syncToken=" + sync)
    assert pages == 1 and sync2 != sync
    assert [(e["id"], e["status"]) for e in changed] == [(items[0]["id"], "cancelled"),
                                                          (items[1]["id"], "confirmed")]
    assert list_all(google, t, "syncToken=" + sync2)[0] == []
    # a sync token goes with none of the filters
    for extra in ("timeMin=2030-01-01T00:00:00Z", "updatedMin=2030-01-01T00:00:00Z", "q=x"):
        status, body, _ = google.call("GET", EVENTS + "?syncToken=%s&%s" % (sync2, extra),
                                      token=t)
        assert status == 400, extra
    status, body, _ = google.call("GET", EVENTS + "?pageToken=nonsense", token=t)
    assert status == 400 and body["error"]["errors"][0]["location"] == "pageToken"


def test_google_stale_sync_token_and_old_updated_min_are_410(google):
    # https://developers.google.com/calendar/api/guides/errors "410: Gone"
    t = token(google)
    google.call("POST", "/__peer/seed", {"calendar": "ana@x.mx", "count": 3})
    _, _, sync = list_all(google, t, "singleEvents=true")
    google.call("POST", "/__peer/invalidate_sync_tokens", {})
    status, body, _ = google.call("GET", EVENTS + "?syncToken=" + sync, token=t)
    message = "Sync token is no longer valid, a full sync is required."
    assert status == 410 and body == {"error": {"errors": [{
        "domain": "calendar", "reason": "fullSyncRequired", "message": message,
        "locationType": "parameter", "location": "syncToken"}], "code": 410, "message": message}}
    # a full sync hands out a token that works again
    items, _, sync = list_all(google, t, "singleEvents=true")
    assert len(items) == 3 and list_all(google, t, "syncToken=" + sync)[0] == []
    status, body, _ = google.call("GET", EVENTS + "?updatedMin=2000-01-01T00:00:00Z", token=t)
    assert status == 410 and body["error"]["errors"][0]["reason"] == "updatedMinTooLongAgo"
    assert body["error"]["errors"][0]["location"] == "updatedMin"
    assert body["error"]["message"] == \
        "The requested minimum modification time lies too far in the past."


def test_google_time_min_keeps_events_ending_after_it(google):
    t = token(google)
    google.call("POST", "/__peer/seed", {"calendar": "ana@x.mx", "count": 3,
                                         "start": "2030-03-05T10:00:00Z"})
    # the first event ends at 10:30 on the 5th; the others a day apart
    items, _, _ = list_all(google, t, "timeMin=2030-03-05T10:30:00Z")
    assert len(items) == 2
    items, _, _ = list_all(google, t, "timeMin=2030-03-05T10:29:00Z&timeMax=2030-03-06T10:00:00Z")
    assert len(items) == 1


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_google_watch_answers_a_channel_pushes_sync_and_stop_silences_it(google):
    hook = Receiver()
    try:
        t = token(google)
        expiration = int(time.time() * 1000) + 3600000
        status, channel, _ = google.call(
            "POST", "/calendar/v3/calendars/ana%40x.mx/events/watch",
            {"id": "0b9a7e0c-2f1d-4a55-9d0e-6f1f5a1c2b3d", "type": "web_hook",
             "address": hook.url, "token": "chan-token", "expiration": expiration}, token=t)
        assert status == 200
        assert channel["kind"] == "api#channel" and channel["resourceId"]
        assert channel["id"] == "0b9a7e0c-2f1d-4a55-9d0e-6f1f5a1c2b3d"
        assert channel["expiration"] == str(expiration) and channel["token"] == "chan-token"
        assert channel["resourceUri"].endswith("/calendars/ana@x.mx/events?alt=json")
        # the first notification: sync, message number 1, empty body, our token
        wait_for(lambda: hook.received)
        sync = hook.received[0]
        assert sync["body"] == b"" and sync["headers"]["x-goog-resource-state"] == "sync"
        assert sync["headers"]["x-goog-message-number"] == "1"
        assert sync["headers"]["x-goog-channel-token"] == "chan-token"
        assert sync["headers"]["x-goog-channel-id"] == channel["id"]
        assert sync["headers"]["x-goog-resource-id"] == channel["resourceId"]
        # a change is pushed ("exists") ...
        event = {"id": "bk00112233", "start": {"dateTime": "2030-03-05T17:00:00Z"},
                 "end": {"dateTime": "2030-03-05T17:45:00Z"}}
        google.call("POST", "/calendar/v3/calendars/ana%40x.mx/events", event, token=t)
        wait_for(lambda: len(hook.received) == 2)
        assert hook.received[1]["headers"]["x-goog-resource-state"] == "exists"
        assert int(hook.received[1]["headers"]["x-goog-message-number"]) > 1
        # ... until the channel is stopped; a second stop is a 404
        stop = {"id": channel["id"], "resourceId": channel["resourceId"]}
        status, body, _ = google.call("POST", "/calendar/v3/channels/stop", stop, token=t)
        assert status == 204 and body is None
        status, body, _ = google.call("POST", "/calendar/v3/channels/stop", stop, token=t)
        assert status == 404 and body["error"]["errors"][0]["reason"] == "notFound"
        google.call("PATCH", "/calendar/v3/calendars/ana%40x.mx/events/bk00112233",
                    {"summary": "moved"}, token=t)
        time.sleep(0.3)
        assert len(hook.received) == 2
        _, state, _ = google.call("GET", "/__peer/state")
        assert [c["stopped"] for c in state["channels"]] == [True]
    finally:
        hook.close()


def test_google_watch_and_stop_need_a_token_and_a_valid_channel(google):
    body = {"id": "c1", "type": "web_hook", "address": "http://127.0.0.1:9/x"}
    status, _, _ = google.call("POST", "/calendar/v3/calendars/a%40b.c/events/watch", body)
    assert status == 401
    status, _, _ = google.call("POST", "/calendar/v3/channels/stop", {"id": "c1"})
    assert status == 401
    t = token(google)
    status, err, _ = google.call("POST", "/calendar/v3/calendars/a%40b.c/events/watch",
                                 dict(body, type="email"), token=t)
    assert status == 400 and err["error"]["errors"][0]["reason"] == "invalid"
    # Google delivers over https only (push.webhookUrlNotHttps); this machine is exempt
    status, err, _ = google.call("POST", "/calendar/v3/calendars/a%40b.c/events/watch",
                                 dict(body, address="http://hooks.example.com/x"), token=t)
    assert status == 400 and err["error"]["errors"][0]["reason"] == "push.webhookUrlNotHttps"
    assert err["error"]["message"] == "WebHook callback must be HTTPS: http://hooks.example.com/x"
    status, _, _ = google.call("POST", "/calendar/v3/calendars/a%40b.c/events/watch", body,
                               token=t)
    assert status == 200
    status, err, _ = google.call("POST", "/calendar/v3/calendars/a%40b.c/events/watch", body,
                                 token=t)
    assert status == 400 and err["error"]["errors"][0]["reason"] == "channelIdNotUnique"
