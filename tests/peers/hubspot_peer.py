#!/usr/bin/env python3
"""Stand-in for the HubSpot CRM API (https://api.hubapi.com).

Contacts and deals CRUD, batch read/update/upsert/create, search, property
definitions and the deals pipeline, with HubSpot's auth check, error bodies,
rate-limit headers and limits (see /work/shared/peers/API-FACTS.md, section 3).
Optionally sends signed contact/deal webhooks (section 1 and 2).
"""

import base64
import fnmatch
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
from collections import deque
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from peerlib import Response, iso_ms, new_uuid, now_ms, parse_time_ms  # noqa: E402

BATCH_LIMIT = 100
SEARCH_PAGE_MAX = 200
SEARCH_RESULT_CAP = 10000
SEARCH_BODY_MAX = 3000
SEARCH_GROUPS_MAX, SEARCH_FILTERS_PER_GROUP, SEARCH_FILTERS_TOTAL = 5, 6, 18
FIRST_ID = 501

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


# ------------------------------------------------------------------ app

TYPES = "contacts|deals"
ROUTES = [
    ("POST", r"/crm/v3/objects/contacts/gdpr-delete", "gdpr_delete"),
    ("POST", r"/crm/v3/objects/(?P<kind>%s)/search" % TYPES, "search"),
    ("POST", r"/crm/v3/objects/(?P<kind>%s)/batch/(?P<op>read|update|upsert|create)" % TYPES,
     "batch"),
    ("POST", r"/crm/v3/objects/(?P<kind>%s)" % TYPES, "create"),
    ("GET", r"/crm/v3/objects/(?P<kind>%s)" % TYPES, "list"),
    ("GET", r"/crm/v3/objects/(?P<kind>%s)/(?P<oid>[^/]+)" % TYPES, "read"),
    ("PATCH", r"/crm/v3/objects/(?P<kind>%s)/(?P<oid>[^/]+)" % TYPES, "update"),
    ("DELETE", r"/crm/v3/objects/(?P<kind>%s)/(?P<oid>[^/]+)" % TYPES, "delete"),
    ("GET", r"/crm/v3/properties/(?P<kind>%s)" % TYPES, "list_props"),
    ("POST", r"/crm/v3/properties/(?P<kind>%s)" % TYPES, "create_prop"),
    ("GET", r"/crm/v3/properties/(?P<kind>%s)/(?P<name>[^/]+)" % TYPES, "read_prop"),
    ("GET", r"/crm/v3/pipelines/deals", "pipelines"),
    ("GET", r"/crm/v3/pipelines/deals/(?P<pid>[^/]+)", "pipeline"),
    ("PUT", r"/crm/v4/objects/(?P<kind>%s)/(?P<oid>[^/]+)/associations/default/"
            r"(?P<to>%s)/(?P<toid>[^/]+)" % (TYPES, TYPES), "associate_default"),
    ("PUT", r"/crm/v4/objects/(?P<kind>%s)/(?P<oid>[^/]+)/associations/"
            r"(?P<to>%s)/(?P<toid>[^/]+)" % (TYPES, TYPES), "associate_labelled"),
    ("GET", r"/crm/v4/objects/(?P<kind>%s)/(?P<oid>[^/]+)/associations/(?P<to>%s)"
            % (TYPES, TYPES), "associations"),
    ("POST", r"/crm/v4/associations/(?P<kind>%s)/(?P<to>%s)/batch/associate/default"
             % (TYPES, TYPES), "associate_batch"),
]
# Default (unlabelled) association type ids, by direction (API-FACTS.md section 3).
DEFAULT_ASSOCIATION = {("contacts", "deals"): 4, ("deals", "contacts"): 3,
                       ("contacts", "contacts"): 449, ("deals", "deals"): 451}
COMPILED = [(m, re.compile(p + r"/?\Z"), h) for m, p, h in ROUTES]


