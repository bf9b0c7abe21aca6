"""The Microsoft Graph stand-in behaves as https://learn.microsoft.com/graph/api/resources/event says."""
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calendar_peer_client import Peer, Receiver  # noqa: E402

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


def test_graph_app_tokens_need_one_tenant_not_an_alias(graph):
    # client credentials on /common, /organizations or /consumers: the
    # identity platform's AADSTS50059 in its error body
    for alias in ("common", "organizations", "consumers", "Common"):
        status, body, _ = graph.call("POST", "/%s/oauth2/v2.0/token" % alias, form=FORM)
        assert status == 400, alias
        assert body["error"] == "invalid_request" and body["error_codes"] == [50059]
        assert body["error_description"].startswith(
            "AADSTS50059: No tenant-identifying information found in either the request or "
            "implied by any provided credentials.\r\nTrace ID: ")
        assert set(body) == {"error", "error_description", "error_codes", "timestamp",
                             "trace_id", "correlation_id", "error_uri"}
        assert body["error_uri"] == "https://login.microsoftonline.com/error?code=50059"
    # a tenant id or a domain gets a token
    for tenant in ("72f988bf-86f1-41af-91ab-2d7cd011db47", "contoso.onmicrosoft.com"):
        status, body, _ = graph.call("POST", "/%s/oauth2/v2.0/token" % tenant, form=FORM)
        assert status == 200 and body["access_token"]


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


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def in_minutes(minutes):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + minutes * 60))


def subscription(url, user="luis@x.mx", **extra):
    body = {"changeType": "updated,deleted", "notificationUrl": url,
            "resource": "/users/%s/events" % user, "expirationDateTime": in_minutes(60),
            "clientState": "our-secret-state"}
    body.update(extra)
    return body


def test_graph_subscription_proves_the_url_then_notifies_changes(graph):
    hook = Receiver()
    try:
        t = token(graph)
        status, sub, _ = graph.call("POST", "/v1.0/subscriptions", subscription(hook.url), token=t)
        assert status == 201, sub
        assert sub["id"] and sub["notificationUrl"] == hook.url
        assert sub["changeType"] == "updated,deleted" and sub["clientState"] == "our-secret-state"
        assert sub["expirationDateTime"].endswith("0000Z")
        # the handshake came first: text/plain, the token URL-encoded in the query
        check = hook.received[0]
        assert check["headers"]["content-type"].startswith("text/plain")
        assert check["query"]["validationToken"].startswith("Validation: Testing client")
        assert "%3A%20Testing%20client" in check["raw_query"]
        # an event made, then moved and deleted through the API: no "created"
        # (not asked for), one "updated", one "deleted", with our clientState
        event = {"subject": "Tour", "start": {"dateTime": "2030-03-05T17:00:00", "timeZone": "UTC"},
                 "end": {"dateTime": "2030-03-05T18:00:00", "timeZone": "UTC"}}
        _, made, _ = graph.call("POST", "/v1.0/users/luis%40x.mx/calendar/events", event, token=t)
        graph.call("PATCH", "/v1.0/users/luis%40x.mx/events/" + made["id"],
                   {"start": {"dateTime": "2030-03-05T19:00:00", "timeZone": "UTC"},
                    "end": {"dateTime": "2030-03-05T20:00:00", "timeZone": "UTC"}}, token=t)
        graph.call("DELETE", "/v1.0/users/luis%40x.mx/events/" + made["id"], token=t)
        wait_for(lambda: len(hook.received) == 3)
        notes = [json.loads(r["body"])["value"][0] for r in hook.received[1:]]
        assert [n["changeType"] for n in notes] == ["updated", "deleted"]
        for n in notes:
            assert n["subscriptionId"] == sub["id"] and n["clientState"] == "our-secret-state"
            assert n["resourceData"]["id"] == made["id"]
            assert n["resource"] == "Users/luis@x.mx/Events/" + made["id"]
            assert n["resourceData"]["@odata.type"] == "#Microsoft.Graph.Event"
        assert hook.received[1]["headers"]["content-type"] == "application/json"
        # a person's edit (control endpoint) notifies too
        _, again, _ = graph.call("POST", "/v1.0/users/luis%40x.mx/calendar/events", event, token=t)
        status, changed, _ = graph.call("POST", "/__peer/change", {
            "user": "luis@x.mx", "event_id": again["id"], "start": "2030-03-06T17:00:00Z",
            "end": "2030-03-06T18:00:00Z"})
        assert status == 200 and changed["sent"] == 1
        assert changed["start"]["dateTime"] == "2030-03-06T17:00:00.0000000"
        status, sent, _ = graph.call("POST", "/__peer/notify", {
            "user": "luis@x.mx", "event_id": again["id"], "change": "deleted"})
        assert status == 200 and sent["sent"] == 1
        wait_for(lambda: len(hook.received) == 5)
    finally:
        hook.close()


