"""The Calendly stand-in behaves as https://developer.calendly.com/api-docs says."""
import hashlib
import hmac
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calendar_peer_client import Peer  # noqa: E402
import calendly_peer  # noqa: E402


@pytest.fixture
def calendly():
    peer = Peer("calendly_peer.py")
    yield peer
    peer.close()


def test_calendly_signature_matches_the_documented_scheme():
    sig = calendly_peer.signature("key", b'{"a":1}', stamp=1700000000)
    t, v1 = [part.split("=", 1)[1] for part in sig.split(",")]
    assert t == "1700000000"
    assert v1 == hmac.new(b"key", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()


def test_calendly_single_use_link_books_once_with_tracking(calendly):
    status, body, _ = calendly.call("POST", "/scheduling_links", {"max_event_count": 1})
    assert status == 401 and body["title"] == "Unauthenticated"
    owner = calendly.url + "/event_types/AAAAEVENTTYPE"
    status, body, _ = calendly.call("POST", "/scheduling_links", {
        "max_event_count": 1, "owner": calendly.url + "/event_types/NOPE",
        "owner_type": "EventType"}, token="pat")
    assert status == 400 and body["details"][0]["parameter"] == "owner"
    status, body, _ = calendly.call("POST", "/scheduling_links", {
        "max_event_count": 1, "owner": owner, "owner_type": "EventType"}, token="pat")
    assert status == 201
    url = body["resource"]["booking_url"] + "?utm_content=bk42"
    status, body, _ = calendly.call("POST", "/__peer/book",
                                    {"booking_url": url, "start_time": "2030-03-05T18:00:00Z"})
    assert status == 200
    created = body["webhooks"][0]
    assert created["event"] == "invitee.created"
    payload = created["payload"]
    assert payload["tracking"]["utm_content"] == "bk42"
    assert payload["scheduled_event"]["start_time"] == "2030-03-05T18:00:00.000000Z"
    status, _, _ = calendly.call("POST", "/__peer/book",
                                 {"booking_url": url, "start_time": "2030-03-05T19:00:00Z"})
    assert status == 410
    status, body, _ = calendly.call("GET", payload["event"][len(calendly.url):], token="pat")
    assert status == 200 and body["resource"]["status"] == "active"
    # reschedule: canceled (rescheduled) then created (old_invitee)
    status, body, _ = calendly.call("POST", "/__peer/reschedule",
                                    {"invitee": payload["uri"],
                                     "start_time": "2030-03-06T16:00:00Z"})
    canceled, again = body["webhooks"]
    assert canceled["event"] == "invitee.canceled" and canceled["payload"]["rescheduled"]
    assert again["payload"]["old_invitee"] == payload["uri"]
    assert canceled["payload"]["new_invitee"] == again["payload"]["uri"]


def test_calendly_current_user(calendly):
    status, body, _ = calendly.call("GET", "/users/me")
    assert status == 401 and body["title"] == "Unauthenticated"
    status, body, _ = calendly.call("GET", "/users/me", token="pat")
    assert status == 200
    user = body["resource"]
    assert user["resource_type"] == "User" and user["uri"].startswith(calendly.url + "/users/")
    assert user["current_organization"].startswith(calendly.url + "/organizations/")
    status, again, _ = calendly.call("GET", user["uri"][len(calendly.url):], token="pat")
    assert status == 200 and again["resource"]["uri"] == user["uri"]
    status, _, _ = calendly.call("GET", "/users/NOSUCHUSER", token="pat")
    assert status == 404
