#!/usr/bin/env python3
"""Stand-in for Microsoft Graph calendars (https://graph.microsoft.com/v1.0)
and the Microsoft identity platform token endpoint
(https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token).

Facts followed (https://learn.microsoft.com/graph/api/resources/event, tests/fixtures/samples/msgraph-*.json):
getSchedule (POST /users/{id}/calendar/getSchedule or /me/..., schedules[],
startTime/endTime {dateTime,timeZone}, availabilityViewInterval 5..1440,
answer value[] with scheduleId, availabilityView, scheduleItems,
workingHours; times in the zone of the Prefer: outlook.timezone header —
only "UTC" is modelled, and is the default); events (POST
/users/{id}/calendar/events or /users/{id}/events -> 201, GET/PATCH/DELETE
/users/{id}/events/{id}); an event body's transactionId makes a repeated
create return the event made before; client-credentials tokens by form
POST with scope https://graph.microsoft.com/.default. Paths work with and
without the /v1.0 prefix. Calls need a Bearer token issued here and not
expired (401 InvalidAuthenticationToken otherwise).

Change notifications (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks;
samples/msgraph-change-notification.json): POST /subscriptions
{"changeType","notificationUrl","resource","expirationDateTime",
"clientState"} first POSTs notificationUrl?validationToken=<opaque,
URL-encoded> (Content-Type text/plain, empty body) and wants 200 text/plain
with the decoded token within 10 s (--validation-timeout); otherwise 400
InvalidRequest "Subscription validation request failed...". Then 201 with
the subscription. clientState is required (at most 128 characters, the
subscription resource's limit); the
expiration at most --max-subscription-minutes (4230) ahead. resource is a
mailbox's events (/users/{id}/events, /me/events, .../calendar/events).
GET /subscriptions (live ones), GET|PATCH|DELETE /subscriptions/{id}
(PATCH {"expirationDateTime"}; 404 once expired or deleted). Events made,
changed or deleted through the API are announced to the subscriptions whose
changeType names that change: {"value":[{"id","subscriptionId",
"subscriptionExpirationDateTime","changeType","resource","clientState",
"tenantId","resourceData":{"@odata.type","@odata.id","@odata.etag","id"}}]}.
GET /subscriptions answers in pages of --subscriptions-page-size with an
absolute "@odata.nextLink" ($skiptoken) and, as Graph, never shows
clientState (null; https://learn.microsoft.com/graph/api/subscription-list).
notificationUrl must be https (https://learn.microsoft.com/graph/api/resources/subscription);
unlike Graph, http:// is accepted on this machine (127.0.0.1, localhost,
::1: tests run without TLS).

Control endpoints besides peerlib's: POST /__peer/busy {"user","start",
"end","status"?}; POST /__peer/expire_tokens; POST /__peer/change {"user",
"event_id","start"?,"end"?,"subject"?,"delete"?} edits (or deletes) an event
as a person would in Outlook and notifies; POST /__peer/notify {"user",
"event_id","change"} only sends the notification.
"""
import base64
import http.client
import json
import os
import re
import secrets
import sys
import time
from urllib.parse import parse_qs, quote, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from peerlib import Response, iso_ms, now_ms, parse_time_ms  # noqa: E402

USER = r"(?:/v1\.0)?/(?:users/(?P<user>[^/]+)|me)"
SUBS = r"(?:/v1\.0)?/subscriptions"
EVENTS_RESOURCE = re.compile(r"/?(?:users/(?P<user>[^/]+)|me)/(?:calendar/)?events\Z", re.I)
CHANGES = ("created", "updated", "deleted")
VALIDATION_FAILED = ("Subscription validation request failed. Notification endpoint must "
                     "respond with 200 OK to validation request.")
VALIDATION_MISMATCH = ("Subscription validation request failed. Response must exactly match "
                       "validationToken query parameter.")
