#!/usr/bin/env python3
"""Stand-in for the Calendly API v2 (https://api.calendly.com) and its
webhooks.

Facts followed (https://developer.calendly.com/api-docs, samples/calendly-invitee-created.json):
POST /scheduling_links {"max_event_count":1,"owner":<event type uri>,
"owner_type":"EventType"} -> 201 {"resource":{"booking_url",...}}; GET
/scheduled_events/{uuid} and .../invitees/{uuid} -> {"resource":{...}};
Bearer token auth (401 "Unauthenticated"); errors {"title","message",
"details"?}; webhooks {"created_at","created_by","event","payload":{invitee}}
signed with Calendly-Webhook-Signature: t=<unix s>,v1=hex(HMAC-SHA256(key,
t + "." + body)); a reschedule fires invitee.canceled (rescheduled: true,
new_invitee) then invitee.created (old_invitee). UTM parameters on the
booking URL come back in payload.tracking. A single-use link books once.

Control endpoints besides peerlib's, standing in for a person on the
booking page (each answers the webhook bodies it made, and also delivers
them signed when webhook_url is configured):
  POST /__peer/book {"booking_url","start_time","duration_min"?,"name"?,"email"?}
  POST /__peer/cancel {"invitee","reason"?}
  POST /__peer/reschedule {"invitee","start_time"}
"""
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import time
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from peerlib import Response, now_ms, parse_time_ms  # noqa: E402

ROUTES = [
    ("POST", r"/scheduling_links", "link"),
    ("GET", r"/scheduled_events/(?P<uuid>[A-Za-z0-9]+)", "event"),
    ("GET", r"/scheduled_events/(?P<uuid>[A-Za-z0-9]+)/invitees/(?P<iuuid>[A-Za-z0-9]+)",
     "invitee"),
    ("GET", r"/event_types/(?P<uuid>[A-Za-z0-9]+)", "event_type"),
    ("GET", r"/users/(?P<uuid>[A-Za-z0-9]+)", "user"),
]
USER_UUID = "AAAAAAAAPEERUSER"
COMPILED = [(m, re.compile(p + r"/?\Z"), h) for m, p, h in ROUTES]


def c_error(status, title, message, details=None):
    body = {"title": title, "message": message}
    if details:
        body["details"] = details
    return Response(status, body)


