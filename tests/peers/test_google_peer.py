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
    status, _, _ = google.call("POST", "/calendar/v3/calendars/a%40b.c/events/watch", body,
                               token=t)
    assert status == 200
    status, err, _ = google.call("POST", "/calendar/v3/calendars/a%40b.c/events/watch", body,
                                 token=t)
    assert status == 400 and err["error"]["errors"][0]["reason"] == "channelIdNotUnique"