class HubSpotApp(peerlib.PeerApp):
    """Stand-in HubSpot CRM API (contacts, deals, search, properties)."""

    config_keys = ("webhook_url", "app_secret")

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--token", help="accepted bearer token (default: any non-empty)")
        parser.add_argument("--rate-max", type=int, default=190,
                            help="requests per rolling 10 s (default 190)")
        parser.add_argument("--daily", type=int, default=625000, help="requests per day")
        parser.add_argument("--search-rate", type=int, default=5,
                            help="search requests per rolling second (default 5)")
        parser.add_argument("--no-custom-properties", action="store_true",
                            help="start without bird_contact_id & co (test provisioning)")
        parser.add_argument("--webhook-url", help="POST contact/deal webhooks here")
        parser.add_argument("--app-secret", default="hubspot-peer-secret",
                            help="client secret used to sign webhooks")
        parser.add_argument("--portal-id", type=int, default=62515)
        parser.add_argument("--app-id", type=int, default=54321)
        parser.add_argument("--webhook-properties",
                            help="comma list: only these raise propertyChange events")

    def reset_state(self):
        custom = not self.args.no_custom_properties
        self.types = {
            "contacts": ObjectType("contacts", "contact", contact_properties(custom),
                                   ["createdate", "email", "firstname", "hs_object_id",
                                    "lastmodifieddate", "lastname"],
                                   "lastmodifieddate", id_props=["email"]),
            "deals": ObjectType("deals", "deal", deal_properties(custom),
                                ["amount", "closedate", "createdate", "dealname", "dealstage",
                                 "hs_lastmodifieddate", "hs_object_id", "pipeline"],
                                "hs_lastmodifieddate"),
        }
        self.next_id = FIRST_ID
        self.next_event_id = 1
        # associations v4: (from type, from id, to type, to id) -> [type ids]
        self.associations = {}
        # who is writing: API calls are the integration, /__peer/ui_edit a person
        self.source = ("INTEGRATION", str(self.args.app_id))
        self.daily_used = 0
        self.ten_secondly = RollingWindow(self.args.rate_max, 10.0)
        self.secondly_search = RollingWindow(self.args.search_rate, 1.0)

    def state_snapshot(self):
        return {kind: list(t.records.values()) for kind, t in self.types.items()} | {
            "custom_properties": {kind: [n for n, p in t.props.items() if "createdAt" in p]
                                  for kind, t in self.types.items()},
            "daily_used": self.daily_used,
            "associations": [{"from": {"type": f, "id": fi}, "to": {"type": t, "id": ti},
                              "types": types}
                             for (f, fi, t, ti), types in self.associations.items()]}

    # ------------------------------------------------------------ request flow
    def handle(self, req):
        if not self._authorized(req):
            return hs_error(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")
        handler, groups, allowed = self._route(req)
        if handler is None:
            if allowed:
                return hs_error(405, "HTTP %s is not supported by %s" % (req.method, req.path),
                                "VALIDATION_ERROR")
            return hs_error(404, "Unable to route request: %s %s" % (req.method, req.path),
                            "OBJECT_NOT_FOUND")
        if handler == "search":
            return self._limited_search(req, groups)
        return self._limited_call(req, handler, groups)

    def _authorized(self, req):
        scheme, _, token = req.header("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        return self.args.token is None or token == self.args.token

    def _route(self, req):
        allowed = False
        for method, pattern, handler in COMPILED:
            match = pattern.match(req.path)
            if match:
                if method == req.method:
                    return handler, match.groupdict(), True
                allowed = True
        return None, None, allowed

    def _limited_search(self, req, groups):
        # Search has its own per-second limit and never carries rate headers.
        allowed, _ = self.secondly_search.acquire()
        if not allowed:
            return Response(429, rate_limit_body("SECONDLY"))
        return self._dispatch(req, "search", groups)

    def _limited_call(self, req, handler, groups):
        with self.lock:
            daily_ok = self.daily_used < self.args.daily
        if not daily_ok:
            return Response(429, rate_limit_body("DAILY"), self._rate_headers(0))
        allowed, remaining = self.ten_secondly.acquire()
        if not allowed:
            return Response(429, rate_limit_body("TEN_SECONDLY_ROLLING"), self._rate_headers(0))
        with self.lock:
            self.daily_used += 1
        resp = self._dispatch(req, handler, groups)
        resp.headers.update(self._rate_headers(remaining))
        return resp

    def _rate_headers(self, remaining):
        with self.lock:
            daily_left = max(self.args.daily - self.daily_used, 0)
        return {"X-HubSpot-RateLimit-Daily": str(self.args.daily),
                "X-HubSpot-RateLimit-Daily-Remaining": str(daily_left),
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Max": str(self.args.rate_max),
                "X-HubSpot-RateLimit-Remaining": str(remaining)}

    def _dispatch(self, req, handler, groups):
        events = []
        try:
            with self.lock:
                resp = getattr(self, "h_" + handler)(req, events, **groups)
        except ApiError as exc:
            resp = exc.response
        if events:
            self._send_webhooks(events)
        resp.headers.setdefault("X-HubSpot-Correlation-Id", new_uuid())
        return resp

    def fault_response(self, fault, req):
        headers = peerlib.retry_after_header(fault)
        if fault.status == 429:
            is_search = req.path.endswith("/search")
            if not is_search:
                headers.update(self._rate_headers(0))
            policy = "SECONDLY" if is_search else "TEN_SECONDLY_ROLLING"
            return Response(429, rate_limit_body(policy), headers)
        body = {"status": "error", "message": "Injected fault (HTTP %d)" % fault.status,
                "correlationId": new_uuid(), "category": "INTERNAL_ERROR"}
        return Response(fault.status, body, headers)

    # ----------------------------------------------------------- body helpers
    @staticmethod
    def _json_body(req):
        if req.json_error:
            raise ApiError(validation_error("Invalid input JSON: " + req.json_error))
        if not isinstance(req.json, dict):
            raise ApiError(validation_error("Invalid input JSON: expected an object"))
        return req.json

    def _inputs(self, body):
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise ApiError(validation_error("Invalid input JSON: 'inputs' must be a list"))
        if len(inputs) > BATCH_LIMIT:
            raise ApiError(validation_error(
                "Batch input size %d exceeds the limit of %d" % (len(inputs), BATCH_LIMIT)))
        return inputs

    @staticmethod
    def _properties_of(container):
        props = container.get("properties", {})
        if not isinstance(props, dict):
            raise ApiError(validation_error("Invalid input JSON: 'properties' must be an object"))
        return props

    @staticmethod
    def _requested(req, param="properties"):
        """?properties=a,b (repeatable) -> list; None when absent."""
        if param not in req.params:
            return None
        names = []
        for value in req.params[param]:
            names += [n.strip() for n in value.split(",") if n.strip()]
        return names

    # ------------------------------------------------------------ validation
    def _clean_props(self, otype, props):
        """Validates a write; returns HubSpot's string-typed values."""
        errors, clean = [], {}
        for name, value in props.items():
            error, text = self._check_value(otype, name, value)
            if error:
                errors.append(error)
            else:
                clean[name] = text
        if errors:
            raise ApiError(property_errors(errors))
        return clean

    def _check_value(self, otype, name, value):
        definition = otype.props.get(name)
        if definition is None:
            return prop_error(name, "PROPERTY_DOESNT_EXIST",
                              'Property "%s" does not exist' % name), None
        if definition["modificationMetadata"]["readOnlyValue"]:
            return prop_error(name, "READ_ONLY_VALUE",
                              '"%s" is a read only property; its value cannot be set.'
                              % name), None
        if isinstance(value, (dict, list)):
            return prop_error(name, "INVALID_PROPERTY_VALUE",
                              '%s was not a valid value for "%s"' % (json.dumps(value), name)), None
        text = self._to_text(value)
        if text == "":
            return None, ""  # clears the value
        return self._check_text(otype, definition, name, text)

    @staticmethod
    def _to_text(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value).strip() if isinstance(value, str) else str(value)

    def _check_text(self, otype, definition, name, text):
        if name == "email":
            text = text.lower()
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
                return prop_error(name, "INVALID_EMAIL",
                                  "Email address %s is invalid" % text), None
        options = [o["value"] for o in definition["options"]]
        if options and text not in options:
            return prop_error(name, "INVALID_OPTION",
                              '%s was not one of the allowed options: %s'
                              % (text, ", ".join(options))), None
        if definition["type"] == "number":
            try:
                float(text)
            except ValueError:
                return prop_error(name, "INVALID_DECIMAL",
                                  '%s is not a valid number for "%s"' % (text, name)), None
        if definition["type"] in ("datetime", "date"):
            ms = parse_time_ms(text)
            if ms is None:
                return prop_error(name, "INVALID_DATE",
                                  '%s is not a valid date for "%s"' % (text, name)), None
            text = iso_ms(ms)
        return None, text

    def _check_deal_stage(self, props, creating=False):
        missing = [n for n in ("dealname", "dealstage") if creating and not props.get(n)]
        if missing:
            raise ApiError(property_errors([prop_error(
                n, "REQUIRED_PROPERTY", 'Property "%s" is required' % n) for n in missing]))
        stage = props.get("dealstage")
        if stage and stage not in [s[0] for s in DEAL_STAGES]:
            raise ApiError(property_errors([prop_error(
                "dealstage", "INVALID_OPTION",
                "%s was not one of the allowed options for pipeline default" % stage)]))
        pipeline = props.get("pipeline")
        if pipeline and pipeline != "default":
            raise ApiError(property_errors([prop_error(
                "pipeline", "INVALID_OPTION", "%s is not a valid pipeline id" % pipeline)]))

    def _unique_owner(self, otype, props, exclude=None):
        """Id of another record already holding one of the unique values."""
        for name in otype.unique_props():
            value = props.get(name)
            if not value:
                continue
            rid = otype.index_get(name, value)
            if rid is not None and rid != exclude and rid in otype.records:
                return rid
        return None

    @staticmethod
    def _same(a, b):
        return a is not None and b is not None and a.lower() == b.lower()

    def _conflict(self, otype, existing_id):
        return hs_error(409, "%s already exists. Existing ID: %s"
                        % (otype.singular.capitalize(), existing_id), "CONFLICT")

    # ---------------------------------------------------------- record store
    def _type(self, kind):
        return self.types[kind]

    def _resolve(self, otype, key, id_property):
        """Record for an id, or for a unique property value (?idProperty=)."""
        if not id_property or id_property == "hs_object_id":
            return otype.records.get(key)
        if id_property not in otype.props:
            raise ApiError(property_errors([prop_error(
                id_property, "PROPERTY_DOESNT_EXIST",
                'Property "%s" does not exist' % id_property)]))
        if id_property not in otype.unique_props():
            raise ApiError(validation_error(
                "%s is not a unique identifier property for %s" % (id_property, otype.name)))
        rid = otype.index_get(id_property, key)
        return otype.records.get(rid) if rid is not None else None

    def _create(self, otype, props, events):
        rid = str(self.next_id)
        self.next_id += 1
        ms = now_ms()
        values = {k: v for k, v in props.items() if v != ""}
        values.update({"hs_object_id": rid, "createdate": iso_ms(ms),
                       otype.modified_prop: iso_ms(ms)})
        rec = {"id": rid, "properties": values, "createdAt": iso_ms(ms),
               "updatedAt": iso_ms(ms), "archived": False, "history": {}}
        self._remember(rec, values, ms)
        otype.records[rid] = rec
        for name, value in values.items():
            otype.index_set(rid, name, None, value)
        self._queue_events(events, otype, rid, True, {k: v for k, v in props.items() if v})
        return rec

    def _update(self, otype, rec, props, events):
        changed = {}
        current = rec["properties"]
        for name, value in props.items():
            if name == "lifecyclestage" and self._moves_backward(current.get(name), value):
                continue  # HubSpot keeps the later stage; clear it first to go back
            if current.get(name, "") != value:
                changed[name] = value
                otype.index_set(rec["id"], name, current.get(name), value)
                if value == "":
                    current.pop(name, None)
                else:
                    current[name] = value
        ms = now_ms()
        current[otype.modified_prop] = iso_ms(ms)
        rec["updatedAt"] = iso_ms(ms)
        self._remember(rec, changed, ms)
        self._queue_events(events, otype, rec["id"], False, changed)
        return rec

    def _remember(self, rec, changed, ms):
        """Property history, newest first, as propertiesWithHistory shows it."""
        history = rec.setdefault("history", {})
        for name, value in changed.items():
            history.setdefault(name, []).insert(0, {
                "value": value, "timestamp": iso_ms(ms), "sourceType": self.source[0],
                "sourceId": self.source[1]})

    @staticmethod
    def _moves_backward(old, new):
        if not old or not new or old not in LIFECYCLE or new not in LIFECYCLE:
            return False
        return LIFECYCLE.index(new) < LIFECYCLE.index(old)

    def _render_history(self, otype, rec, names):
        """propertiesWithHistory: {name: [{value, timestamp, sourceType, sourceId}]}."""
        return {n: list(rec.get("history", {}).get(n, [])) for n in names if n in otype.props}

    def _render(self, otype, rec, names=None):
        """Requested (or default) properties plus the three system ones.

        A requested property without a value comes back as null; an unknown
        one is silently left out, as HubSpot does.
        """
        names = otype.default_read if names is None else names
        shown = {n: rec["properties"].get(n) for n in names if n in otype.props}
        for name in otype.system_props():
            shown[name] = rec["properties"].get(name)
        return {"id": rec["id"], "properties": shown, "createdAt": rec["createdAt"],
                "updatedAt": rec["updatedAt"], "archived": False}

    # ----------------------------------------------------------- endpoints
    def h_create(self, req, events, kind):
        otype = self._type(kind)
        body = self._json_body(req)
        props = self._clean_props(otype, self._properties_of(body))
        if kind == "deals":
            self._check_deal_stage(props, creating=True)
        owner = self._unique_owner(otype, props)
        if owner:
            return self._conflict(otype, owner)
        rec = self._create(otype, props, events)
        return Response(201, self._render(otype, rec, list(rec["properties"])))

    def h_read(self, req, events, kind, oid):
        otype = self._type(kind)
        key = unquote(oid)
        rec = self._resolve(otype, key, req.param("idProperty"))
        if rec is None:
            return hs_error(404, NOT_FOUND_MESSAGE, "OBJECT_NOT_FOUND", context={"id": [key]})
        shown = self._render(otype, rec, self._requested(req))
        with_history = self._requested(req, "propertiesWithHistory")
        if with_history:
            shown["propertiesWithHistory"] = self._render_history(otype, rec, with_history)
        return Response(200, shown)

    def h_list(self, req, events, kind):
        otype = self._type(kind)
        try:
            limit = min(int(req.param("limit", "10")), 100)
            after = int(req.param("after", "0") or 0)
        except ValueError:
            return validation_error("limit and after must be integers")
        records = sorted(otype.records.values(), key=lambda r: int(r["id"]))
        page = [r for r in records if int(r["id"]) > after][:limit]
        body = {"results": [self._render(otype, r, self._requested(req)) for r in page]}
        if page and page[-1] is not records[-1]:
            body["paging"] = {"next": {"after": page[-1]["id"]}}
        return Response(200, body)

    def h_update(self, req, events, kind, oid):
        otype = self._type(kind)
        key = unquote(oid)
        body = self._json_body(req)
        props = self._clean_props(otype, self._properties_of(body))
        rec = self._resolve(otype, key, req.param("idProperty"))
        if rec is None:
            return hs_error(404, NOT_FOUND_MESSAGE, "OBJECT_NOT_FOUND", context={"id": [key]})
        if kind == "deals":
            self._check_deal_stage(props)
        owner = self._unique_owner(otype, props, exclude=rec["id"])
        if owner:
            return self._conflict(otype, owner)
        self._update(otype, rec, props, events)
        return Response(200, self._render(otype, rec, list(props)))

    def h_delete(self, req, events, kind, oid):
        # Archiving is idempotent: HubSpot answers 204 for unknown ids too.
        otype = self._type(kind)
        rec = otype.records.pop(unquote(oid), None)
        for name, value in (rec["properties"].items() if rec else ()):
            otype.index_set(rec["id"], name, value, None)
        return Response(204)

    def h_gdpr_delete(self, req, events):
        """POST /crm/v3/objects/contacts/gdpr-delete {"objectId", "idProperty"?}:
        deletes the contact for good (no restore) with its associations;
        204, or 404 when no contact has that id (or e-mail). With webhooks
        on, HubSpot's contact.deletion and contact.privacyDeletion follow."""
        otype = self._type("contacts")
        body = self._json_body(req)
        key, id_property = body.get("objectId"), body.get("idProperty")
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)
        if not isinstance(key, str) or not key:
            return validation_error("Invalid input JSON: objectId is required")
        if id_property not in (None, "", "hs_object_id", "email"):
            return validation_error("idProperty must be email when given (was %s)" % id_property)
        rec = self._resolve(otype, key, id_property or None)
        if rec is None:
            return hs_error(404, NOT_FOUND_MESSAGE, "OBJECT_NOT_FOUND", context={"id": [key]})
        rid = rec["id"]
        del otype.records[rid]
        for name, value in rec["properties"].items():
            otype.index_set(rid, name, value, None)
        self.associations = {pair: types for pair, types in self.associations.items()
                             if ("contacts", rid) not in (pair[:2], pair[2:])}
        if self.config.get("webhook_url"):
            # HubSpot sends both, in any order and maybe in separate batches.
            events.append(self._event("contact.deletion", rid))
            events.append(self._event("contact.privacyDeletion", rid))
        return Response(204)

    # -- batch
    def h_batch(self, req, events, kind, op):
        otype = self._type(kind)
        body = self._json_body(req)
        inputs = self._inputs(body)
        started = iso_ms(now_ms())
        if op == "read":
            results, missing = self._batch_read(otype, body, inputs)
        elif op == "update":
            results, missing = self._batch_update(otype, inputs, events)
        elif op == "create":
            results, missing = self._batch_create(otype, inputs, events), []
        else:
            results, missing = self._batch_upsert(otype, body, inputs, events), []
        return self._batch_answer(otype, op, results, missing, started)

    def _batch_answer(self, otype, op, results, missing, started):
        answer = {"status": "COMPLETE", "results": results, "startedAt": started,
                  "completedAt": iso_ms(now_ms())}
        if missing:
            answer["numErrors"] = 1
            answer["errors"] = [{
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some %s objects, they may be deleted or not exist. "
                           "Check that ids are valid." % otype.singular.upper(),
                "context": {"ids": missing}}]
            return Response(207, answer)
        return Response(201 if op == "create" else 200, answer)

    def _batch_read(self, otype, body, inputs):
        names = body.get("properties")
        names = names if isinstance(names, list) and names else None
        results, missing = [], []
        for item in inputs:
            key = str(item.get("id", ""))
            rec = self._resolve(otype, key, body.get("idProperty"))
            if rec is None:
                missing.append(key)
            else:
                results.append(self._render(otype, rec, names))
        return results, missing

    @staticmethod
    def _no_duplicates(keys):
        seen, dupes = set(), []
        for key in keys:
            if key.lower() in seen:
                dupes.append(key)
            seen.add(key.lower())
        if dupes:
            raise ApiError(validation_error("Duplicate IDs found in batch input: %s" % dupes))

    def _batch_update(self, otype, inputs, events):
        keys = [str(i.get("id", "")) for i in inputs]
        self._no_duplicates(keys)
        plans, missing = [], []
        for key, item in zip(keys, inputs):
            props = self._clean_props(otype, self._properties_of(item))
            rec = self._resolve(otype, key, item.get("idProperty"))
            if rec is None:
                missing.append(key)
                continue
            owner = self._unique_owner(otype, props, exclude=rec["id"])
            if owner:
                raise ApiError(self._conflict(otype, owner))
            plans.append((rec, props))
        results = [self._render(otype, self._update(otype, rec, props, events), list(props))
                   for rec, props in plans]
        return results, missing

    def _batch_create(self, otype, inputs, events):
        plans = [self._clean_props(otype, self._properties_of(i)) for i in inputs]
        for props in plans:
            owner = self._unique_owner(otype, props)
            if owner:
                raise ApiError(self._conflict(otype, owner))
        return [self._render(otype, rec, list(rec["properties"]))
                for rec in (self._create(otype, p, events) for p in plans)]

    def _batch_upsert(self, otype, body, inputs, events):
        """Validate every input first, then apply: a bad input changes nothing."""
        plans = [self._upsert_plan(otype, body, item) for item in inputs]
        self._no_duplicates([key for _, key, _, _ in plans])
        if otype.name == "deals":
            for _, _, props, rec in plans:
                self._check_deal_stage(props, creating=rec is None)
        results = []
        for id_prop, key, props, rec in plans:
            if rec is None:
                props = dict(props, **{id_prop: key.lower() if id_prop == "email" else key})
                rec, new = self._create(otype, props, events), True
            else:
                self._update(otype, rec, props, events)
                new = False
            shown = self._render(otype, rec, list(props))
            shown["new"] = new
            results.append(shown)
        return results

    def _upsert_plan(self, otype, body, item):
        id_prop = item.get("idProperty") or body.get("idProperty")
        key = str(item.get("id", "")).strip()
        if not id_prop or not key:
            raise ApiError(validation_error(
                "Each upsert input needs 'id' and 'idProperty' (email or a unique property)"))
        if id_prop not in otype.props:
            raise ApiError(property_errors([prop_error(
                id_prop, "PROPERTY_DOESNT_EXIST", 'Property "%s" does not exist' % id_prop)]))
        if id_prop not in otype.unique_props():
            raise ApiError(validation_error(
                "idProperty %s is not a unique property; use email or a property "
                "with hasUniqueValue=true" % id_prop))
        props = self._clean_props(otype, self._properties_of(item))
        rec = self._resolve(otype, key, id_prop)
        owner = self._unique_owner(otype, dict(props, **{id_prop: key}),
                                   exclude=rec["id"] if rec else None)
        if owner:
            raise ApiError(self._conflict(otype, owner))
        return id_prop, key, props, rec

    # -- search
    def h_search(self, req, events, kind):
        otype = self._type(kind)
        if len(req.body) > SEARCH_BODY_MAX:
            return validation_error("Search request body is over %d characters" % SEARCH_BODY_MAX)
        body = self._json_body(req) if req.body else {}
        groups = self._search_groups(otype, body)
        limit, after = self._search_page(body)
        matches = [r for r in otype.records.values()
                   if self._matches_groups(otype, r["properties"], groups)
                   and self._matches_query(r["properties"], body.get("query"))]
        matches = self._sorted(otype, matches, body.get("sorts") or [])
        names = body.get("properties") if isinstance(body.get("properties"), list) else None
        answer = {"total": len(matches),
                  "results": [self._render(otype, r, names) for r in matches[after:after + limit]]}
        if after + limit < len(matches):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return Response(200, answer)

    @staticmethod
    def _search_page(body):
        try:
            limit = int(body.get("limit", 10))
            after = int(body.get("after") or 0)
        except (TypeError, ValueError):
            raise ApiError(validation_error("limit and after must be integers"))
        if limit < 0 or limit > SEARCH_PAGE_MAX:
            raise ApiError(validation_error(
                "limit must be between 0 and %d, got %d" % (SEARCH_PAGE_MAX, limit)))
        if after < 0 or after >= SEARCH_RESULT_CAP:
            raise ApiError(validation_error(
                "Paging is limited to %d results; 'after' %d is beyond it"
                % (SEARCH_RESULT_CAP, after)))
        return limit, after

    @staticmethod
    def _search_groups(otype, body):
        groups = body.get("filterGroups") or []
        if not isinstance(groups, list):
            raise ApiError(validation_error("filterGroups must be a list"))
        filters = [f for g in groups for f in (g.get("filters") or [])]
        if (len(groups) > SEARCH_GROUPS_MAX
                or any(len(g.get("filters") or []) > SEARCH_FILTERS_PER_GROUP for g in groups)
                or len(filters) > SEARCH_FILTERS_TOTAL):
            raise ApiError(validation_error(
                "Too many filters: at most %d filterGroups, %d filters per group and %d "
                "filters in total" % (SEARCH_GROUPS_MAX, SEARCH_FILTERS_PER_GROUP,
                                      SEARCH_FILTERS_TOTAL)))
        for f in filters:
            if f.get("propertyName") not in otype.props:
                raise ApiError(validation_error(
                    "There was a problem with the request: property %s does not exist"
                    % f.get("propertyName")))
        return groups

    def _matches_groups(self, otype, values, groups):
        if not groups:
            return True
        return any(all(self._matches_filter(otype, values, f) for f in g.get("filters") or [])
                   for g in groups)

    def _matches_filter(self, otype, values, flt):
        name, op = flt["propertyName"], flt.get("operator", "EQ")
        value = values.get(name)
        if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            return (value is not None) == (op == "HAS_PROPERTY")
        if op in ("IN", "NOT_IN"):
            member = any(self._compare(otype, name, value, v) == 0
                         for v in flt.get("values") or [])
            return value is not None and member if op == "IN" else not member
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            found = value is not None and self._has_token(value, str(flt.get("value", "")))
            return found == (op == "CONTAINS_TOKEN")
        if value is None:
            return op == "NEQ"
        if op == "BETWEEN":
            return (self._compare(otype, name, value, flt.get("value")) >= 0
                    and self._compare(otype, name, value, flt.get("highValue")) <= 0)
        cmp = self._compare(otype, name, value, flt.get("value"))
        checks = {"EQ": cmp == 0, "NEQ": cmp != 0, "LT": cmp < 0, "LTE": cmp <= 0,
                  "GT": cmp > 0, "GTE": cmp >= 0}
        if op not in checks:
            raise ApiError(validation_error("Unknown search operator %s" % op))
        return checks[op]

    @staticmethod
    def _has_token(value, token):
        token = token.lower()
        tokens = [t for t in re.split(r"[^\w*]+", value.lower()) if t]
        if "*" in token:
            return any(fnmatch.fnmatchcase(t, token) for t in tokens + [value.lower()])
        return token in tokens or token == value.lower()

    def _compare(self, otype, name, left, right):
        """-1/0/1 comparing a stored value with a filter value, HubSpot-style:
        dates as epoch ms (ms or ISO accepted), numbers numerically, strings
        case-insensitively."""
        a, b = self._sort_key(otype, name, left), self._sort_key(otype, name, right)
        if type(a) is not type(b):
            a, b = str(left).lower(), str(right).lower()
        return (a > b) - (a < b)

    @staticmethod
    def _sort_key(otype, name, value):
        kind = otype.props.get(name, {}).get("type")
        if kind in ("datetime", "date"):
            ms = parse_time_ms(value)
            if ms is not None:
                return float(ms)
        if kind == "number":
            try:
                return float(value)
            except (TypeError, ValueError):
                pass
        return str(value).lower()

    @staticmethod
    def _matches_query(values, query):
        if not query:
            return True
        text = " ".join(str(values.get(n, "")) for n in
                        ("email", "firstname", "lastname", "phone", "dealname"))
        return str(query).lower() in text.lower()

    def _sorted(self, otype, records, sorts):
        records = sorted(records, key=lambda r: int(r["id"]))
        for spec in reversed(sorts[:1]):  # HubSpot honours a single sort
            if isinstance(spec, str):
                name, descending = spec.lstrip("-"), spec.startswith("-")
            else:
                name = spec.get("propertyName")
                descending = spec.get("direction", "ASCENDING") == "DESCENDING"
            present = [r for r in records if r["properties"].get(name) is not None]
            absent = [r for r in records if r["properties"].get(name) is None]
            present.sort(key=lambda r: self._sort_key(otype, name, r["properties"][name]),
                         reverse=descending)
            records = present + absent
        return records

    # -- associations v4
    def _associate(self, kind, oid, to, toid, types):
        for name, rid in ((kind, oid), (to, toid)):
            if rid not in self._type(name).records:
                raise ApiError(hs_error(404, "No %s with id %s" % (self._type(name).singular, rid),
                                        "OBJECT_NOT_FOUND"))
        forward = self.associations.setdefault((kind, oid, to, toid), [])
        for t in types:
            if t not in forward:
                forward.append(t)
        back = self.associations.setdefault((to, toid, kind, oid), [])
        reverse = {"associationCategory": "HUBSPOT_DEFINED",
                   "associationTypeId": DEFAULT_ASSOCIATION[(to, kind)]}
        if reverse not in back:
            back.append(reverse)

    @staticmethod
    def _default_type(kind, to):
        return {"associationCategory": "HUBSPOT_DEFINED",
                "associationTypeId": DEFAULT_ASSOCIATION[(kind, to)]}

    def h_associate_default(self, req, events, kind, oid, to, toid):
        self._associate(kind, unquote(oid), to, unquote(toid), [self._default_type(kind, to)])
        return Response(200, {"status": "COMPLETE", "results": [{
            "from": {"id": unquote(oid)}, "to": {"id": unquote(toid)},
            "associationSpec": self._default_type(kind, to)}],
            "startedAt": iso_ms(now_ms()), "completedAt": iso_ms(now_ms())})

    def h_associate_labelled(self, req, events, kind, oid, to, toid):
        body = req.json
        if req.json_error or not isinstance(body, list) or not body or not all(
                isinstance(t, dict) and t.get("associationCategory") in
                ("HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED", "WORK")
                and isinstance(t.get("associationTypeId"), int) for t in body):
            return validation_error("Invalid input JSON: expected a list of "
                                    "{associationCategory, associationTypeId}")
        self._associate(kind, unquote(oid), to, unquote(toid), body)
        return Response(201, {"fromObjectTypeId": kind, "fromObjectId": int(unquote(oid)),
                              "toObjectTypeId": to, "toObjectId": int(unquote(toid)),
                              "labels": []})

    def h_associate_batch(self, req, events, kind, to):
        inputs = self._inputs(self._json_body(req))
        pairs = []
        for item in inputs:
            src, dst = item.get("from"), item.get("to")
            if not isinstance(src, dict) or not isinstance(dst, dict) \
                    or not src.get("id") or not dst.get("id"):
                return validation_error("Invalid input JSON: each input needs from.id and to.id")
            pairs.append((str(src["id"]), str(dst["id"])))
        for oid, toid in pairs:
            self._associate(kind, oid, to, toid, [self._default_type(kind, to)])
        return Response(200, {"status": "COMPLETE", "results": [
            {"from": {"id": a}, "to": {"id": b}, "associationSpec": self._default_type(kind, to)}
            for a, b in pairs], "startedAt": iso_ms(now_ms()), "completedAt": iso_ms(now_ms())})

    def h_associations(self, req, events, kind, oid, to):
        oid = unquote(oid)
        if oid not in self._type(kind).records:
            return hs_error(404, NOT_FOUND_MESSAGE, "OBJECT_NOT_FOUND", context={"id": [oid]})
        results = [{"toObjectId": int(toid), "associationTypes": [
                       {"category": t["associationCategory"], "typeId": t["associationTypeId"],
                        "label": None} for t in types]}
                   for (f, fi, t_, toid), types in sorted(self.associations.items())
                   if f == kind and fi == oid and t_ == to and toid in self._type(to).records]
        return Response(200, {"results": results[:500]})

    # -- a person editing in HubSpot's UI (control endpoint)
    def extra_control(self, req):
        if (req.method, req.path.rstrip("/")) != ("POST", "/__peer/ui_edit"):
            return None
        body = req.json if isinstance(req.json, dict) else {}
        kind, rid, props = body.get("kind"), str(body.get("id", "")), body.get("properties")
        if kind not in self.types or not isinstance(props, dict):
            return Response(400, {"error": "needs kind (contacts|deals), id, properties"})
        events = []
        with self.lock:
            otype = self._type(kind)
            rec = otype.records.get(rid)
            if rec is None:
                return Response(404, {"error": "no such record"})
            self.source = ("CRM_UI", "userId:%s" % body.get("user_id", 882761034))
            try:
                clean = self._clean_props(otype, props)
                self._update(otype, rec, clean, events)
            except ApiError as exc:
                return exc.response
            finally:
                self.source = ("INTEGRATION", str(self.args.app_id))
            shown = self._render(otype, rec, list(clean))
        if events:
            self._send_webhooks(events)
        return Response(200, shown)

    # -- properties and pipelines
    def h_list_props(self, req, events, kind):
        return Response(200, {"results": list(self._type(kind).props.values())})

    def h_read_prop(self, req, events, kind, name):
        definition = self._type(kind).props.get(unquote(name))
        if definition is None:
            return hs_error(404, "Unable to find property %s" % name, "OBJECT_NOT_FOUND")
        return Response(200, definition)

    def h_create_prop(self, req, events, kind):
        otype = self._type(kind)
        body = self._json_body(req)
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName")
                   if not body.get(k)]
        if missing:
            return validation_error("Missing required fields: %s" % ", ".join(missing))
        name = body["name"]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            return validation_error("Property name %s must be lower-case letters, digits "
                                    "and underscores" % name)
        if name in otype.props:
            return hs_error(409, "Property named '%s' already exists." % name,
                            "OBJECT_ALREADY_EXISTS")
        definition = prop(name, body["label"], body["type"], body["fieldType"],
                          unique=bool(body.get("hasUniqueValue")),
                          options=[o.get("value") for o in body.get("options") or []],
                          group=body["groupName"])
        definition["description"] = body.get("description", "")
        definition["createdAt"] = definition["updatedAt"] = iso_ms(now_ms())
        otype.props[name] = definition
        return Response(201, definition)

    def h_pipelines(self, req, events):
        return Response(200, {"results": [self._pipeline()]})

    def h_pipeline(self, req, events, pid):
        if pid != "default":
            return hs_error(404, "Unable to find pipeline %s" % pid, "OBJECT_NOT_FOUND")
        return Response(200, self._pipeline())

    @staticmethod
    def _pipeline():
        stamp = "2020-01-01T00:00:00.000Z"
        stages = [{"id": sid, "label": label, "displayOrder": i, "archived": False,
                   "createdAt": stamp, "updatedAt": stamp,
                   "metadata": {"isClosed": str(sid.startswith("closed")).lower(),
                                "probability": probability}}
                  for i, (sid, label, probability) in enumerate(DEAL_STAGES)]
        return {"id": "default", "label": "Sales Pipeline", "displayOrder": 0,
                "archived": False, "createdAt": stamp, "updatedAt": stamp, "stages": stages}

    # ---------------------------------------------------------------- webhooks
    def _queue_events(self, events, otype, rid, created, changed):
        if not self.config.get("webhook_url"):
            return
        watched = self.args.webhook_properties
        watched = set(watched.split(",")) if watched else None
        if created:
            events.append(self._event(otype.singular + ".creation", rid, changeFlag="NEW"))
        for name, value in changed.items():
            if name not in otype.system_props() and (watched is None or name in watched):
                events.append(self._event(otype.singular + ".propertyChange", rid,
                                          propertyName=name, propertyValue=value))

    def _event(self, subscription_type, rid, **extra):
        self.next_event_id += 1
        event = {"eventId": self.next_event_id,
                 "subscriptionId": _SUBSCRIPTION_IDS[subscription_type],
                 "portalId": self.args.portal_id, "appId": self.args.app_id,
                 "occurredAt": now_ms(), "subscriptionType": subscription_type,
                 "attemptNumber": 0, "objectId": int(rid), "changeSource": self.source[0],
                 "sourceId": self.source[1]}
        event.update(extra)
        return event

    def _send_webhooks(self, events):
        url, secret = self.config.get("webhook_url"), self.config.get("app_secret") or ""
        if not url:
            return
        for start in range(0, len(events), BATCH_LIMIT):
            batch = events[start:start + BATCH_LIMIT]
            self.webhooks.submit(url, lambda b=batch: self._signed(url, secret, b))

    @staticmethod
    def _signed(url, secret, events):
        body = json.dumps(events, separators=(",", ":")).encode()
        stamp = str(now_ms())
        return body, {"Content-Type": "application/json",
                      "X-HubSpot-Signature": signature_v1(secret, body),
                      "X-HubSpot-Signature-Version": "v1",
                      "X-HubSpot-Signature-v3": signature_v3(secret, "POST", url, body, stamp),
                      "X-HubSpot-Request-Timestamp": stamp}


_SUBSCRIPTIONS = {"contact.creation", "contact.propertyChange", "deal.creation",
                  "deal.propertyChange"}
# Ids in the order subscriptions were added, so earlier ones keep theirs.
_SUBSCRIPTION_IDS = {t: 1000 + i for i, t in enumerate(
    sorted(_SUBSCRIPTIONS) + ["contact.deletion", "contact.privacyDeletion"])}


# ---- engagements (notes, tasks, meetings) for activity-log: see hubspot_engagements.py
import hubspot_engagements  # noqa: E402
hubspot_engagements.install(HubSpotApp, COMPILED, ApiError)


if __name__ == "__main__":
    # Headers and body leave in two writes; with Nagle on, a keep-alive
    # client's delayed ACK adds ~40 ms to every call. Real APIs answer in
    # one segment, so the stand-in turns Nagle off.
    peerlib.PeerHandler.disable_nagle_algorithm = True
    sys.exit(peerlib.run(HubSpotApp))
