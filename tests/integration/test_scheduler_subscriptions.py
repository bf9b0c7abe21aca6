"""zhub-scheduler keeps calendar change notifications flowing: it opens a
Google watch channel per agent calendar and a Microsoft Graph subscription
per agent mailbox (Graph's validation handshake answered by the real
gateway), renews them before they end — across a restart, without a
second subscription — and a change a person makes in the calendar reaches
the scheduler through the gateway and moves or cancels the booking."""
import calendar
import json
import os
import time

from harness import wait_until
from peer_http import bus_messages, http, peer_requests, peer_state
from test_scheduler import ANA, LUIS, SECRET_KEY, SLOT, request

CHANNEL_TOKEN = "it-google-channel-token"
CLIENT_STATE = "it-graph-client-state"


def boot(hub, agents=(ANA, LUIS), graph_args=(), before_scheduler=None, **env):
    """Stand-ins, broker, gateway, then the scheduler (the gateway first:
    Graph proves it before it answers the subscription); before_scheduler(hub)
    runs just before the scheduler starts."""
    hub.env.update({"ZHUB_GOOGLE_CHANNEL_TOKEN": CHANNEL_TOKEN,
                    "ZHUB_GRAPH_CLIENT_STATE": CLIENT_STATE})
    hub.start_peer("google")
    hub.start_peer("graph", *graph_args)
    hub.start_peer("bird")
    hub.start("broker")
    hub.start("gateway")
    path = os.path.join(hub.tmp, "mapping.json")
    with open(path, "w") as f:
        json.dump({"scheduler": {
            "time_zone": "America/Mexico_City", "buffer": "15m",
            "business_hours": {"start": "09:00", "end": "19:00", "days": [0, 1, 2, 3, 4, 5, 6]},
            "bird_channel_id": "52ad151f-f7b4-46f9-a5c6-d3318e650c84", "agents": list(agents)}}, f)
    hub.scheduler_env = {
        "ZHUB_MAPPING_FILE": path, "ZHUB_SECRET_KEY": SECRET_KEY,
        "ZHUB_GOOGLE_CLIENT_ID": "google-client-id",
        "ZHUB_GOOGLE_CLIENT_SECRET": "google-client-secret",
        "ZHUB_GOOGLE_REFRESH_TOKEN": "google-refresh-token",
        "ZHUB_GOOGLE_TOKEN_URL": hub.peers["google"] + "/token",
        "ZHUB_GRAPH_CLIENT_ID": "graph-client-id",
        "ZHUB_GRAPH_CLIENT_SECRET": "graph-client-secret",
        "ZHUB_GRAPH_BASE_URL": hub.peers["graph"] + "/v1.0",
        "ZHUB_GRAPH_TOKEN_URL": hub.peers["graph"] + "/{tenant}/oauth2/v2.0/token",
        "ZHUB_GRAPH_TENANT_ID": "contoso.onmicrosoft.com",
        "ZHUB_BACKOFF": "200ms"}
    hub.scheduler_env.update(env)
    if before_scheduler:
        before_scheduler(hub)
    return hub.start("scheduler", extra_env=hub.scheduler_env)