def iso_us(ms):
    """2030-03-05T17:00:00.000000Z, Calendly's format."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + ".%06dZ" % (ms % 1000 * 1000)


def uuid16():
    return secrets.token_hex(8).upper()


def signature(key, body, stamp=None):
    stamp = str(int(time.time()) if stamp is None else stamp)
    digest = hmac.new(key.encode(), (stamp + ".").encode() + body, hashlib.sha256).hexdigest()
    return "t=%s,v1=%s" % (stamp, digest)


class CalendlyApp(peerlib.PeerApp):
    """Stand-in Calendly API v2 with signed invitee webhooks."""

    config_keys = ("webhook_url", "signing_key")

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--token", help="accepted bearer token (default: any non-empty)")
        parser.add_argument("--event-type", action="append",
                            help="event type uuids that exist (default: AAAAEVENTTYPE)")
        parser.add_argument("--webhook-url")
        parser.add_argument("--signing-key", default="calendly-peer-signing-key")

    def reset_state(self):
        self.links = {}      # booking url -> link
        self.events = {}     # uuid -> scheduled event
        self.invitees = {}   # uri -> invitee

    def state_snapshot(self):
        return {"links": list(self.links.values()), "scheduled_events": list(self.events.values()),
                "invitees": list(self.invitees.values())}

    # --------------------------------------------------------------- flow
    def handle(self, req):
        self.base = "http://%s" % req.header("host", "127.0.0.1")
        scheme, _, token = req.header("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or (
                self.args.token and token.strip() != self.args.token):
            return c_error(401, "Unauthenticated", "The access token is invalid")
        for method, pattern, name in COMPILED:
            match = pattern.match(req.path)
            if match and method == req.method:
                with self.lock:
                    return getattr(self, "h_" + name)(req, **match.groupdict())
        return c_error(404, "Resource Not Found", "The server could not find the requested "
                       "resource.")

    def fault_response(self, fault, req):
        titles = {429: "Too Many Requests", 500: "Internal Server Error",
                  503: "Service Unavailable"}
        resp = c_error(fault.status, titles.get(fault.status, "Error"), "Injected fault")
        resp.headers.update(peerlib.retry_after_header(fault))
        return resp

    def _event_types(self):
        return self.args.event_type or ["AAAAEVENTTYPE"]

    def h_event_type(self, req, uuid):
        if uuid not in self._event_types():
            return c_error(404, "Resource Not Found", "The server could not find the requested "
                           "resource.")
        uri = "%s/event_types/%s" % (self.base, uuid)
        return Response(200, {"resource": {"uri": uri, "name": "Property tour", "active": True,
                                           "duration": 45, "slug": "property-tour",
                                           "scheduling_url": "https://calendly.com/urbanhub/tour"}})

    def h_user(self, req, uuid):
        """Get user (https://developer.calendly.com/api-docs/calendly-api/users/get-user):
        "me" is the token's owner; {"resource": User}."""
        if uuid not in ("me", USER_UUID):
            return c_error(404, "Resource Not Found", "The server could not find the requested "
                           "resource.")
        stamp = iso_us(now_ms())
        return Response(200, {"resource": {
            "uri": "%s/users/%s" % (self.base, USER_UUID), "name": "UrbanHub Tours",
            "slug": "urbanhub", "email": "tours@example.mx",
            "scheduling_url": "https://calendly.com/urbanhub", "timezone": "America/Mexico_City",
            "avatar_url": None, "created_at": stamp, "updated_at": stamp,
            "current_organization": "%s/organizations/AAAAAAAAPEERORG" % self.base,
            "resource_type": "User", "locale": "es"}})

    def h_link(self, req):
        body = req.json if isinstance(req.json, dict) else None
        if body is None:
            return c_error(400, "Invalid Argument", "The supplied parameters are invalid.")
        details = []
        owner = body.get("owner")
        if body.get("max_event_count") != 1:
            details.append({"parameter": "max_event_count", "message": "must be 1"})
        if body.get("owner_type") != "EventType":
            details.append({"parameter": "owner_type", "message": "must be EventType"})
        match = re.match(r".*/event_types/([A-Za-z0-9]+)\Z", owner or "")
        if not match or match.group(1) not in self._event_types():
            details.append({"parameter": "owner", "message": "event type not found"})
        if details:
            return c_error(400, "Invalid Argument", "The supplied parameters are invalid.",
                           details)
        url = "https://calendly.com/d/%s/property-tour" % secrets.token_hex(4)
        link = {"booking_url": url, "owner": owner, "owner_type": "EventType", "used": False}
        self.links[url] = link
        return Response(201, {"resource": {k: link[k] for k in
                                           ("booking_url", "owner", "owner_type")}})

    def h_event(self, req, uuid):
        event = self.events.get(uuid)
        if event is None:
            return c_error(404, "Resource Not Found", "The server could not find the requested "
                           "resource.")
        return Response(200, {"resource": event})

    def h_invitee(self, req, uuid, iuuid):
        invitee = self.invitees.get("%s/scheduled_events/%s/invitees/%s" % (self.base, uuid, iuuid))
        if invitee is None:
            return c_error(404, "Resource Not Found", "The server could not find the requested "
                           "resource.")
        return Response(200, {"resource": invitee})

    # ------------------------------------------------- the booking page
    def _schedule(self, owner, start, duration_min):
        uuid = uuid16()
        stamp = iso_us(now_ms())
        event = {"uri": "%s/scheduled_events/%s" % (self.base, uuid), "name": "Property tour",
                 "status": "active", "start_time": iso_us(start),
                 "end_time": iso_us(start + duration_min * 60000), "event_type": owner,
                 "location": {"type": "physical", "location": "Torre Reforma"},
                 "invitees_counter": {"total": 1, "active": 1, "limit": 1},
                 "created_at": stamp, "updated_at": stamp,
                 "event_memberships": [{"user": "%s/users/AAAAUSER" % self.base}]}
        self.events[uuid] = event
        return event

    def _invitee(self, event, name, email, tracking, old=None):
        uri = "%s/invitees/%s" % (event["uri"], uuid16())
        stamp = iso_us(now_ms())
        invitee = {"uri": uri, "email": email, "name": name, "first_name": name.split()[0],
                   "last_name": " ".join(name.split()[1:]) or None, "status": "active",
                   "timezone": "America/Mexico_City", "event": event["uri"],
                   "scheduled_event": event, "questions_and_answers": [],
                   "tracking": tracking, "cancel_url": "https://calendly.com/cancellations/x",
                   "reschedule_url": "https://calendly.com/reschedulings/x",
                   "rescheduled": False, "old_invitee": old, "new_invitee": None,
                   "created_at": stamp, "updated_at": stamp, "canceled": False,
                   "text_reminder_number": None}
        self.invitees[uri] = invitee
        return invitee

    def _envelope(self, name, invitee):
        return {"created_at": iso_us(now_ms()), "created_by": "%s/users/AAAAUSER" % self.base,
                "event": name, "payload": json.loads(json.dumps(invitee))}

    def _deliver(self, envelopes):
        url, key = self.config.get("webhook_url"), self.config.get("signing_key")
        if url:
            for env in envelopes:
                body = json.dumps(env, separators=(",", ":")).encode()
                self.webhooks.submit(url, lambda b=body: (b, {
                    "Content-Type": "application/json",
                    "Calendly-Webhook-Signature": signature(key or "", b)}))
        return Response(200, {"webhooks": envelopes})

    def extra_control(self, req):
        route = (req.method, req.path.rstrip("/"))
        body = req.json if isinstance(req.json, dict) else {}
        self.base = getattr(self, "base", "http://%s" % req.header("host", "127.0.0.1"))
        with self.lock:
            if route == ("POST", "/__peer/book"):
                url = body.get("booking_url", "")
                base_url = url.split("?")[0]
                link = self.links.get(base_url)
                start = parse_time_ms(body.get("start_time"))
                if link is None or start is None:
                    return Response(400, {"error": "needs a booking_url made here and start_time"})
                if link["used"]:
                    return Response(410, {"error": "this single-use link was used already"})
                link["used"] = True
                query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
                tracking = {k: query.get(k) for k in ("utm_campaign", "utm_source", "utm_medium",
                                                      "utm_content", "utm_term")}
                tracking["salesforce_uuid"] = None
                event = self._schedule(link["owner"], start, int(body.get("duration_min", 45)))
                invitee = self._invitee(event, body.get("name", "Ana Pérez"),
                                        body.get("email", "ana@example.com"), tracking)
                return self._deliver([self._envelope("invitee.created", invitee)])
            if route == ("POST", "/__peer/cancel"):
                invitee = self.invitees.get(body.get("invitee"))
                if invitee is None:
                    return Response(404, {"error": "no such invitee"})
                invitee.update(status="canceled", canceled=True, cancellation={
                    "canceled_by": invitee["name"], "reason": body.get("reason", ""),
                    "canceler_type": "invitee"})
                event = self.events[invitee["event"].rsplit("/", 1)[1]]
                event["status"] = "canceled"
                invitee["scheduled_event"] = dict(event)
                return self._deliver([self._envelope("invitee.canceled", invitee)])
            if route == ("POST", "/__peer/reschedule"):
                old = self.invitees.get(body.get("invitee"))
                start = parse_time_ms(body.get("start_time"))
                if old is None or start is None:
                    return Response(400, {"error": "needs invitee and start_time"})
                old_event = self.events[old["event"].rsplit("/", 1)[1]]
                old_event["status"] = "canceled"
                event = self._schedule(old_event["event_type"], start, 45)
                new = self._invitee(event, old["name"], old["email"], old["tracking"],
                                    old=old["uri"])
                old.update(status="canceled", canceled=True, rescheduled=True,
                           new_invitee=new["uri"], scheduled_event=dict(old_event))
                return self._deliver([self._envelope("invitee.canceled", old),
                                      self._envelope("invitee.created", new)])
        return None


if __name__ == "__main__":
    sys.exit(peerlib.run(CalendlyApp))
