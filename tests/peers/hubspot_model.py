"""Pure pieces of the stand-in HubSpot: no routes, no app state.

Webhook signature helpers (v1, v3), the contact and deal property
definitions, ObjectType (one object type's schema, records and unique-value
index), the rolling rate-limit window, and HubSpot's error bodies with
ApiError to carry one out of nested code. hubspot_peer.py and its mixins
(hubspot_validation, hubspot_batch, hubspot_search, hubspot_associations)
import from here; hubspot_peer.py re-exports what other files use from it.
"""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections import deque

from peerlib import Response, new_uuid

LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
             "opportunity", "customer", "evangelist", "other"]
DEAL_STAGES = [  # (id, label, probability) of the default pipeline
    ("appointmentscheduled", "Appointment Scheduled", "0.2"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4"),
    ("presentationscheduled", "Presentation Scheduled", "0.6"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
    ("contractsent", "Contract Sent", "0.9"),
    ("closedwon", "Closed Won", "1.0"),
    ("closedlost", "Closed Lost", "0.0"),
]
AUTH_MESSAGE = ("Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview")
NOT_FOUND_MESSAGE = "Object not found. objectId are usually numeric."

# v3 signatures are computed over the URI with exactly these escapes decoded.
URI_DECODE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
              "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


# ------------------------------------------------------------ signatures

def decode_signed_uri(uri):
    return re.sub(r"%[0-9A-Fa-f]{2}",
                  lambda m: URI_DECODE.get(m.group(0).upper(), m.group(0)), uri)


def signature_v3(secret, method, uri, body, timestamp_ms):
    message = (method + decode_signed_uri(uri)).encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_v1(secret, body):
    return hashlib.sha256(secret.encode() + body).hexdigest()


# ------------------------------------------------------------ properties

def prop(name, label, type_="string", field="text", unique=False, read_only=False,
         options=None, group="contactinformation"):
    return {
        "name": name, "label": label, "type": type_, "fieldType": field,
        "groupName": group, "description": "", "hasUniqueValue": unique,
        "hidden": False, "formField": not read_only, "calculated": False,
        "externalOptions": False, "displayOrder": -1,
        "modificationMetadata": {"archivable": True, "readOnlyDefinition": True,
                                 "readOnlyValue": read_only},
        "options": [{"label": o, "value": o, "displayOrder": i, "hidden": False}
                    for i, o in enumerate(options or [])],
    }


def contact_properties(with_custom):
    props = [
        prop("email", "Email"), prop("phone", "Phone Number"),
        prop("mobilephone", "Mobile Phone Number"), prop("company", "Company Name"),
        prop("firstname", "First Name"), prop("lastname", "Last Name"),
        prop("hubspot_owner_id", "Contact owner", "enumeration", "select"),
        prop("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", options=LIFECYCLE),
        prop("hs_object_id", "Record ID", "number", "number", read_only=True),
        prop("createdate", "Create Date", "datetime", "date", read_only=True),
        prop("lastmodifieddate", "Last Modified Date", "datetime", "date", read_only=True),
    ]
    if with_custom:
        props += [prop("bird_contact_id", "Bird contact id", unique=True),
                  prop("ai_conversation_status", "AI conversation status"),
                  prop("urbanhub_property_interest", "UrbanHub property interest")]
    return props


def deal_properties(with_custom=True):
    group = "dealinformation"
    props = [
        prop("dealname", "Deal Name", group=group),
        prop("dealstage", "Deal Stage", "enumeration", "radio", group=group),
        prop("pipeline", "Pipeline", "enumeration", "select", group=group),
        prop("amount", "Amount", "number", "number", group=group),
        prop("closedate", "Close Date", "datetime", "date", group=group),
        prop("hubspot_owner_id", "Deal owner", "enumeration", "select", group=group),
        prop("hs_object_id", "Record ID", "number", "number", read_only=True, group=group),
        prop("createdate", "Create Date", "datetime", "date", read_only=True, group=group),
        prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date",
             read_only=True, group=group),
    ]
    if with_custom:
        props += [prop("zhub_deal_key", "zhub deal key", unique=True, group=group),
                  prop("ai_agent_type", "AI agent type", group=group),
                  prop("conversation_id", "Conversation id", group=group),
                  prop("qualification_score", "Qualification score", "number", "number",
                       group=group),
                  prop("property_interest", "Property interest", group=group),
                  prop("tour_scheduled_date", "Tour scheduled date", "datetime", "date",
                       group=group),
                  prop("last_ai_interaction", "Last AI interaction", "datetime", "date",
                       group=group)]
    return props


class ObjectType:
    """One CRM object type: its property schema and its records."""

    def __init__(self, name, singular, props, default_read, modified_prop, id_props=()):
        self.name, self.singular = name, singular
        self.props = {p["name"]: p for p in props}
        self.default_read = default_read
        self.modified_prop = modified_prop
        self.builtin_unique = set(id_props)  # email: unique without the flag
        self.records = {}
        # unique property -> {lower-cased value: record id}, so lookups by a
        # unique value stay O(1) with 20,000 records (bench/sync)
        self.index = {}

    def index_set(self, rid, name, old, new):
        if name not in self.unique_props():
            return
        table = self.index.setdefault(name, {})
        if old is not None and table.get(old.lower()) == rid:
            del table[old.lower()]
        if new is not None and new != "":
            table[new.lower()] = rid

    def index_get(self, name, value):
        if value is None:
            return None
        if name not in self.index:  # a property made unique after records exist
            table = self.index.setdefault(name, {})
            for rid, rec in self.records.items():
                if rec["properties"].get(name) is not None:
                    table[rec["properties"][name].lower()] = rid
        return self.index[name].get(str(value).lower())

    def unique_props(self):
        return self.builtin_unique | {n for n, p in self.props.items() if p["hasUniqueValue"]}

    def system_props(self):
        return ("hs_object_id", "createdate", self.modified_prop)


# ----------------------------------------------------------- rate limits

class RollingWindow:
    """Counts requests in a real rolling window (not fixed buckets)."""

    def __init__(self, limit, seconds):
        self.limit, self.seconds = limit, seconds
        self._hits = deque()
        self._lock = threading.Lock()

    def acquire(self):
        """Returns (allowed, remaining after this request)."""
        with self._lock:
            now = time.monotonic()
            while self._hits and self._hits[0] <= now - self.seconds:
                self._hits.popleft()
            if len(self._hits) >= self.limit:
                return False, 0
            self._hits.append(now)
            return True, self.limit - len(self._hits)


# ---------------------------------------------------------- error bodies

def hs_error(status, message, category, **extra):
    body = {"status": "error", "message": message, "correlationId": new_uuid(),
            "category": category}
    body.update(extra)
    return Response(status, body)


def validation_error(message, **extra):
    return hs_error(400, message, "VALIDATION_ERROR", **extra)


def property_errors(errors):
    """HubSpot's 'Property values were not valid' body (legacy list in message)."""
    legacy = [{"isValid": False, "message": e["message"], "error": e["code"],
               "name": e["context"]["propertyName"][0],
               "localizedErrorMessage": e["message"]} for e in errors]
    return validation_error("Property values were not valid: " + json.dumps(legacy),
                            errors=errors)


def prop_error(name, code, message):
    return {"message": message, "code": code, "context": {"propertyName": [name]}}


def rate_limit_body(policy):
    messages = {"TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
                "DAILY": "You have reached your daily limit.",
                "SECONDLY": "You have reached your secondly limit."}
    return {"status": "error", "message": messages[policy], "errorType": "RATE_LIMIT",
            "correlationId": new_uuid(), "policyName": policy, "requestId": new_uuid()}


class ApiError(Exception):
    """Carries a ready error Response out of nested validation code."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response
