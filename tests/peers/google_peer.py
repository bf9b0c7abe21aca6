#!/usr/bin/env python3
"""Stand-in for Google Calendar (https://www.googleapis.com/calendar/v3) and
Google's OAuth2 token endpoint (https://oauth2.googleapis.com/token).

Facts followed (https://developers.google.com/calendar/api/v3/reference): freeBusy, events.insert with a
client-chosen base32hex id (a second insert with that id is 409
"duplicate"), events get/patch/delete, events.list with pages
(maxResults default 250, at most 2500; nextPageToken; nextSyncToken only on
the last page), incremental sync (syncToken: every change since, deleted
events included; not with timeMin/timeMax/updatedMin/orderBy/q/iCalUID; a
stale token 410 fullSyncRequired, an updatedMin older than
--updated-min-max-age 410 updatedMinTooLongAgo, per
https://developers.google.com/calendar/api/guides/sync and /guides/errors),
timeMin/timeMax/updatedMin/showDeleted filters, events.watch channels and push
notifications (empty body, X-Goog-* headers, first one "sync" with message
number 1, X-Goog-Channel-Token when the channel has a token), channels.stop
(POST /calendar/v3/channels/stop {"id","resourceId"}: 204, then silence;
404 for a channel it does not know), token refresh by form POST (invalid_grant for a bad refresh
token). Calls need `Authorization: Bearer <token issued here and not yet
expired>`, so token expiry and refresh are exercised for real.

Control endpoints besides peerlib's: POST /__peer/busy {"calendar","start",
"end"} adds a busy block; POST /__peer/expire_tokens makes every issued
token expire now; POST /__peer/change {"calendar","event_id","status"?,
"start"?,"end"?} edits an event as a person would and notifies the
watch channels of that calendar; POST /__peer/seed {"calendar","count",
"start"?} adds count half-hour events a day apart (no notification); POST
/__peer/invalidate_sync_tokens makes every sync token handed out so far
stale, as Google may ("Sometimes sync tokens are invalidated by the
server"). Injected faults answer with the errors guide's bodies; a fault's
"reason" picks Google's reason (403 defaults to rateLimitExceeded).
"""
import base64
import os
import re
import secrets
import sys
from urllib.parse import parse_qs, quote, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from peerlib import Response, iso_ms, now_ms, parse_time_ms  # noqa: E402

CAL = r"/calendar/v3/calendars/(?P<cal>[^/]+)"
ROUTES = [
    ("POST", r"/token", "token"),
    ("POST", r"/calendar/v3/freeBusy", "freebusy"),
    ("POST", CAL + r"/events/watch", "watch"),
    ("POST", r"/calendar/v3/channels/stop", "stop"),
    ("POST", CAL + r"/events", "insert"),
    ("GET", CAL + r"/events", "list"),
    ("GET", CAL + r"/events/(?P<eid>[^/]+)", "get"),
    ("PATCH", CAL + r"/events/(?P<eid>[^/]+)", "patch"),
    ("DELETE", CAL + r"/events/(?P<eid>[^/]+)", "delete"),
]
COMPILED = [(m, re.compile(p + r"/?\Z"), h) for m, p, h in ROUTES]
BASE32HEX = re.compile(r"[0-9a-v]{5,1024}\Z")


def g_error(status, message, reason, domain="global", status_text=None, location=None):
    """Google's JSON error shape
    (https://developers.google.com/calendar/api/guides/errors); location
    names the offending query parameter (locationType "parameter")."""
    error = {"domain": domain, "reason": reason, "message": message}
    if location:
        error.update(locationType="parameter", location=location)
    body = {"error": {"errors": [error], "code": status, "message": message}}
    if status_text:
        body["error"]["status"] = status_text
    return Response(status, body)


# Injected faults answer with the errors guide's bodies
# (https://developers.google.com/calendar/api/guides/errors): 403 and 429
# rate limits are "usageLimits" errors, a 403 is rateLimitExceeded unless
# the fault names another reason (userRateLimitExceeded, or a permanent one
# such as forbiddenForNonOrganizer).
FAULT_ERRORS = {
    "rateLimitExceeded": ("usageLimits", "Rate Limit Exceeded"),
    "userRateLimitExceeded": ("usageLimits", "User Rate Limit Exceeded"),
    "quotaExceeded": ("usageLimits", "Calendar usage limits exceeded."),
    "forbiddenForNonOrganizer": ("calendar", "Shared properties can only be changed by the "
                                             "organizer of the event."),
    "insufficientPermissions": ("global", "Insufficient Permission"),
    "backendError": ("global", "Backend Error"),
}
FAULT_DEFAULT_REASON = {429: "rateLimitExceeded", 403: "rateLimitExceeded",
                        500: "backendError", 503: "backendError"}