def test_graph_subscription_fails_when_the_url_does_not_echo_the_token(graph):
    hook = Receiver(echo_validation=False)
    try:
        t = token(graph)
        status, err, _ = graph.call("POST", "/v1.0/subscriptions", subscription(hook.url), token=t)
        assert status == 400 and err["error"]["code"] == "InvalidRequest"
        assert err["error"]["message"].startswith("Subscription validation request failed.")
        _, state, _ = graph.call("GET", "/__peer/state")
        assert state["subscriptions"] == [] and state["validations"][0]["ok"] is False
        # nobody listening at all: the same
        status, err, _ = graph.call("POST", "/v1.0/subscriptions",
                                    subscription("http://127.0.0.1:9/nothing"), token=t)
        assert status == 400 and "validation request failed" in err["error"]["message"]
    finally:
        hook.close()


def test_graph_subscription_rules_renewal_and_listing(graph):
    hook = Receiver()
    try:
        status, _, _ = graph.call("POST", "/v1.0/subscriptions", subscription(hook.url))
        assert status == 401
        t = token(graph)
        for bad in ({"clientState": None}, {"clientState": "x" * 129},
                    {"notificationUrl": "http://hooks.example.com/v1/webhooks/graph"},
                    {"changeType": "updated,renamed"}, {"resource": "/users/a%40b.c/messages"},
                    {"expirationDateTime": in_minutes(4300)},
                    {"expirationDateTime": in_minutes(-1)}):
            status, err, _ = graph.call("POST", "/v1.0/subscriptions",
                                        subscription(hook.url, **bad), token=t)
            assert status == 400 and err["error"]["code"] == "InvalidRequest", bad
        status, sub, _ = graph.call("POST", "/v1.0/subscriptions",
                                    subscription(hook.url, expirationDateTime=in_minutes(4229),
                                                 clientState="x" * 128),
                                    token=t)
        assert status == 201
        status, listed, _ = graph.call("GET", "/v1.0/subscriptions", token=t)
        assert status == 200 and [s["id"] for s in listed["value"]] == [sub["id"]]
        # the list never shows clientState (subscription-list: "not returned
        # for security purposes")
        assert listed["value"][0]["clientState"] is None
        status, renewed, _ = graph.call("PATCH", "/v1.0/subscriptions/" + sub["id"],
                                        {"expirationDateTime": in_minutes(120)}, token=t)
        assert status == 200 and renewed["expirationDateTime"] < sub["expirationDateTime"]
        assert renewed["expirationDateTime"][:16] == in_minutes(120)[:16]
        status, err, _ = graph.call("PATCH", "/v1.0/subscriptions/nope",
                                    {"expirationDateTime": in_minutes(120)}, token=t)
        assert status == 404 and err["error"]["code"] == "ResourceNotFound"
        status, _, _ = graph.call("DELETE", "/v1.0/subscriptions/" + sub["id"], token=t)
        assert status == 204
        status, _, _ = graph.call("PATCH", "/v1.0/subscriptions/" + sub["id"],
                                  {"expirationDateTime": in_minutes(120)}, token=t)
        assert status == 404
        # one that expires is gone too: PATCH answers 404
        status, short, _ = graph.call("POST", "/v1.0/subscriptions",
                                      subscription(hook.url, expirationDateTime=in_minutes(0.03)),
                                      token=t)
        assert status == 201
        time.sleep(2.0)
        status, _, _ = graph.call("PATCH", "/v1.0/subscriptions/" + short["id"],
                                  {"expirationDateTime": in_minutes(120)}, token=t)
        assert status == 404
        assert graph.call("GET", "/v1.0/subscriptions", token=t)[1]["value"] == []
    finally:
        hook.close()


def test_graph_subscription_list_comes_in_pages_with_next_links():
    # https://learn.microsoft.com/graph/api/subscription-list: "When a request
    # returns multiple pages of data, the response includes an
    # @odata.nextLink property"
    peer = Peer("graph_peer.py", "--subscriptions-page-size", "2")
    hook = Receiver()
    try:
        t = token(peer)
        made = []
        for user in ("a@x.mx", "b@x.mx", "c@x.mx", "d@x.mx", "e@x.mx"):
            status, sub, _ = peer.call("POST", "/v1.0/subscriptions",
                                       subscription(hook.url, user=user), token=t)
            assert status == 201
            made.append(sub["id"])
        seen, path, pages = [], "/v1.0/subscriptions", 0
        while path:
            status, body, _ = peer.call("GET", path, token=t)
            assert status == 200 and len(body["value"]) <= 2
            seen += [s["id"] for s in body["value"]]
            pages += 1
            link = body.get("@odata.nextLink")
            assert link is None or link.startswith(peer.url + "/v1.0/subscriptions?$skiptoken=")
            path = link[len(peer.url):] if link else None
        assert pages == 3 and seen == made
    finally:
        hook.close()
        peer.close()
