"""The Microsoft Graph stand-in behaves as API-FACTS.md section 8 says."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calendar_peer_client import Peer  # noqa: E402

FORM = "client_id=graph-client-id&client_secret=graph-client-secret" \
       "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&grant_type=client_credentials"
TOKEN_PATH = "/tenant-1/oauth2/v2.0/token"


@pytest.fixture
def graph():
    peer = Peer("graph_peer.py")
    yield peer
    peer.close()


def token(peer):
    status, body, _ = peer.call("POST", TOKEN_PATH, form=FORM)
    assert status == 200 and body["token_type"] == "Bearer"
    return body["access_token"]


def test_graph_client_credentials_token(graph):
    status, body, _ = graph.call("POST", TOKEN_PATH, form=FORM.replace("graph-client-secret", "x"))
    assert status == 401 and body["error"] == "invalid_client"
    status, body, _ = graph.call("POST", TOKEN_PATH, form=FORM.replace("default", "nope"))
    assert status == 400 and body["error"] == "invalid_scope"
    status, body, _ = graph.call("POST", "/v1.0/me/calendar/getSchedule", {})
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationToken"
    token(graph)


def test_graph_events_and_get_schedule(graph):
    t = token(graph)
    event = {"subject": "Tour", "start": {"dateTime": "2030-03-05T17:00:00", "timeZone": "UTC"},
             "end": {"dateTime": "2030-03-05T18:00:00", "timeZone": "UTC"},
             "transactionId": "bk1"}
    status, made, _ = graph.call("POST", "/v1.0/users/luis%40x.mx/calendar/events", event, token=t)
    assert status == 201 and made["webLink"] and made["transactionId"] == "bk1"
    status, again, _ = graph.call("POST", "/v1.0/users/luis%40x.mx/calendar/events", event, token=t)
    assert status == 201 and again["id"] == made["id"]
    graph.call("POST", "/__peer/busy", {"user": "luis@x.mx", "start": "2030-03-05T19:00:00Z",
                                        "end": "2030-03-05T19:30:00Z", "status": "tentative"})
    status, body, _ = graph.call("POST", "/v1.0/users/luis%40x.mx/calendar/getSchedule", {
        "schedules": ["luis@x.mx"], "availabilityViewInterval": 60,
        "startTime": {"dateTime": "2030-03-05T16:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2030-03-05T20:00:00", "timeZone": "UTC"}}, token=t,
        headers={"Prefer": 'outlook.timezone="UTC"'})
    assert status == 200
    info = body["value"][0]
    assert info["scheduleId"] == "luis@x.mx" and info["availabilityView"] == "0201"
    assert [i["status"] for i in info["scheduleItems"]] == ["busy", "tentative"]
    assert info["scheduleItems"][0]["start"]["dateTime"] == "2030-03-05T17:00:00.0000000"
    status, body, _ = graph.call("POST", "/v1.0/users/luis%40x.mx/calendar/getSchedule", {
        "schedules": ["luis@x.mx"], "availabilityViewInterval": 2,
        "startTime": {"dateTime": "2030-03-05T16:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2030-03-05T20:00:00", "timeZone": "UTC"}}, token=t)
    assert status == 400


def test_graph_throttling_fault_has_retry_after(graph):
    t = token(graph)
    graph.call("POST", "/__peer/faults", {"status": 429, "retry_after": 3})
    status, body, headers = graph.call("GET", "/v1.0/users/a%40b.c/events", token=t)
    assert status == 429 and headers["Retry-After"] == "3"
    assert body["error"]["code"] == "TooManyRequests"
