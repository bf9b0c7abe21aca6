#!/usr/bin/env python3
"""Stand-in for the Bird API (https://api.bird.com).

Workspace contacts (create, read, update, upsert by identifier, list by
identifier) and channel messages (send -> 202, free text or template), with
the AccessKey auth check (see https://docs.bird.com/api). WhatsApp's 24-hour
window is kept per contact: free text to someone who has not written in the
last 24 hours is accepted and then fails, as on the real service. Optionally
delivers signed `whatsapp.inbound` webhooks (POST /__peer/inbound) and
`whatsapp.outbound` reports of failed messages.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import sys
import uuid
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from peerlib import Response, iso_ms, new_uuid, now_ms  # noqa: E402

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Workspaces, channels and template projects are UUIDs: "workspaceId string ·
# uuid", "channelId string · uuid" in
# https://docs.bird.com/api/channels-api/supported-channels/programmable-whatsapp/sending-whatsapp-messages
# and https://docs.bird.com/api/contacts-api/api-reference/manage-workspace-contacts/update-a-contact.
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SCALAR = (str, int, float, bool)
# WhatsApp's customer-service window: free-form messages only within 24 h of
# the person's last message; outside it only templates (Meta:
# https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows,
# Bird: https://docs.bird.com/api/channels-api/supported-channels/programmable-whatsapp/customer-service-window).
WINDOW_MS = 24 * 3600 * 1000
# What WhatsApp answers a free-form message outside the window: error 131047
# "Re-engagement message" (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
REENGAGEMENT = ("131047", "Message failed to send because more than 24 hours have passed "
                "since the customer last replied to this number.")
STRATEGIES = ("strict_alias", "first_alias", "first")

WS = r"/workspaces/(?P<ws>[^/]+)"
ROUTES = [
    ("PATCH", WS + r"/contacts/identifiers/(?P<key>[^/]+)/(?P<value>[^/]+)", "upsert"),
    ("POST", WS + r"/contacts", "create"),
    ("GET", WS + r"/contacts", "list"),
    ("GET", WS + r"/contacts/(?P<cid>[^/]+)", "read"),
    ("PATCH", WS + r"/contacts/(?P<cid>[^/]+)", "update"),
    ("DELETE", WS + r"/contacts/(?P<cid>[^/]+)", "delete"),
    ("GET", WS + r"/channels/(?P<channel>[^/]+)", "channel"),
    ("POST", WS + r"/channels/(?P<channel>[^/]+)/messages", "send"),
    ("GET", WS + r"/channels/(?P<channel>[^/]+)/messages/(?P<mid>[^/]+)", "message"),
]
COMPILED = [(m, re.compile(p + r"/?\Z"), h) for m, p, h in ROUTES]


def signature(signing_key, timestamp, url, body):
    """messagebird-signature: base64 HMAC-SHA256 over ts \\n url \\n sha256(body) raw."""
    message = ("%s\n%s\n" % (timestamp, url)).encode() + hashlib.sha256(body).digest()
    digest = hmac.new(signing_key.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def bird_error(status, code, message, **extra):
    body = {"code": code, "message": message}
    body.update(extra)
    return Response(status, body)


def invalid(details):
    """422 for a body that fails validation; `details` maps field -> reasons."""
    return bird_error(422, "InvalidPayload", "The request did not pass validation",
                      details=details)


class ApiError(Exception):
    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


def uuid_arg(text):
    if not UUID.fullmatch(text or ""):
        raise argparse.ArgumentTypeError("%r is not a UUID (Bird ids are UUIDs)" % text)
    return text


def identifier_key(key, value):
    """Index key: e-mail addresses match case-insensitively."""
    return key.lower(), value.lower() if "@" in value else value


class BirdApp(peerlib.PeerApp):
    """Stand-in Bird API (contacts and channel messages)."""

    config_keys = ("webhook_url", "signing_key")

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--access-key", help="accepted key (default: any non-empty)")
        parser.add_argument("--workspace-id", type=uuid_arg,
                            help="only this workspace exists (a UUID; default: any)")
        parser.add_argument("--channel-id", action="append", type=uuid_arg,
                            help="only these channels exist (UUIDs, repeatable; default: any)")
        parser.add_argument("--channel-status", default="active",
                            help="status every channel reports (active, inactive, ...)")
        parser.add_argument("--webhook-url", help="POST channel webhooks here")
        parser.add_argument("--signing-key", default="bird-peer-signing-key",
                            help="signingKey of the webhook subscription")

    def reset_state(self):
        self.contacts = {}
        self.owners = {}  # identifier_key(key, value) -> contact id
        self.messages = {}
        self.last_inbound = {}  # contact id -> ms of the last message they sent

    def state_snapshot(self):
        return {"contacts": [self._render(c) for c in self.contacts.values()],
                "messages": list(self.messages.values()),
                "last_inbound": dict(self.last_inbound)}

    # --------------------------------------------------------- request flow
    def handle(self, req):
        scheme, _, key = req.header("authorization", "").partition(" ")
        key = key.strip()
        if scheme != "AccessKey" or not key or (self.args.access_key
                                                 and key != self.args.access_key):
            return bird_error(401, "Unauthorized", "Invalid or missing access key; "
                              "send 'Authorization: AccessKey <key>'")
        for method, pattern, handler in COMPILED:
            match = pattern.match(req.path)
            if match and method == req.method:
                return self._dispatch(req, handler, match.groupdict())
        return bird_error(404, "NotFound", "No route for %s %s" % (req.method, req.path))

    def _dispatch(self, req, handler, groups):
        ws = groups.pop("ws")
        # A path id that is not a UUID fails validation (422, as Bird answers
        # "The request did not pass validation" for bad path and query values
        # in https://docs.bird.com/api/channels-api/api-reference/channels-management).
        for name, value in (("workspaceId", ws), ("channelId", groups.get("channel"))):
            if value is not None and not UUID.fullmatch(value):
                return invalid({name: ["must be a UUID"]})
        if self.args.workspace_id and ws != self.args.workspace_id:
            return bird_error(404, "NotFound", "workspace %s not found" % ws)
        try:
            with self.lock:
                return getattr(self, "h_" + handler)(req, ws, **groups)
        except ApiError as exc:
            return exc.response

    def fault_response(self, fault, req):
        codes = {429: "TooManyRequests", 500: "InternalServerError",
                 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
        body = {"code": codes.get(fault.status, "Error"),
                "message": "Injected fault (HTTP %d)" % fault.status}
        return Response(fault.status, body, peerlib.retry_after_header(fault))

    # ------------------------------------------------------------ validation
    @staticmethod
    def _json_body(req):
        if req.json_error or not isinstance(req.json, dict):
            raise ApiError(invalid({"body": ["must be a JSON object"]}))
        return req.json

    @staticmethod
    def _identifiers(items, field):
        if items is None:
            return []
        if not isinstance(items, list):
            raise ApiError(invalid({field: ["must be a list"]}))
        found = []
        for item in items:
            key = item.get("key") if isinstance(item, dict) else None
            value = item.get("value") if isinstance(item, dict) else None
            if not isinstance(key, str) or not key or not isinstance(value, str) or not value:
                raise ApiError(invalid({field: ["each identifier needs key and value"]}))
            if key == "phonenumber" and not E164.fullmatch(value):
                raise ApiError(invalid({field: ["phonenumber %s is not E.164 (+countrycode...)"
                                                % value]}))
            if key == "emailaddress" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
                raise ApiError(invalid({field: ["emailaddress %s is invalid" % value]}))
            found.append({"key": key, "value": value})
        return found

    @staticmethod
    def _attributes(value):
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ApiError(invalid({"attributes": ["must be an object"]}))
        for name, item in value.items():
            ok = item is None or isinstance(item, SCALAR) or (
                isinstance(item, list) and item and all(isinstance(v, SCALAR) for v in item))
            if not ok:
                raise ApiError(invalid({"attributes." + name: [
                    "must be boolean, number, string, a non-empty array of those, or null"]}))
        return value

    @staticmethod
    def _display_name(body):
        """Create only: `displayName` (string, 1 to 150, required) is a body
        field of POST .../contacts, and Bird keeps it as the attribute
        displayName (the example answer of
        https://docs.bird.com/api/contacts-api/api-reference/manage-workspace-contacts/create-a-contact).
        The update and upsert bodies document no such field
        (https://docs.bird.com/api/contacts-api/api-reference/manage-workspace-contacts/update-a-contact,
        .../create-or-update-a-contact-by-identifier): there a name is the
        attributes displayName / firstName / lastName, and other top-level
        properties are accepted ("Other properties: any") but change nothing."""
        name = body.get("displayName")
        if not isinstance(name, str) or not 1 <= len(name) <= 150:
            raise ApiError(invalid({"displayName": ["required, 1 to 150 characters"]}))
        return name

    def _owner(self, ident):
        return self.owners.get(identifier_key(ident["key"], ident["value"]))

    def _duplicate(self, ident, owner):
        return ApiError(bird_error(
            409, "DuplicateIdentifier", "Duplicate identifier: %s %s already belongs to "
            "contact %s" % (ident["key"], ident["value"], owner),
            details={"key": ident["key"], "value": ident["value"], "contactId": owner}))

    # ---------------------------------------------------------- contact store
    def _new_contact(self, ws, identifiers, attributes):
        stamp = iso_ms(now_ms())
        contact = {"id": new_uuid(), "workspaceId": ws,
                   "identifiers": [], "attributes": {}, "listIds": [],
                   "createdAt": stamp, "updatedAt": stamp}
        self.contacts[contact["id"]] = contact
        self._change(contact, attributes, identifiers, [])
        return contact

    def _change(self, contact, attributes, add, remove):
        """Applies an update; callers have checked identifier ownership."""
        for name, value in attributes.items():
            if value is None:
                contact["attributes"].pop(name, None)
            else:
                contact["attributes"][name] = value
        for ident in remove:
            k = identifier_key(ident["key"], ident["value"])
            contact["identifiers"] = [i for i in contact["identifiers"]
                                      if identifier_key(i["key"], i["value"]) != k]
            if self.owners.get(k) == contact["id"]:
                del self.owners[k]
        for ident in add:
            k = identifier_key(ident["key"], ident["value"])
            if self.owners.get(k) != contact["id"]:
                contact["identifiers"].append(dict(ident))
                self.owners[k] = contact["id"]
        contact["updatedAt"] = iso_ms(now_ms())

    def _render(self, contact):
        """Bird's contact shape: featuredIdentifiers, identifierCount, and the
        identifiers mirrored into attributes as lists (per Bird's examples)."""
        attributes = dict(contact["attributes"])
        for ident in contact["identifiers"]:
            attributes.setdefault(ident["key"], [])
            if isinstance(attributes[ident["key"]], list):
                attributes[ident["key"]].append(ident["value"])
        return {"id": contact["id"], "computedDisplayName": self._computed_name(contact),
                "featuredIdentifiers": [dict(i) for i in contact["identifiers"]],
                "identifierCount": len(contact["identifiers"]),
                "attributes": attributes, "listIds": list(contact["listIds"]),
                "workspaceId": contact["workspaceId"],
                "createdAt": contact["createdAt"], "updatedAt": contact["updatedAt"]}

    @staticmethod
    def _computed_name(contact):
        attrs = contact["attributes"]
        if attrs.get("displayName"):
            return str(attrs["displayName"])
        name = " ".join(str(attrs[k]) for k in ("firstName", "lastName") if attrs.get(k))
        if name:
            return name
        return contact["identifiers"][0]["value"] if contact["identifiers"] else ""

    def _contact_or_404(self, ws, cid):
        contact = self.contacts.get(cid)
        if contact is None or contact["workspaceId"] != ws:
            raise ApiError(bird_error(404, "NotFound", "contact %s not found" % cid))
        return contact

    # -------------------------------------------------------------- contacts
    def h_create(self, req, ws):
        body = self._json_body(req)
        name = self._display_name(body)
        identifiers = self._identifiers(body.get("identifiers"), "identifiers")
        attributes = dict(self._attributes(body.get("attributes")), displayName=name)
        for ident in identifiers:
            owner = self._owner(ident)
            if owner:
                raise self._duplicate(ident, owner)
        contact = self._new_contact(ws, identifiers, attributes)
        contact["listIds"] = list(body.get("listIds") or [])
        return Response(201, self._render(contact))

    def h_read(self, req, ws, cid):
        return Response(200, self._render(self._contact_or_404(ws, cid)))

    def h_delete(self, req, ws, cid):
        contact = self._contact_or_404(ws, cid)
        self._change(contact, {}, [], list(contact["identifiers"]))
        del self.contacts[cid]
        self.last_inbound.pop(cid, None)
        return Response(204)

    def h_update(self, req, ws, cid):
        contact = self._contact_or_404(ws, cid)
        body = self._json_body(req)
        add = self._identifiers(body.get("addIdentifiers"), "addIdentifiers")
        remove = self._identifiers(body.get("removeIdentifiers"), "removeIdentifiers")
        attributes = self._attributes(body.get("attributes"))
        for ident in add:
            owner = self._owner(ident)
            if owner and owner != cid:
                raise self._duplicate(ident, owner)
        self._change(contact, attributes, add, remove)
        return Response(200, self._render(contact))

    def h_upsert(self, req, ws, key, value):
        """PATCH .../contacts/identifiers/{key}/{value}: 200 updated, 201 created."""
        body = self._json_body(req) if req.body else {}
        path_ident = self._identifiers([{"key": unquote(key), "value": unquote(value)}],
                                       "identifier")[0]
        add = self._identifiers(body.get("addIdentifiers"), "addIdentifiers")
        remove = self._identifiers(body.get("removeIdentifiers"), "removeIdentifiers")
        attributes = self._attributes(body.get("attributes"))
        strategy = body.get("strategy", "strict_alias")
        if strategy not in STRATEGIES:
            raise ApiError(invalid({"strategy": ["one of %s" % ", ".join(STRATEGIES)]}))
        contact, add = self._upsert_target(path_ident, add, strategy)
        if contact is None:
            identifiers = [path_ident] + ([] if strategy == "first" else add)
            contact = self._new_contact(ws, identifiers, attributes)
            return Response(201, self._render(contact))
        self._change(contact, attributes, add, remove)
        return Response(200, self._render(contact))

    def _upsert_target(self, path_ident, add, strategy):
        """(existing contact or None, identifiers to add) for a strategy."""
        owner = self._owner(path_ident)
        if strategy == "strict_alias":
            owners = {o for o in [owner] + [self._owner(i) for i in add] if o}
            if len(owners) > 1:
                clash = next(i for i in add if self._owner(i) and self._owner(i) != owner)
                raise self._duplicate(clash, self._owner(clash))
            owner = owners.pop() if owners else None
        if owner is None:
            return None, add
        if strategy == "first":
            return self.contacts[owner], []
        # first_alias (and strict_alias after its check): add what is free.
        return self.contacts[owner], [i for i in add if self._owner(i) in (None, owner)]

    def h_list(self, req, ws):
        key, value = req.param("identifierKey"), req.param("identifierValue")
        contacts = [c for c in self.contacts.values() if c["workspaceId"] == ws]
        if key and value:
            owner = self.owners.get(identifier_key(key, value))
            contacts = [c for c in contacts if c["id"] == owner]
        try:
            limit = int(req.param("limit", "10"))
        except ValueError:
            raise ApiError(invalid({"limit": ["must be an integer"]}))
        return Response(200, {"results": [self._render(c) for c in contacts[:limit]],
                              "nextPageToken": ""})

    # -------------------------------------------------------------- messages
    def _check_channel(self, channel):
        if self.args.channel_id and channel not in self.args.channel_id:
            raise ApiError(bird_error(404, "NotFound", "channel %s not found" % channel))

    def h_channel(self, req, ws, channel):
        """Get a channel: GET /workspaces/{ws}/channels/{channelId}, the
        channel object of https://docs.bird.com/api/channels-api/api-reference/channels-management
        (id, platformId, name, connectorId, identifier, status, ...); 404
        for a channel the workspace does not have."""
        self._check_channel(channel)
        stamp = iso_ms(now_ms())
        return Response(200, {"id": channel, "platformId": "whatsapp", "name": "WhatsApp",
                              "connectorId": self._connector_id(channel),
                              "identifier": "+5215500000000",
                              "status": self.args.channel_status,
                              "createdAt": stamp, "updatedAt": stamp})

    def h_send(self, req, ws, channel):
        self._check_channel(channel)
        body = self._json_body(req)
        receivers = self._receivers(ws, body)
        if ("body" in body) == ("template" in body):
            raise ApiError(invalid({"body": ["send exactly one of body or template"]}))
        if "body" in body:
            self._check_message_body(body["body"])
        else:
            self._check_template(body["template"])
        stamp = iso_ms(now_ms())
        message = {"id": new_uuid(), "channelId": channel,
                   "sender": {"connector": {"id": self._connector_id(channel)}},
                   "receiver": {"contacts": receivers},
                   "reference": body.get("reference", ""),
                   "status": "accepted", "reason": "", "direction": "outgoing",
                   "lastStatusAt": stamp, "createdAt": stamp, "updatedAt": stamp}
        for field in ("body", "template", "replyTo", "meta"):
            if field in body:
                message[field] = body[field]
        self.messages[message["id"]] = message
        answer = Response(202, dict(message))
        self._settle(message)
        return answer

    def _settle(self, message):
        """What happens after the 202 (Bird's statuses:
        https://docs.bird.com/api/channels-api/message-status-and-interactions):
        a template, or free text to a contact who wrote in the last 24 h, is
        delivered; free text to anyone else is handed to WhatsApp, which
        refuses it (131047), so it ends delivery_failed and, with a webhook
        URL, a signed whatsapp.outbound event reports it (only failures are
        reported: a subscription to every status would bring sent and
        delivered too)."""
        now = now_ms()
        closed = "body" in message and any(
            c["id"] not in self.last_inbound or now - self.last_inbound[c["id"]] >= WINDOW_MS
            for c in message["receiver"]["contacts"])
        message["status"] = "delivery_failed" if closed else "delivered"
        if closed:
            message["reason"], message["details"] = REENGAGEMENT
        message["lastStatusAt"] = message["updatedAt"] = iso_ms(now)
        url = self.config.get("webhook_url")
        if closed and url:
            event = {"service": "channels", "event": "whatsapp.outbound",
                     "payload": dict(message)}
            body = json.dumps(event, separators=(",", ":")).encode()
            self.webhooks.submit(url, lambda: (body, self._signed_headers(url, body)))

    @staticmethod
    def _check_template(template):
        """Bird's template message: {"projectId", "version", "locale",
        "parameters": [{"type", "key", "value"}]}
        (https://docs.bird.com/api/channels-api/message-types/template)."""
        if not isinstance(template, dict):
            raise ApiError(invalid({"template": ["must be an object"]}))
        if not isinstance(template.get("projectId"), str) or not UUID.fullmatch(
                template["projectId"]):
            raise ApiError(invalid({"template.projectId": ["required, a UUID"]}))
        for field in ("version", "locale"):
            if not isinstance(template.get(field), str) or not template[field]:
                raise ApiError(invalid({"template." + field: ["required"]}))
        params = template.get("parameters", [])
        if not isinstance(params, list) or not all(
                isinstance(p, dict) and isinstance(p.get("type"), str)
                and isinstance(p.get("key"), str) and p["key"] and "value" in p
                for p in params):
            raise ApiError(invalid({"template.parameters": [
                "a list of {type, key, value}"]}))

    def _receivers(self, ws, body):
        """Resolves receiver.contacts; unknown identifiers get a new contact,
        as Bird auto-creates the receiver."""
        contacts = (body.get("receiver") or {}).get("contacts")
        if not isinstance(contacts, list) or not contacts:
            raise ApiError(invalid({"receiver.contacts": ["at least one contact is required"]}))
        resolved = []
        for item in contacts:
            if not isinstance(item, dict):
                raise ApiError(invalid({"receiver.contacts": ["must be objects"]}))
            if item.get("id") and not item.get("identifierKey"):
                contact = self._contact_or_404(ws, item["id"])
                ident = contact["identifiers"][0] if contact["identifiers"] else {}
            else:
                ident = self._identifiers([{"key": item.get("identifierKey"),
                                            "value": item.get("identifierValue")}],
                                          "receiver.contacts")[0]
                owner = self._owner(ident)
                contact = self.contacts[owner] if owner else self._new_contact(
                    ws, [ident], {})
            resolved.append({"id": contact["id"], "identifierKey": ident.get("key"),
                             "identifierValue": ident.get("value"), "type": "to"})
        return resolved

    @staticmethod
    def _check_message_body(content):
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            raise ApiError(invalid({"body.type": ["required"]}))
        if content["type"] == "text":
            text = (content.get("text") or {}).get("text")
            if not isinstance(text, str) or not text:
                raise ApiError(invalid({"body.text.text": ["required, non-empty"]}))

    @staticmethod
    def _connector_id(channel):
        # Stable per channel, so tests can compare ids across calls.
        return str(uuid.uuid5(uuid.NAMESPACE_URL, channel))

    def h_message(self, req, ws, channel, mid):
        message = self.messages.get(mid)
        if message is None or message["channelId"] != channel:
            raise ApiError(bird_error(404, "NotFound", "message %s not found" % mid))
        return Response(200, message)

    # ----------------------------------------------------- inbound webhooks
    def extra_control(self, req):
        if (req.method, req.path.rstrip("/")) == ("POST", "/__peer/inbound"):
            return self._inbound(req)
        return None

    def _inbound(self, req):
        """Simulates a WhatsApp user writing in: builds a whatsapp.inbound
        event like samples/bird-message-created.json, signs it and POSTs it
        to the webhook URL synchronously; answers with the delivery result."""
        spec = req.json if isinstance(req.json, dict) else {}
        url = self.config.get("webhook_url")
        if not url:
            return Response(409, {"error": "no webhook_url: use --webhook-url or "
                                           "POST /__peer/config"})
        sender = spec.get("from")
        if not isinstance(sender, str) or not E164.fullmatch(sender):
            return Response(400, {"error": "'from' must be an E.164 phone number"})
        # "sent_at": when the person wrote (default now); an earlier time
        # stands for a message whose window has since closed.
        sent_at = peerlib.parse_time_ms(spec.get("sent_at", now_ms()))
        if sent_at is None or sent_at > now_ms() + 60000:
            return Response(400, {"error": "'sent_at' must be a time (ms or ISO 8601), not ahead"})
        event = self._inbound_event(spec, sender, sent_at)
        body = json.dumps(event, separators=(",", ":")).encode()
        status, error = self.webhooks.send_now(url, body, self._signed_headers(url, body))
        return Response(200, {"status": status, "error": error, "event": event})

    def _inbound_event(self, spec, sender, sent_at):
        channel = spec.get("channelId") or (self.args.channel_id or [new_uuid()])[0]
        ws = self.args.workspace_id or "00000000-0000-0000-0000-000000000000"
        with self.lock:
            ident = {"key": "phonenumber", "value": sender}
            owner = self._owner(ident)
            contact_id = owner or self._new_contact(ws, [ident], {})["id"]
            # the person wrote: their 24-hour window opens (or starts again)
            self.last_inbound[contact_id] = max(self.last_inbound.get(contact_id, 0), sent_at)
        stamp = iso_ms(sent_at)
        payload = {
            "id": new_uuid(), "channelId": channel,
            "sender": {"contact": {"id": contact_id, "identifierKey": "phonenumber",
                                   "identifierValue": sender}},
            "receiver": {"connector": {"id": self._connector_id(channel),
                                       "identifierValue": ""}},
            "body": {"type": "text", "text": {"text": str(spec.get("text", ""))}},
            "meta": {"extraInformation": {"timestamp": str(sent_at // 1000)}},
            "reference": "", "parts": [{"platformReference": "wamid." + new_uuid().replace(
                "-", "").upper()}],
            "status": "delivered", "reason": "", "direction": "incoming",
            "lastStatusAt": stamp, "createdAt": stamp, "updatedAt": stamp}
        return {"service": "channels", "event": spec.get("event", "whatsapp.inbound"),
                "payload": payload}

    def _signed_headers(self, url, body):
        stamp = str(now_ms() // 1000)
        key = self.config.get("signing_key") or ""
        return {"Content-Type": "application/json",
                "messagebird-signature": signature(key, stamp, url, body),
                "messagebird-request-timestamp": stamp,
                "messagebird-request-id": new_uuid()}


if __name__ == "__main__":
    # Headers and body leave in two writes; with Nagle on, a keep-alive
    # client's delayed ACK adds ~40 ms to every call. Real APIs answer in
    # one segment, so the stand-in turns Nagle off.
    peerlib.PeerHandler.disable_nagle_algorithm = True
    sys.exit(peerlib.run(BirdApp))