def graph_auth(hub):
    """A Graph stand-in token of our own, as a test's Authorization header."""
    form = ("client_id=graph-client-id&client_secret=graph-client-secret&grant_type="
            "client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
    _, token = http("POST", hub.peers["graph"] + "/t/oauth2/v2.0/token", raw=form.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    return {"Authorization": "Bearer " + token["access_token"]}


def live_channels(hub):
    return [c for c in peer_state(hub, "google")["channels"] if not c["stopped"]]


def live_subscriptions(hub):
    return [s for s in peer_state(hub, "graph")["subscriptions"] if s["live"]]


def deliveries(hub, kind, path):
    return [d for d in peer_state(hub, kind)["webhook_deliveries"] if d["url"].endswith(path)]


def test_channel_and_subscription_are_made_and_proved_through_the_gateway(hub):
    boot(hub)
    channel = wait_until(lambda: live_channels(hub), what="the Google channel")[0]
    assert channel["calendar"] == "ana@urbanhub.mx"
    assert channel["address"] == hub.gateway_url + "/v1/webhooks/google"
    assert channel["token"] == CHANNEL_TOKEN
    week = 7 * 86400 * 1000
    assert abs(int(channel["expiration"]) - (time.time() * 1000 + week)) < 60000
    # Google's first notification (sync) carried the token, and the gateway took it
    sync = wait_until(lambda: deliveries(hub, "google", "/v1/webhooks/google"), what="sync")[0]
    assert sync["headers"]["X-Goog-Resource-State"] == "sync"
    assert sync["headers"]["X-Goog-Channel-Token"] == CHANNEL_TOKEN and sync["status"] == 200

    sub = wait_until(lambda: live_subscriptions(hub), what="the Graph subscription")[0]
    assert sub["resource"] == "/users/luis@urbanhub.mx/events"
    assert sub["notificationUrl"] == hub.gateway_url + "/v1/webhooks/graph"
    assert sub["clientState"] == CLIENT_STATE
    assert set(sub["changeType"].split(",")) == {"updated", "deleted"}
    # about 70 hours ahead: under Graph's 4230 minutes for events
    until = calendar.timegm(time.strptime(sub["expirationDateTime"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert abs(until - (time.time() + 70 * 3600)) < 60
    [made] = peer_requests(hub, "graph", "/v1.0/subscriptions", "POST")
    assert made["status"] == 201
    validation = peer_state(hub, "graph")["validations"]
    assert [v["ok"] for v in validation] == [True] and validation[0]["status"] == 200
    proc = hub.procs[-1]
    log = wait_until(lambda: "platform=graph calendar=luis@urbanhub.mx" in proc.log_text()
                     and proc.log_text(), what="the log line")
    assert "event=watch_created platform=google calendar=ana@urbanhub.mx" in log
    assert "event=watch_created platform=graph calendar=luis@urbanhub.mx" in log
    # secrets never reach the log
    assert CHANNEL_TOKEN not in log and CLIENT_STATE not in log


def test_short_lifetimes_are_renewed_in_time_across_a_restart_without_a_second_subscription(hub):
    env = {"ZHUB_GOOGLE_WATCH_TTL": "6s", "ZHUB_GRAPH_SUBSCRIPTION_TTL": "6s"}
    proc = boot(hub, **env)
    first = wait_until(lambda: live_channels(hub), what="the channel")[0]
    sub = wait_until(lambda: live_subscriptions(hub), what="the subscription")[0]
    # renewed halfway (3 s): a new channel, the old one stopped; the
    # subscription extended in place
    renewals = lambda: [r for r in peer_requests(hub, "graph", "/v1.0/subscriptions/", "PATCH")
                        if r["status"] == 200]
    wait_until(renewals, timeout=8, what="a PATCH of the subscription")
    wait_until(lambda: any(c["stopped"] for c in peer_state(hub, "google")["channels"]),
               timeout=8, what="the old channel stopped")
    channels = peer_state(hub, "google")["channels"]
    assert channels[0]["id"] == first["id"] and channels[0]["stopped"]
    assert channels[1]["id"] != first["id"]
    assert [s["id"] for s in live_subscriptions(hub)] == [sub["id"]]

    # restart just after a renewal: the durable timers carry on
    seen = len(renewals())
    wait_until(lambda: len(renewals()) > seen, timeout=8, what="another renewal")
    assert proc.stop() == 0
    proc = hub.start("scheduler", extra_env=hub.scheduler_env)
    seen = len(renewals())
    wait_until(lambda: len(renewals()) >= seen + 2, timeout=12, what="renewals after the restart")
    creates = peer_requests(hub, "graph", "/v1.0/subscriptions", "POST")
    assert len(creates) == 1, "the restart made a second subscription"
    assert [s["id"] for s in live_subscriptions(hub)] == [sub["id"]]
    assert all(r["path"].endswith(sub["id"]) for r in renewals())
    # never more than one Google channel left running (the newest)
    wait_until(lambda: len(live_channels(hub)) == 1, what="one live channel")
    assert len(peer_state(hub, "google")["channels"]) >= 4
    # (one log file for both runs) the restart armed nothing new
    assert proc.log_text().count("event=watch_armed") == 1


def test_graph_subscription_that_expired_is_made_again(hub):
    boot(hub, agents=(LUIS,), ZHUB_GRAPH_SUBSCRIPTION_TTL="6s")
    sub = wait_until(lambda: live_subscriptions(hub), what="the subscription")[0]
    # Graph forgets it (expired, or deleted by an administrator)
    form = ("client_id=graph-client-id&client_secret=graph-client-secret&grant_type="
            "client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
    _, token = http("POST", hub.peers["graph"] + "/t/oauth2/v2.0/token", raw=form.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    status, _ = http("DELETE", hub.peers["graph"] + "/v1.0/subscriptions/" + sub["id"],
                     headers={"Authorization": "Bearer " + token["access_token"]})
    assert status == 204
    # the renewal's PATCH gets a 404, and a new one is made (and proved)
    again = wait_until(lambda: live_subscriptions(hub), timeout=8, what="a new subscription")[0]
    assert again["id"] != sub["id"]
    patches = peer_requests(hub, "graph", "/v1.0/subscriptions/", "PATCH")
    assert patches[0]["status"] == 404
    assert [v["ok"] for v in peer_state(hub, "graph")["validations"]] == [True, True]


def test_a_subscription_listed_on_a_later_page_is_adopted_not_made_twice(hub):
    # Graph already holds our subscription for Luis (made by an attempt whose
    # answer was lost), but GET /subscriptions shows another one first and
    # pages with @odata.nextLink (https://learn.microsoft.com/graph/api/subscription-list)
    made = {}

    def earlier_attempt(hub):
        auth = graph_auth(hub)
        for user in ("someone@urbanhub.mx", "luis@urbanhub.mx"):
            status, sub = http("POST", hub.peers["graph"] + "/v1.0/subscriptions", {
                "changeType": "updated,deleted",
                "notificationUrl": hub.gateway_url + "/v1/webhooks/graph",
                "resource": "/users/%s/events" % user,
                "expirationDateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                    time.gmtime(time.time() + 3600)),
                "clientState": CLIENT_STATE}, auth)
            assert status == 201, sub
            made[user] = sub["id"]

    boot(hub, agents=(LUIS,), graph_args=("--subscriptions-page-size", "1"),
         before_scheduler=earlier_attempt)
    ours = made["luis@urbanhub.mx"]
    renewals = lambda: [r for r in peer_requests(hub, "graph", "/v1.0/subscriptions/", "PATCH")
                        if r["status"] == 200]
    renewed = wait_until(renewals, what="the adopted subscription renewed")
    assert [r["path"] for r in renewed] == ["/v1.0/subscriptions/" + ours]
    assert len(peer_requests(hub, "graph", "/v1.0/subscriptions", "POST")) == 2
    lists = [r for r in peer_requests(hub, "graph", "/v1.0/subscriptions", "GET")
             if r["path"] == "/v1.0/subscriptions"]
    assert [("$skiptoken" in r["params"], r["status"]) for r in lists] == [(False, 200),
                                                                         (True, 200)]
    assert sorted(s["id"] for s in live_subscriptions(hub)) == sorted(made.values())


def test_graph_change_notification_moves_and_cancels_the_booking_through_the_gateway(hub):
    boot(hub, agents=(LUIS,))
    wait_until(lambda: live_subscriptions(hub), what="the subscription")
    request(hub, [SLOT])
    first = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    booking, event_id = first[0]["data"]["booking_id"], first[0]["data"]["calendar_event_id"]
    # Luis drags the tour to 14:00 local in Outlook: Graph notifies the gateway
    status, changed = http("POST", hub.peers["graph"] + "/__peer/change",
                           {"user": "luis@urbanhub.mx", "event_id": event_id,
                            "start": "2030-03-05T20:00:00Z", "end": "2030-03-05T20:45:00Z"})
    assert status == 200 and changed["sent"] == 1
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 2, what="moved")
    moved = bus_messages(hub, "tour.scheduled", quiet=0.3)[1]["data"]
    assert moved["booking_id"] == booking and moved["start"].startswith("2030-03-05T20:00:00")
    notes = deliveries(hub, "graph", "/v1/webhooks/graph")
    assert notes[0]["status"] in (200, 202) and notes[0]["body"]["value"][0]["changeType"] \
        == "updated"
    # the gateway published it without the clientState
    [update] = bus_messages(hub, "webhook.graph.updated", quiet=0.3)
    assert update["data"]["resourceData"]["id"] == event_id
    assert "clientState" not in update["data"]
    # ...then deletes it
    status, _ = http("POST", hub.peers["graph"] + "/__peer/change",
                     {"user": "luis@urbanhub.mx", "event_id": event_id, "delete": True})
    assert status == 200
    canceled = wait_until(lambda: bus_messages(hub, "tour.canceled", quiet=0.5), what="canceled")
    assert canceled[0]["data"]["booking_id"] == booking


def test_google_push_moves_the_booking_through_the_gateway(hub):
    boot(hub, agents=(ANA,))
    wait_until(lambda: live_channels(hub), what="the channel")
    request(hub, [SLOT])
    first = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    booking = first[0]["data"]["booking_id"]
    status, _ = http("POST", hub.peers["google"] + "/__peer/change",
                     {"calendar": "ana@urbanhub.mx", "event_id": booking,
                      "start": {"dateTime": "2030-03-05T19:00:00Z"},
                      "end": {"dateTime": "2030-03-05T19:45:00Z"}})
    assert status == 200
    wait_until(lambda: len(bus_messages(hub, "tour.scheduled", quiet=0.5)) == 2, what="moved")
    moved = bus_messages(hub, "tour.scheduled", quiet=0.3)[1]["data"]
    assert moved["booking_id"] == booking and moved["start"].startswith("2030-03-05T19:00:00")
    pushes = [d for d in deliveries(hub, "google", "/v1/webhooks/google")
              if d["headers"]["X-Goog-Resource-State"] == "exists"]
    assert pushes and all(d["status"] == 200 for d in pushes)


def test_switched_off_nothing_is_subscribed_and_it_is_said_once(hub):
    proc = boot(hub, ZHUB_CALENDAR_NOTIFICATIONS="off")
    request(hub, [SLOT])
    wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    assert peer_state(hub, "google")["channels"] == []
    assert peer_requests(hub, "graph", "/v1.0/subscriptions") == []
    log = proc.log_text()
    assert log.count("event=calendar_notifications_off") == 1
    assert 'reason="ZHUB_CALENDAR_NOTIFICATIONS is off"' in log


def test_without_a_public_url_gateway_and_scheduler_share_one_default(hub):
    # Neither process is told ZHUB_PUBLIC_URL: both take
    # http://<ZHUB_GATEWAY_LISTEN>, so the gateway checks signatures against
    # the very address the scheduler gives Google and Graph.
    del hub.env["ZHUB_PUBLIC_URL"]
    proc = boot(hub)
    channel = wait_until(lambda: live_channels(hub), what="the Google channel")[0]
    assert channel["address"] == hub.gateway_url + "/v1/webhooks/google"
    sub = wait_until(lambda: live_subscriptions(hub), what="the Graph subscription")[0]
    assert sub["notificationUrl"] == hub.gateway_url + "/v1/webhooks/graph"
    # Graph proved that address against the real gateway, and Google's sync
    # notification was taken there
    assert [v["ok"] for v in peer_state(hub, "graph")["validations"]] == [True]
    sync = wait_until(lambda: deliveries(hub, "google", "/v1/webhooks/google"), what="sync")[0]
    assert sync["status"] == 200
    gateway = [p for p in hub.procs if p.name == "gateway"][0]
    assert "public_url=%s " % hub.gateway_url in gateway.log_text()
    assert "public_url=default" in proc.log_text()
