#!/usr/bin/env python3
"""Stand-in for the HubSpot CRM API (https://api.hubapi.com).

Contacts and deals CRUD, batch read/update/upsert/create, search, property
definitions and the deals pipeline, with HubSpot's auth check, error bodies,
rate-limit headers and limits (see https://developers.hubspot.com/docs/api/crm/understanding-the-crm and github.com/HubSpot/HubSpot-public-api-spec-collection).
Optionally sends signed contact/deal webhooks (section 1 and 2).

This file holds the app: routes, auth and rate limits, the record store,
single-object CRUD, GDPR delete, properties, pipelines and webhooks. The
rest lives beside it: hubspot_model.py (signatures, property definitions,
object types, error bodies), hubspot_validation.py, hubspot_batch.py,
hubspot_search.py and hubspot_associations.py (mixins HubSpotApp derives
from) and hubspot_engagements.py (installed at the end).
"""

import json
import os
import re
import sys
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from peerlib import Response, iso_ms, new_uuid, now_ms  # noqa: E402
from hubspot_model import (  # noqa: E402
    AUTH_MESSAGE, DEAL_STAGES, LIFECYCLE, NOT_FOUND_MESSAGE, ApiError, ObjectType,
    RollingWindow, contact_properties, deal_properties, hs_error, prop, prop_error,
    property_errors, rate_limit_body, signature_v1, signature_v3, validation_error)
from hubspot_associations import AssociationsMixin  # noqa: E402
from hubspot_batch import BatchMixin  # noqa: E402
from hubspot_search import SearchMixin  # noqa: E402
from hubspot_validation import ValidationMixin  # noqa: E402

BATCH_LIMIT = 100
FIRST_ID = 501
# "%2F" in a path: HubSpot's API front end (Java/Jetty) refuses an escaped
# "/" inside a path segment before any API code sees the request, with
# Jetty's URI compliance error "Ambiguous URI path separator" (RFC 3986
# section 3.3) and its HTML error page, not HubSpot's JSON error body.
ENCODED_SLASH = re.compile(r"%2[fF]")


def ambiguous_path(path):
    reason = "Ambiguous URI path separator"
    page = ("<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;"
            "charset=ISO-8859-1\"/>\n<title>Error 400 %s</title>\n</head>\n<body>"
            "<h2>HTTP ERROR 400 %s</h2>\n<table>\n<tr><th>URI:</th><td>%s</td></tr>\n"
            "<tr><th>STATUS:</th><td>400</td></tr>\n<tr><th>MESSAGE:</th><td>%s</td></tr>\n"
            "</table>\n</body>\n</html>\n" % (reason, reason, path, reason))
    return Response(400, page.encode("iso-8859-1", "replace"),
                    {"Content-Type": "text/html;charset=iso-8859-1"})

# Private-app token introspection (HubSpot, "Legacy private apps" >
# "View private app access token information":
# https://developers.hubspot.com/docs/apps/legacy-apps/private-apps/overview):
# POST {"tokenKey": "<token>"} answers {"userId", "hubId", "appId",
# "scopes": [...]}. The token travels in the body, so the call needs no
# Authorization header (HubSpot asks for one with EU tokens; it is accepted).
TOKEN_INFO_PATH = "/oauth/v2/private-apps/get/access-token-info"
# What a private app created with the scopes zhub needs holds (the CRM
# object and schema scopes of contacts and deals, per the security
# sections of HubSpot-public-api-spec-collection's CRM specs).
DEFAULT_SCOPES = ("crm.objects.contacts.read,crm.objects.contacts.write,"
                  "crm.objects.deals.read,crm.objects.deals.write,"
                  "crm.schemas.contacts.read,crm.schemas.contacts.write,"
                  "crm.schemas.deals.read,crm.schemas.deals.write")

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
COMPILED = [(m, re.compile(p + r"/?\Z"), h) for m, p, h in ROUTES]


class HubSpotApp(ValidationMixin, BatchMixin, SearchMixin, AssociationsMixin,
                 peerlib.PeerApp):
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
        parser.add_argument("--scopes", default=DEFAULT_SCOPES,
                            help="comma list: the scopes the token holds, as the "
                                 "token-info endpoint reports them")
        parser.add_argument("--user-id", type=int, default=2620517,
                            help="the user who created the private app")
        # toObjectId in v4 association reads: the spec collection has both
        # (PublicApiSpecs/CRM/Associations/Rollouts/50914/v4: integer;
        # .../130902/v4 and the dated 2025-09+ rollouts: string).
        parser.add_argument("--v4-object-ids", choices=("integer", "string"),
                            default="integer",
                            help="JSON type of toObjectId in v4 association reads")

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
        # property values that were not JSON strings (see _note_value_types)
        self.violations = []
        self.current_req = None

    def state_snapshot(self):
        return {kind: list(t.records.values()) for kind, t in self.types.items()} | {
            "custom_properties": {kind: [n for n, p in t.props.items() if "createdAt" in p]
                                  for kind, t in self.types.items()},
            "daily_used": self.daily_used,
            "contract_violations": list(self.violations),
            "associations": [{"from": {"type": f, "id": fi}, "to": {"type": t, "id": ti},
                              "types": types}
                             for (f, fi, t, ti), types in self.associations.items()]}

    # ------------------------------------------------------------ request flow
    def handle(self, req):
        if ENCODED_SLASH.search(req.path):
            return ambiguous_path(req.path)
        if req.path.rstrip("/") == TOKEN_INFO_PATH:
            return self._token_info(req)
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

    def _token_info(self, req):
        if req.method != "POST":
            return hs_error(405, "HTTP %s is not supported by %s" % (req.method, req.path),
                            "VALIDATION_ERROR")
        body = req.json if isinstance(req.json, dict) else {}
        token = body.get("tokenKey")
        if not isinstance(token, str) or not token.strip():
            return validation_error("Invalid input JSON: tokenKey is required")
        # HubSpot does not document its answer for a token it does not know;
        # the stand-in answers as its other endpoints answer such a token.
        if self.args.token is not None and token.strip() != self.args.token:
            return hs_error(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")
        scopes = [s.strip() for s in self.args.scopes.split(",") if s.strip()]
        return Response(200, {"userId": self.args.user_id, "hubId": self.args.portal_id,
                              "appId": self.args.app_id, "scopes": scopes})

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
                self.current_req = req
                try:
                    resp = getattr(self, "h_" + handler)(req, events, **groups)
                finally:
                    self.current_req = None
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
        deletes the contact for good (no restore) with its associations and
        the activity that was only about it (eng_forget_contact);
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
        self.eng_forget_contact(rid)
        if self.config.get("webhook_url"):
            # HubSpot sends both, in any order and maybe in separate batches.
            events.append(self._event("contact.deletion", rid))
            events.append(self._event("contact.privacyDeletion", rid))
        return Response(204)

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