class ApiError(Exception):
    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


class GoogleApp(peerlib.PeerApp):
    """Stand-in Google Calendar API and OAuth2 token endpoint."""

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--client-id", default="google-client-id")
        parser.add_argument("--client-secret", default="google-client-secret")
        parser.add_argument("--refresh-token", default="google-refresh-token",
                            help="the refresh token this peer accepts")
        parser.add_argument("--token-ttl", type=int, default=3599,
                            help="expires_in of issued access tokens, seconds")
        parser.add_argument("--calendar", action="append",
                            help="only these calendars exist (repeatable; default: any)")
        parser.add_argument("--qps", type=int, default=50,
                            help="calls per rolling second before 429 rateLimitExceeded")
        parser.add_argument("--updated-min-max-age", type=int, default=28 * 86400,
                            help="seconds: an updatedMin further back is 410 "
                                 "updatedMinTooLongAgo (Google keeps changes for a while "
                                 "but does not publish how long)")

    def reset_state(self):
        self.tokens = {}        # access token -> expiry ms
        self.token_requests = 0
        self.events = {}        # calendar -> {event id: event}
        self.busy = {}          # calendar -> [(start ms, end ms)]
        self.channels = []      # watch channels
        self.recent = []        # call times for the qps limit
        self.seq = 0            # change counter: each event keeps the one of its last change
        self.sync_epoch = 1     # sync tokens of an older epoch are stale (410)
        self.pages = {}         # page token -> the rest of a list answer

    def state_snapshot(self):
        return {"events": {c: list(e.values()) for c, e in self.events.items()},
                "busy": {c: [{"start": iso_ms(s), "end": iso_ms(e)} for s, e in spans]
                         for c, spans in self.busy.items()},
                "tokens_issued": len(self.tokens), "token_requests": self.token_requests,
                "channels": self.channels}

    # --------------------------------------------------------- request flow
    def handle(self, req):
        handler, groups, allowed = None, None, False
        for method, pattern, name in COMPILED:
            match = pattern.match(req.path)
            if match:
                allowed = True
                if method == req.method:
                    handler, groups = name, match.groupdict()
                    break
        if handler is None:
            status = 405 if allowed else 404
            return g_error(status, "Not Found" if status == 404 else "Method not allowed",
                           "notFound" if status == 404 else "httpMethodNotAllowed")
        with self.lock:
            try:
                if handler != "token":
                    self._authorize(req)
                    self._rate(req)
                return getattr(self, "h_" + handler)(req, **groups)
            except ApiError as exc:
                return exc.response

    def _authorize(self, req):
        scheme, _, token = req.header("authorization", "").partition(" ")
        expiry = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None or expiry <= now_ms():
            raise ApiError(g_error(
                401, "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                "authError", status_text="UNAUTHENTICATED"))

    def _rate(self, req):
        now = now_ms()
        self.recent = [t for t in self.recent if t > now - 1000]
        if len(self.recent) >= self.args.qps:
            raise ApiError(g_error(429, "Rate Limit Exceeded", "rateLimitExceeded",
                                   domain="usageLimits"))
        self.recent.append(now)

    def fault_response(self, fault, req):
        reason = fault.reason or FAULT_DEFAULT_REASON.get(fault.status, "injected")
        domain, message = FAULT_ERRORS.get(reason, ("global", "Injected fault"))
        resp = g_error(fault.status, message, reason, domain=domain)
        resp.headers.update(peerlib.retry_after_header(fault))
        return resp

    def _calendar(self, cal):
        cal = unquote(cal)
        if self.args.calendar and cal not in self.args.calendar and cal != "primary":
            raise ApiError(g_error(404, "Not Found", "notFound"))
        return cal

    @staticmethod
    def _body(req):
        if req.json_error or not isinstance(req.json, dict):
            raise ApiError(g_error(400, "Parse Error", "parseError"))
        return req.json

    # -------------------------------------------------------------- OAuth2
    def h_token(self, req):
        self.token_requests += 1
        if "application/x-www-form-urlencoded" not in req.header("content-type", ""):
            return Response(400, {"error": "invalid_request",
                                  "error_description": "Invalid Content-Type"})
        form = {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type",
                                  "error_description": "Invalid grant_type"})
        if form.get("client_id") != self.args.client_id or \
                form.get("client_secret") != self.args.client_secret:
            return Response(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if form.get("refresh_token") != self.args.refresh_token:
            return Response(400, {"error": "invalid_grant",
                                  "error_description": "Token has been expired or revoked."})
        token = "ya29." + secrets.token_urlsafe(24)
        self.tokens[token] = now_ms() + self.args.token_ttl * 1000
        return Response(200, {"access_token": token, "expires_in": self.args.token_ttl,
                              "scope": "https://www.googleapis.com/auth/calendar",
                              "token_type": "Bearer"})

    # ------------------------------------------------------------ freeBusy
    def _busy_of(self, cal, start, end):
        spans = list(self.busy.get(cal, []))
        for event in self.events.get(cal, {}).values():
            if event["status"] == "cancelled" or event.get("transparency") == "transparent":
                continue
            spans.append((parse_time_ms(event["start"]["dateTime"]),
                          parse_time_ms(event["end"]["dateTime"])))
        spans = sorted((max(s, start), min(e, end)) for s, e in spans if s < end and e > start)
        merged = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        return [{"start": iso_ms(s).replace(".000Z", "Z"), "end": iso_ms(e).replace(".000Z", "Z")}
                for s, e in merged]

    def h_freebusy(self, req):
        body = self._body(req)
        start, end = parse_time_ms(body.get("timeMin")), parse_time_ms(body.get("timeMax"))
        items = body.get("items")
        if start is None or end is None:
            return g_error(400, "Missing timeMin or timeMax", "required")
        if end <= start:
            return g_error(400, "The specified time range is empty.", "timeRangeEmpty",
                           domain="calendar")
        if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("id")
                                                  for i in items):
            return g_error(400, "Missing items", "required")
        if len(items) > 50:
            return g_error(400, "Too many calendars", "tooManyCalendarsRequested",
                           domain="calendar")
        calendars = {}
        for item in items:
            cal = item["id"]
            if self.args.calendar and cal not in self.args.calendar:
                calendars[cal] = {"errors": [{"domain": "global", "reason": "notFound"}],
                                  "busy": []}
            else:
                calendars[cal] = {"busy": self._busy_of(cal, start, end)}
        return Response(200, {"kind": "calendar#freeBusy", "timeMin": body["timeMin"],
                              "timeMax": body["timeMax"], "calendars": calendars})

    # -------------------------------------------------------------- events
    def _render(self, cal, event):
        return {k: v for k, v in event.items() if not k.startswith("_")}

    def _changed(self, event):
        """Stamps a change: a new updated time and change number."""
        self.seq += 1
        event["_seq"] = self.seq
        event["updated"] = iso_ms(now_ms())

    def _event_or_404(self, cal, eid):
        event = self.events.get(cal, {}).get(unquote(eid))
        if event is None:
            raise ApiError(g_error(404, "Not Found", "notFound"))
        return event

    @staticmethod
    def _check_times(body):
        for name in ("start", "end"):
            value = body.get(name)
            if not isinstance(value, dict) or (parse_time_ms(value.get("dateTime")) is None
                                               and not value.get("date")):
                raise ApiError(g_error(400, "Missing %s time." % name, "required"))
        if parse_time_ms(body["end"].get("dateTime")) is not None and \
                parse_time_ms(body["end"]["dateTime"]) <= parse_time_ms(body["start"]["dateTime"]):
            raise ApiError(g_error(400, "The specified time range is empty.", "timeRangeEmpty",
                                   domain="calendar"))

    def h_insert(self, req, cal):
        cal = self._calendar(cal)
        body = self._body(req)
        self._check_times(body)
        eid = body.get("id")
        if eid is not None:
            if not isinstance(eid, str) or not BASE32HEX.match(eid):
                return g_error(400, "Invalid resource id value.", "invalid")
            if eid in self.events.get(cal, {}):
                return g_error(409, "The requested identifier already exists.", "duplicate")
        else:
            eid = secrets.token_hex(13)
        stamp = iso_ms(now_ms())
        event = {"kind": "calendar#event", "etag": '"%d"' % now_ms(), "id": eid,
                 "status": "confirmed",
                 "htmlLink": "https://www.google.com/calendar/event?eid=%s" % eid,
                 "created": stamp, "updated": stamp, "summary": body.get("summary", ""),
                 "description": body.get("description", ""), "location": body.get("location", ""),
                 "creator": {"email": cal}, "organizer": {"email": cal, "self": True},
                 "start": body["start"], "end": body["end"], "iCalUID": "%s@google.com" % eid,
                 "sequence": 0, "attendees": body.get("attendees", []),
                 "extendedProperties": body.get("extendedProperties", {}),
                 "reminders": {"useDefault": True}, "eventType": "default",
                 "sendUpdates": req.param("sendUpdates", "none")}
        self._changed(event)
        self.events.setdefault(cal, {})[eid] = event
        self._notify(cal)
        return Response(200, self._render(cal, event))

    def h_get(self, req, cal, eid):
        return Response(200, self._render(cal, self._event_or_404(self._calendar(cal), eid)))

    # events.list (https://developers.google.com/calendar/api/v3/reference/events/list,
    # https://developers.google.com/calendar/api/guides/sync): pages of
    # maxResults (default 250, never more than 2500) with nextPageToken;
    # nextSyncToken only on the last page; syncToken gives every event
    # changed since, deleted ones always included, and cannot be combined
    # with timeMin, timeMax, updatedMin, orderBy, q, iCalUID or the
    # extended-property filters; a stale sync token is 410 fullSyncRequired,
    # an updatedMin too far back 410 updatedMinTooLongAgo (bodies of the
    # errors guide).
    SYNC_EXCLUSIVE = ("timeMin", "timeMax", "updatedMin", "orderBy", "q", "iCalUID",
                      "privateExtendedProperty", "sharedExtendedProperty")

    def _sync_token(self):
        raw = "%d.%d" % (self.sync_epoch, self.seq)
        return "C" + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _sync_seq(self, token):
        """The change number a sync token stands for; None when it is not
        one of ours, -1 when it is stale."""
        try:
            raw = base64.urlsafe_b64decode(token[1:] + "=" * (-len(token[1:]) % 4)).decode()
            epoch, seq = (int(x) for x in raw.split("."))
        except (ValueError, UnicodeDecodeError):
            return None
        return seq if epoch == self.sync_epoch else -1

    @staticmethod
    def _event_ms(value):
        if not isinstance(value, dict):
            return None
        if value.get("dateTime"):
            return parse_time_ms(value["dateTime"])
        if value.get("date"):
            return parse_time_ms(value["date"] + "T00:00:00Z")
        return None

    def _list_items(self, req, cal):
        sync = req.param("syncToken")
        if sync is not None:
            for name in self.SYNC_EXCLUSIVE:
                if req.param(name) is not None:
                    raise ApiError(g_error(400, "The syncToken parameter cannot be used together "
                                           "with %s." % name, "invalid", location=name))
            if req.param("showDeleted") == "false":
                raise ApiError(g_error(400, "showDeleted cannot be false with a syncToken.",
                                       "invalid", location="showDeleted"))
            seq = self._sync_seq(sync)
            if seq is None:
                raise ApiError(g_error(400, "Invalid sync token value.", "invalid",
                                       location="syncToken"))
            if seq < 0:
                message = "Sync token is no longer valid, a full sync is required."
                raise ApiError(g_error(410, message, "fullSyncRequired", domain="calendar",
                                       location="syncToken"))
            return [e for e in self.events.get(cal, {}).values() if e["_seq"] > seq]
        updated_min = parse_time_ms(req.param("updatedMin"))
        if req.param("updatedMin") is not None and updated_min is None:
            raise ApiError(g_error(400, "Bad Request", "badRequest"))
        if updated_min is not None and \
                updated_min < now_ms() - self.args.updated_min_max_age * 1000:
            message = "The requested minimum modification time lies too far in the past."
            raise ApiError(g_error(410, message, "updatedMinTooLongAgo", domain="calendar",
                                   location="updatedMin"))
        time_min = parse_time_ms(req.param("timeMin"))
        time_max = parse_time_ms(req.param("timeMax"))
        # Deleted (cancelled) events come back with showDeleted=true, and
        # always when updatedMin is given (Google's incremental rule).
        show_deleted = req.param("showDeleted") == "true" or updated_min is not None
        items = []
        for e in self.events.get(cal, {}).values():
            start, end = self._event_ms(e.get("start")), self._event_ms(e.get("end"))
            if (updated_min is None or parse_time_ms(e["updated"]) >= updated_min) \
                    and (show_deleted or e["status"] != "cancelled") \
                    and (time_min is None or end is None or end > time_min) \
                    and (time_max is None or start is None or start < time_max):
                items.append(e)
        return items

    def h_list(self, req, cal):
        cal = self._calendar(cal)
        size = req.param("maxResults", "250")
        if not size.isdigit() or int(size) < 1:
            return g_error(400, "Invalid value '%s'. Values must be within the range: [1, 2500]"
                           % size, "invalid", location="maxResults")
        size = min(int(size), 2500)
        page = req.param("pageToken")
        if page is not None:
            entry = self.pages.get(page)
            if entry is None or entry["calendar"] != cal:
                return g_error(400, "Invalid page token value.", "invalid", location="pageToken")
            items, sync = entry["items"], entry["sync"]
        else:
            items = sorted(self._list_items(req, cal), key=lambda e: e["_seq"])
            sync = self._sync_token()
        body = {"kind": "calendar#events", "etag": '"p%d"' % self.seq, "summary": cal,
                "updated": iso_ms(now_ms()), "timeZone": "UTC", "accessRole": "owner",
                "defaultReminders": [], "items": [self._render(cal, e) for e in items[:size]]}
        if len(items) > size:
            token = secrets.token_urlsafe(18)
            self.pages[token] = {"calendar": cal, "items": items[size:], "sync": sync}
            body["nextPageToken"] = token
        else:
            body["nextSyncToken"] = sync
        return Response(200, body)

    def h_patch(self, req, cal, eid):
        cal = self._calendar(cal)
        event = self._event_or_404(cal, eid)
        body = self._body(req)
        for key in ("summary", "description", "location", "status", "start", "end"):
            if key in body:
                event[key] = body[key]
        self._check_times(event)
        self._changed(event)
        event["sequence"] += 1
        self._notify(cal)
        return Response(200, self._render(cal, event))

    def h_delete(self, req, cal, eid):
        cal = self._calendar(cal)
        event = self._event_or_404(cal, eid)
        if event["status"] == "cancelled":
            return g_error(410, "Resource has been deleted", "deleted")
        event["status"] = "cancelled"
        self._changed(event)
        self._notify(cal)
        return Response(204)

    # ------------------------------------------------------ push channels
    def h_watch(self, req, cal):
        cal = self._calendar(cal)
        body = self._body(req)
        cid, address = body.get("id"), body.get("address")
        if not isinstance(cid, str) or not 0 < len(cid) <= 64 or body.get("type") != "web_hook" \
                or not isinstance(address, str) or not address.startswith("http"):
            return g_error(400, "Invalid channel", "invalid")
        # "address ... must use HTTPS" (https://developers.google.com/calendar/api/guides/push);
        # Google answers 400 push.webhookUrlNotHttps. On this machine http is
        # accepted: tests run without TLS.
        if address.startswith("http://") and \
                (urlsplit(address).hostname or "").lower() not in ("127.0.0.1", "localhost", "::1"):
            return g_error(400, "WebHook callback must be HTTPS: %s" % address,
                           "push.webhookUrlNotHttps")
        token = body.get("token")
        if token is not None and (not isinstance(token, str) or len(token) > 256):
            return g_error(400, "Invalid channel token", "invalid")
        expiration = body.get("expiration") or now_ms() + 7 * 86400000
        if not isinstance(expiration, (int, str)) or not str(expiration).isdigit():
            return g_error(400, "Invalid expiration", "invalid")
        if any(c["id"] == cid and not c["stopped"] for c in self.channels):
            return g_error(400, "Channel id %s not unique" % cid, "channelIdNotUnique")
        channel = {"kind": "api#channel", "id": cid, "resourceId": secrets.token_hex(10),
                   "resourceUri": "https://www.googleapis.com/calendar/v3/calendars/%s/events"
                                  "?alt=json" % quote(cal, safe="@"),
                   "token": token, "expiration": str(int(expiration)), "address": address,
                   "calendar": cal, "number": 0, "stopped": False}
        self.channels.append(channel)
        self._push(channel, "sync")
        return Response(200, {k: v for k, v in channel.items()
                              if k not in ("address", "calendar", "number", "stopped")
                              and v is not None})

    def h_stop(self, req):
        body = self._body(req)
        for channel in self.channels:
            if channel["id"] == body.get("id") and channel["resourceId"] == body.get("resourceId") \
                    and not channel["stopped"]:
                channel["stopped"] = True
                return Response(204)
        return g_error(404, "Channel '%s' not found for project '%s'"
                       % (body.get("id"), "zhub-stand-in"), "notFound")

    def _push(self, channel, state):
        channel["number"] += 1 if state == "sync" else 1 + secrets.randbelow(3)
        headers = {"X-Goog-Channel-ID": channel["id"],
                   "X-Goog-Channel-Expiration": channel["expiration"],
                   "X-Goog-Resource-ID": channel["resourceId"],
                   "X-Goog-Resource-URI": channel["resourceUri"],
                   "X-Goog-Resource-State": state,
                   "X-Goog-Message-Number": str(channel["number"]),
                   "Content-Length": "0"}
        if channel.get("token"):
            headers["X-Goog-Channel-Token"] = channel["token"]
        self.webhooks.submit(channel["address"], lambda h=headers: (b"", h))

    def _notify(self, cal):
        for channel in self.channels:
            if channel["calendar"] == cal and not channel["stopped"] \
                    and int(channel["expiration"]) > now_ms():
                self._push(channel, "exists")

    # ------------------------------------------------------------ control
    def _seed(self, body):
        """POST /__peer/seed {"calendar","count","start"?}: count half-hour
        events (a person's own appointments) from start on, a day apart; no
        notification, as if they predated every channel."""
        cal, count = body.get("calendar"), body.get("count")
        start = parse_time_ms(body.get("start")) if body.get("start") else now_ms() + 86400000
        if not isinstance(cal, str) or not cal or not isinstance(count, int) \
                or not 0 < count <= 10000 or start is None:
            return Response(400, {"error": "needs calendar, count 1..10000, start?"})
        made = []
        for i in range(count):
            eid = secrets.token_hex(13)
            event = seed_event(cal, eid, start + i * 86400000)
            self._changed(event)
            self.events.setdefault(cal, {})[eid] = event
            made.append(eid)
        return Response(201, {"ids": made})

    def extra_control(self, req):
        route = (req.method, req.path.rstrip("/"))
        body = req.json if isinstance(req.json, dict) else {}
        with self.lock:
            if route == ("POST", "/__peer/busy"):
                start, end = parse_time_ms(body.get("start")), parse_time_ms(body.get("end"))
                if not body.get("calendar") or start is None or end is None or end <= start:
                    return Response(400, {"error": "needs calendar, start < end"})
                self.busy.setdefault(body["calendar"], []).append((start, end))
                return Response(201, {"ok": True})
            if route == ("POST", "/__peer/expire_tokens"):
                for token in self.tokens:
                    self.tokens[token] = 0
                return Response(200, {"expired": len(self.tokens)})
            if route == ("POST", "/__peer/change"):
                event = self.events.get(body.get("calendar"), {}).get(body.get("event_id"))
                if event is None:
                    return Response(404, {"error": "no such event"})
                for key in ("status", "start", "end"):
                    if key in body:
                        event[key] = body[key]
                self._changed(event)
                event["sequence"] += 1
                self._notify(body["calendar"])
                return Response(200, self._render(body["calendar"], event))
            if route == ("POST", "/__peer/seed"):
                return self._seed(body)
            if route == ("POST", "/__peer/invalidate_sync_tokens"):
                # "Sometimes sync tokens are invalidated by the server, for
                # various reasons including token expiration or changes in
                # related ACLs." (the sync guide)
                self.sync_epoch += 1
                return Response(200, {"sync_epoch": self.sync_epoch})
        return None


def seed_event(cal, eid, start):
    stamp = iso_ms(now_ms())
    return {"kind": "calendar#event", "etag": '"%d"' % now_ms(), "id": eid,
            "status": "confirmed", "htmlLink": "https://www.google.com/calendar/event?eid=%s" % eid,
            "created": stamp, "updated": stamp, "summary": "Busy", "description": "",
            "location": "", "creator": {"email": cal}, "organizer": {"email": cal, "self": True},
            "start": {"dateTime": iso_ms(start)}, "end": {"dateTime": iso_ms(start + 1800000)},
            "iCalUID": "%s@google.com" % eid, "sequence": 0, "attendees": [],
            "extendedProperties": {}, "reminders": {"useDefault": True},
            "eventType": "default"}


# WebhookSender records JSON bodies; Google's pushes have none.
class _Sender(peerlib.WebhookSender):
    def send_now(self, url, body, headers):
        status, error = peerlib.post_bytes(url, body, headers)
        with self._lock:
            self.deliveries.append({"url": url, "status": status, "error": error,
                                    "time": now_ms(), "headers": headers, "body": None})
        return status, error


class GoogleAppWithSender(GoogleApp):
    __doc__ = GoogleApp.__doc__

    def __init__(self, args):
        super().__init__(args)
        self.webhooks = _Sender()


if __name__ == "__main__":
    sys.exit(peerlib.run(GoogleAppWithSender))