ROUTES = [
    ("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", "token"),
    ("POST", USER + r"/calendar/getSchedule", "schedule"),
    ("POST", USER + r"/(?:calendar/)?events", "create"),
    ("GET", USER + r"/(?:calendar/)?events", "list"),
    ("GET", USER + r"/(?:calendar/)?events/(?P<eid>[^/]+)", "get"),
    ("PATCH", USER + r"/(?:calendar/)?events/(?P<eid>[^/]+)", "patch"),
    ("DELETE", USER + r"/(?:calendar/)?events/(?P<eid>[^/]+)", "delete"),
    ("POST", SUBS, "subscribe"),
    ("GET", SUBS, "subscriptions"),
    ("GET", SUBS + r"/(?P<sid>[^/]+)", "subscription"),
    ("PATCH", SUBS + r"/(?P<sid>[^/]+)", "renew"),
    ("DELETE", SUBS + r"/(?P<sid>[^/]+)", "unsubscribe"),
]
COMPILED = [(m, re.compile(p + r"/?\Z"), h) for m, p, h in ROUTES]
SCOPE = "https://graph.microsoft.com/.default"
STATUSES = ("free", "tentative", "busy", "oof", "workingElsewhere", "unknown")


# The Microsoft identity platform's error body
# (https://learn.microsoft.com/entra/identity-platform/reference-error-codes,
# "Handling error codes in your application"; the client credentials flow's
# "Error response"): error, error_description ("AADSTSnnnnn: ..." with trace
# and correlation ids and a timestamp), error_codes, timestamp, trace_id,
# correlation_id, error_uri.
def aad_error(status, error, code, text):
    trace, correlation = peerlib.new_uuid(), peerlib.new_uuid()
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return Response(status, {
        "error": error,
        "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\n"
                             "Timestamp: %s" % (code, text, trace, correlation, stamp),
        "error_codes": [code], "timestamp": stamp, "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": "https://login.microsoftonline.com/error?code=%d" % code})


# Tenant aliases that name no single tenant: the client credentials flow
# needs "the directory tenant the application plans to operate against, in
# GUID or domain-name format", and the identity platform answers these with
# AADSTS50059 MissingTenantRealmAndNoUserInformationProvided ("Tenant-
# identifying information was not found in either the request or implied by
# any provided credentials.").
TENANT_ALIASES = ("common", "organizations", "consumers")


def graph_error(status, code, message):
    return Response(status, {"error": {"code": code, "message": message, "innerError": {
        "date": iso_ms(now_ms())[:19], "request-id": peerlib.new_uuid(),
        "client-request-id": peerlib.new_uuid()}}})


def graph_time(ms):
    """2030-03-05T17:00:00.0000000 (Graph's seven fraction digits)."""
    return iso_ms(ms)[:19] + ".0000000"


