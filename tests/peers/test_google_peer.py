"""The Google Calendar stand-in behaves as API-FACTS.md section 8 says."""
import sys
import os

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calendar_peer_client import Peer  # noqa: E402

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