def parse_graph_time(value):
    """{"dateTime","timeZone"} -> ms; only UTC is modelled."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        return None
    if value.get("timeZone", "UTC") not in ("UTC", "Etc/GMT", "Coordinated Universal Time"):
        return None
    text = value["dateTime"]
    return parse_time_ms(text if text.endswith("Z") else text[:23] + "Z")


class ApiError(Exception):
    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


class GraphApp(peerlib.PeerApp):
    """Stand-in Microsoft Graph calendars and token endpoint."""

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--client-id", default="graph-client-id")
        parser.add_argument("--client-secret", default="graph-client-secret")
        parser.add_argument("--token-ttl", type=int, default=3599)
        parser.add_argument("--user", action="append",
                            help="only these mailboxes exist (repeatable; default: any)")
        parser.add_argument("--tenant-id", default="tenant-1")
        parser.add_argument("--max-subscription-minutes", type=int, default=4230,
                            help="furthest expirationDateTime a subscription may ask for")
        parser.add_argument("--validation-timeout", type=float, default=10.0,
                            help="seconds the notification URL has to echo validationToken")
        parser.add_argument("--subscriptions-page-size", type=int, default=100,
                            help="subscriptions per page of GET /subscriptions (Graph pages "
                                 "it with @odata.nextLink and does not publish the size)")

    def reset_state(self):
        self.tokens = {}
        self.token_requests = 0
        self.events = {}     # user -> {id: event}
        self.busy = {}       # user -> [(start, end, status)]
        self.subscriptions = {}  # id -> {"sub": resource as answered, "user", "expires"}
        self.validations = []    # every validation handshake: url, status, ok, error
        self.sub_pages = {}      # $skiptoken -> the rest of a GET /subscriptions answer

    def state_snapshot(self):
        now = now_ms()
        return {"events": {u: list(e.values()) for u, e in self.events.items()},
                "tokens_issued": len(self.tokens), "token_requests": self.token_requests,
                "subscriptions": [dict(s["sub"], live=s["expires"] > now)
                                  for s in self.subscriptions.values()],
                "validations": list(self.validations)}

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
            if allowed:
                return graph_error(405, "Request_BadRequest", "Method not allowed")
            return graph_error(400, "BadRequest", "Resource not found for the segment.")
        with self.lock:
            try:
                if handler != "token":
                    self._authorize(req)
                if handler != "subscribe":
                    return getattr(self, "h_" + handler)(req, **groups)
            except ApiError as exc:
                return exc.response
        # The validation handshake calls out and may wait 10 s: not under the lock.
        try:
            return self.h_subscribe(req)
        except ApiError as exc:
            return exc.response

    def _authorize(self, req):
        scheme, _, token = req.header("authorization", "").partition(" ")
        expiry = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None:
            raise ApiError(graph_error(401, "InvalidAuthenticationToken",
                                       "Access token is empty." if not token.strip()
                                       else "IDX14100: JWT is not well formed."))
        if expiry <= now_ms():
            raise ApiError(graph_error(401, "InvalidAuthenticationToken",
                                       "Lifetime validation failed, the token is expired."))

    def fault_response(self, fault, req):
        code = {429: "TooManyRequests", 503: "ServiceNotAvailable",
                504: "GatewayTimeout"}.get(fault.status, "InternalServerError")
        resp = graph_error(fault.status, code, "Injected fault")
        resp.headers.update(peerlib.retry_after_header(fault))
        return resp

    def _user(self, user):
        user = unquote(user or "me").lower()
        if self.args.user and user not in [u.lower() for u in self.args.user] and user != "me":
            raise ApiError(graph_error(404, "ErrorInvalidUser",
                                       "The requested user '%s' is invalid." % user))
        return user

    @staticmethod
    def _body(req):
        if req.json_error or not isinstance(req.json, dict):
            raise ApiError(graph_error(400, "BadRequest", "Unable to read JSON request payload."))
        return req.json

    # -------------------------------------------------------------- token
    def h_token(self, req, tenant):
        self.token_requests += 1
        form = {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return aad_error(400, "unsupported_grant_type", 70003,
                             "The app requested an unsupported grant type.")
        if unquote(tenant).lower() in TENANT_ALIASES:
            return aad_error(400, "invalid_request", 50059,
                             "No tenant-identifying information found in either the request or "
                             "implied by any provided credentials.")
        if form.get("client_id") != self.args.client_id:
            return aad_error(400, "unauthorized_client", 700016, "Application not found.")
        if form.get("client_secret") != self.args.client_secret:
            return aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        if form.get("scope") != SCOPE:
            return aad_error(400, "invalid_scope", 1002012,
                             "The provided value for scope is not valid.")
        token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(32)
        self.tokens[token] = now_ms() + self.args.token_ttl * 1000
        return Response(200, {"token_type": "Bearer", "expires_in": self.args.token_ttl,
                              "ext_expires_in": self.args.token_ttl, "access_token": token})

    # -------------------------------------------------------- getSchedule
    def _items(self, user, start, end):
        items = [(s, e, st, "") for s, e, st in self.busy.get(user, [])]
        for event in self.events.get(user, {}).values():
            if event.get("isCancelled"):
                continue
            items.append((parse_graph_time(event["start"]), parse_graph_time(event["end"]),
                          event.get("showAs", "busy"), event.get("subject", "")))
        return sorted(i for i in items if i[0] < end and i[1] > start)

    def h_schedule(self, req, user=None):
        self._user(user)
        body = self._body(req)
        schedules = body.get("schedules")
        start, end = parse_graph_time(body.get("startTime")), parse_graph_time(body.get("endTime"))
        interval = body.get("availabilityViewInterval", 30)
        prefer = req.header("prefer", "")
        if prefer and "outlook.timezone" in prefer and '"UTC"' not in prefer:
            return graph_error(400, "ErrorInvalidTimeZone",
                               "This stand-in only answers in UTC.")
        if not isinstance(schedules, list) or not schedules or len(schedules) > 100:
            return graph_error(400, "ErrorInvalidParameter", "schedules must hold 1..100 ids")
        if start is None or end is None or end <= start:
            return graph_error(400, "ErrorInvalidParameter",
                               "startTime and endTime are required, in UTC, start before end")
        if not isinstance(interval, int) or not 5 <= interval <= 1440:
            return graph_error(400, "ErrorInvalidParameter",
                               "availabilityViewInterval must be 5..1440")
        if end - start > 62 * 86400000:
            return graph_error(400, "ErrorInvalidParameter", "The time range exceeds 62 days.")
        value = []
        for sid in schedules:
            key = str(sid).lower()
            if self.args.user and key not in [u.lower() for u in self.args.user]:
                value.append({"scheduleId": sid, "availabilityView": "", "error": {
                    "message": "The user or mailbox was not found.",
                    "responseCode": "ErrorMailboxNotFound"}})
                continue
            items = self._items(key, start, end)
            view = []
            step = interval * 60000
            for t in range(start, end, step):
                codes = [STATUSES.index(st) for s, e, st, _ in items if s < t + step and e > t]
                view.append(str(max(codes)) if codes else "0")
            value.append({"scheduleId": sid, "availabilityView": "".join(view),
                          "scheduleItems": [{"isPrivate": False, "status": st, "subject": subj,
                                             "start": {"dateTime": graph_time(s),
                                                       "timeZone": "UTC"},
                                             "end": {"dateTime": graph_time(e), "timeZone": "UTC"}}
                                            for s, e, st, subj in items],
                          "workingHours": {"daysOfWeek": ["monday", "tuesday", "wednesday",
                                                          "thursday", "friday"],
                                           "startTime": "08:00:00.0000000",
                                           "endTime": "17:00:00.0000000",
                                           "timeZone": {"name": "UTC"}}})
        return Response(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#"
                                                "Collection(microsoft.graph.scheduleInformation)",
                              "value": value})

    # ------------------------------------------------------------- events
    def _event_id(self):
        return base64.urlsafe_b64encode(b"AAMkAG" + secrets.token_bytes(30)).decode().rstrip("=")

    def h_create(self, req, user=None):
        user = self._user(user)
        body = self._body(req)
        start, end = parse_graph_time(body.get("start")), parse_graph_time(body.get("end"))
        if start is None or end is None:
            return graph_error(400, "ErrorInvalidRequest", "start and end are required "
                               "({dateTime, timeZone}); this stand-in models UTC only")
        if end <= start:
            return graph_error(400, "ErrorInvalidRequest", "The end of the event is before its "
                               "start.")
        if not isinstance(body.get("subject", ""), str):
            return graph_error(400, "ErrorInvalidRequest", "subject must be a string")
        tx = body.get("transactionId")
        for event in self.events.get(user, {}).values():
            if tx and event.get("transactionId") == tx:
                return Response(201, event)
        eid = self._event_id()
        stamp = iso_ms(now_ms())[:23] + "0000Z"
        event = {"@odata.etag": 'W/"%s"' % secrets.token_hex(8), "id": eid,
                 "createdDateTime": stamp, "lastModifiedDateTime": stamp,
                 "iCalUId": secrets.token_hex(24), "subject": body.get("subject", ""),
                 "body": body.get("body", {"contentType": "text", "content": ""}),
                 "start": {"dateTime": graph_time(start), "timeZone": "UTC"},
                 "end": {"dateTime": graph_time(end), "timeZone": "UTC"},
                 "location": body.get("location", {"displayName": ""}),
                 "attendees": body.get("attendees", []), "isCancelled": False,
                 "showAs": body.get("showAs", "busy"), "transactionId": tx,
                 "webLink": "https://outlook.office365.com/owa/?itemid=%s&exvsurl=1&path="
                            "/calendar/item" % eid,
                 "organizer": {"emailAddress": {"address": user, "name": user}}}
        self.events.setdefault(user, {})[eid] = event
        self._announce(user, event, "created")
        return Response(201, event)

    def _event_or_404(self, user, eid):
        event = self.events.get(user, {}).get(unquote(eid))
        if event is None:
            raise ApiError(graph_error(404, "ErrorItemNotFound",
                                       "The specified object was not found in the store."))
        return event

    def h_get(self, req, eid, user=None):
        return Response(200, self._event_or_404(self._user(user), eid))

    def h_list(self, req, user=None):
        user = self._user(user)
        return Response(200, {"value": list(self.events.get(user, {}).values())})

    def h_patch(self, req, eid, user=None):
        event = self._event_or_404(self._user(user), eid)
        body = self._body(req)
        for key in ("subject", "body", "location", "showAs"):
            if key in body:
                event[key] = body[key]
        for key in ("start", "end"):
            if key in body:
                ms = parse_graph_time(body[key])
                if ms is None:
                    return graph_error(400, "ErrorInvalidRequest", "bad %s" % key)
                event[key] = {"dateTime": graph_time(ms), "timeZone": "UTC"}
        self._touch(event)
        self._announce(self._user(user), event, "updated")
        return Response(200, event)

    def h_delete(self, req, eid, user=None):
        user = self._user(user)
        event = self._event_or_404(user, eid)
        del self.events[user][unquote(eid)]
        self._announce(user, event, "deleted")
        return Response(204)

    @staticmethod
    def _touch(event):
        event["lastModifiedDateTime"] = iso_ms(now_ms())
        event["@odata.etag"] = 'W/"%s"' % secrets.token_hex(8)

    # ------------------------------------------------- change notifications
    def _expiry(self, body):
        """expirationDateTime as ms, within what Graph allows for events."""
        expiry = parse_time_ms(body.get("expirationDateTime"))
        now = now_ms()
        if expiry is None or expiry <= now:
            raise ApiError(graph_error(400, "InvalidRequest",
                                       "expirationDateTime must be a time in the future."))
        if expiry > now + self.args.max_subscription_minutes * 60000:
            raise ApiError(graph_error(
                400, "InvalidRequest", "Subscription expiration can only be %d minutes in the "
                "future." % self.args.max_subscription_minutes))
        return expiry

    def _validate(self, url, token):
        """The handshake: POST url?validationToken=…; (ok, status, error)."""
        parts = urlsplit(url)
        target = (parts.path or "/") + ("?%s&" % parts.query if parts.query else "?")
        target += "validationToken=" + quote(token, safe="")
        conn_cls = http.client.HTTPSConnection if parts.scheme == "https" \
            else http.client.HTTPConnection
        started = time.monotonic()
        conn = conn_cls(parts.hostname, parts.port, timeout=self.args.validation_timeout)
        try:
            conn.request("POST", target, body=b"",
                         headers={"Content-Type": "text/plain; charset=utf-8"})
            answer = conn.getresponse()
            text = answer.read().decode("utf-8", "replace")
            kind = answer.getheader("Content-Type", "")
        except (OSError, http.client.HTTPException) as exc:
            return False, None, VALIDATION_FAILED + " (%s)" % exc
        finally:
            conn.close()
        if time.monotonic() - started > self.args.validation_timeout or answer.status != 200:
            return False, answer.status, VALIDATION_FAILED
        if not kind.lower().startswith("text/plain") or text != token:
            return False, answer.status, VALIDATION_MISMATCH
        return True, answer.status, None

    def h_subscribe(self, req):
        body = self._body(req)
        change, url = body.get("changeType"), body.get("notificationUrl")
        resource, state = body.get("resource"), body.get("clientState")
        kinds = change.split(",") if isinstance(change, str) else []
        if not kinds or any(k not in CHANGES for k in kinds):
            return graph_error(400, "InvalidRequest", "Invalid 'changeType' attribute: '%s'."
                               % change)
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            return graph_error(400, "InvalidRequest", "Invalid 'notificationUrl' attribute.")
        if url.startswith("http://") and \
                (urlsplit(url).hostname or "").lower() not in ("127.0.0.1", "localhost", "::1"):
            return graph_error(400, "InvalidRequest", "The 'notificationUrl' must use the "
                               "https scheme.")
        match = EVENTS_RESOURCE.match(resource) if isinstance(resource, str) else None
        if not match:
            return graph_error(400, "InvalidRequest", "Resource '%s' is not supported by this "
                               "stand-in (a mailbox's events only)." % resource)
        if not isinstance(state, str) or not 0 < len(state) <= 128:
            return graph_error(400, "InvalidRequest", "clientState is required, at most 128 "
                               "characters.")
        with self.lock:
            user = self._user(match.group("user"))
            expiry = self._expiry(body)
        token = ("Validation: Testing client application reachability for subscription "
                 "Request-Id: " + peerlib.new_uuid())
        ok, status, error = self._validate(url, token)
        with self.lock:
            self.validations.append({"url": url, "status": status, "ok": ok, "error": error,
                                     "time": now_ms()})
            if not ok:
                return graph_error(400, "InvalidRequest", error)
            sub = {"id": peerlib.new_uuid(), "resource": resource,
                   "applicationId": self.args.client_id, "changeType": change,
                   "clientState": state, "notificationUrl": url,
                   "expirationDateTime": iso_ms(expiry)[:23] + "0000Z",
                   "creatorId": peerlib.new_uuid(), "latestSupportedTlsVersion": "v1_2",
                   "includeResourceData": False, "lifecycleNotificationUrl": None,
                   "encryptionCertificate": None, "encryptionCertificateId": None,
                   "notificationUrlAppId": None}
            self.subscriptions[sub["id"]] = {"sub": sub, "user": user, "expires": expiry}
            return Response(201, dict(sub, **{
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions"
                                  "/$entity"}))

    def _subscription_or_404(self, sid):
        entry = self.subscriptions.get(unquote(sid))
        if entry is None or entry["expires"] <= now_ms():
            raise ApiError(graph_error(404, "ResourceNotFound",
                                       "The object was not found."))
        return entry

    def h_subscriptions(self, req):
        skip = req.param("$skiptoken")
        if skip is not None:
            rest = self.sub_pages.get(skip)
            if rest is None:
                return graph_error(400, "BadRequest", "Invalid $skiptoken.")
        else:
            now = now_ms()
            rest = [dict(e["sub"], clientState=None) for e in self.subscriptions.values()
                    if e["expires"] > now]
        size = self.args.subscriptions_page_size
        body = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions",
                "value": rest[:size]}
        if len(rest) > size:
            token = secrets.token_urlsafe(12)
            self.sub_pages[token] = rest[size:]
            prefix = "/v1.0" if req.path.startswith("/v1.0") else ""
            body["@odata.nextLink"] = "http://%s%s/subscriptions?$skiptoken=%s" % (
                req.header("host", "127.0.0.1:%d" % self.args.port), prefix, token)
        return Response(200, body)

    def h_subscription(self, req, sid):
        return Response(200, self._subscription_or_404(sid)["sub"])

    def h_renew(self, req, sid):
        entry = self._subscription_or_404(sid)
        entry["expires"] = self._expiry(self._body(req))
        entry["sub"]["expirationDateTime"] = iso_ms(entry["expires"])[:23] + "0000Z"
        return Response(200, entry["sub"])

    def h_unsubscribe(self, req, sid):
        self._subscription_or_404(sid)
        del self.subscriptions[unquote(sid)]
        return Response(204)

    def _announce(self, user, event, change):
        """Sends one change notification per live subscription that wants it."""
        sent = 0
        for entry in list(self.subscriptions.values()):
            sub = entry["sub"]
            if entry["expires"] <= now_ms() or entry["user"] != user \
                    or change not in sub["changeType"].split(","):
                continue
            resource = "Users/%s/Events/%s" % (user, event["id"])
            note = {"id": secrets.token_urlsafe(9), "subscriptionId": sub["id"],
                    "subscriptionExpirationDateTime": sub["expirationDateTime"],
                    "changeType": change, "resource": resource,
                    "clientState": sub["clientState"], "tenantId": self.args.tenant_id,
                    "resourceData": {"@odata.type": "#Microsoft.Graph.Event",
                                     "@odata.id": resource,
                                     "@odata.etag": event.get("@odata.etag", 'W/"0"'),
                                     "id": event["id"]}}
            payload = json.dumps({"value": [note]}).encode()
            self.webhooks.submit(sub["notificationUrl"],
                                 lambda p=payload: (p, {"Content-Type": "application/json"}))
            sent += 1
        return sent

    # ------------------------------------------------------------ control
    def extra_control(self, req):
        route = (req.method, req.path.rstrip("/"))
        body = req.json if isinstance(req.json, dict) else {}
        with self.lock:
            if route == ("POST", "/__peer/busy"):
                start, end = parse_time_ms(body.get("start")), parse_time_ms(body.get("end"))
                status = body.get("status", "busy")
                if not body.get("user") or start is None or end is None or end <= start \
                        or status not in STATUSES:
                    return Response(400, {"error": "needs user, start < end, status"})
                self.busy.setdefault(body["user"].lower(), []).append((start, end, status))
                return Response(201, {"ok": True})
            if route == ("POST", "/__peer/expire_tokens"):
                for token in self.tokens:
                    self.tokens[token] = 0
                return Response(200, {"expired": len(self.tokens)})
            if route == ("POST", "/__peer/change"):
                return self._person_changes(body)
            if route == ("POST", "/__peer/notify"):
                user, eid = str(body.get("user", "")).lower(), body.get("event_id")
                if not user or not isinstance(eid, str) or body.get("change") not in CHANGES:
                    return Response(400, {"error": "needs user, event_id, change "
                                                   "(created|updated|deleted)"})
                event = self.events.get(user, {}).get(eid, {"id": eid})
                return Response(200, {"sent": self._announce(user, event, body["change"])})
        return None

    def _person_changes(self, body):
        """Someone edits or deletes an event in Outlook: Graph notifies."""
        user = str(body.get("user", "")).lower()
        event = self.events.get(user, {}).get(body.get("event_id"))
        if event is None:
            return Response(404, {"error": "no such event"})
        if body.get("delete"):
            del self.events[user][event["id"]]
            return Response(200, {"deleted": event["id"],
                                  "sent": self._announce(user, event, "deleted")})
        for key in ("start", "end"):
            if key in body:
                value = body[key]
                ms = parse_time_ms(value) if isinstance(value, str) else parse_graph_time(value)
                if ms is None:
                    return Response(400, {"error": "bad %s" % key})
                event[key] = {"dateTime": graph_time(ms), "timeZone": "UTC"}
        if "subject" in body:
            event["subject"] = body["subject"]
        self._touch(event)
        return Response(200, dict(event, sent=self._announce(user, event, "updated")))


if __name__ == "__main__":
    sys.exit(peerlib.run(GraphApp))
