"""Google Calendar v3 operations, read from specs/google-calendar-v3.json:
a verbatim extract of Google's discovery document (googleapis/
discovery-artifact-manager discoveries/calendar.v3.json, commit in the file
and README.md; live at https://calendar-json.googleapis.com/$discovery/rest?version=v3),
plus the OAuth 2.0 refresh-token request.

From the discovery document: each method's HTTP method and path (under
servicePath "calendar/v3/"), its query parameters with types and enums
(plus the API-wide ones: alt, fields, key, ...), the request schema with
the per-method required fields (`annotations.required`), and an event id's
documented shape (Event.id: base32hex characters a-v and 0-9, 5 to 1024 of
them). int64 fields (Channel.expiration) travel as decimal strings or
numbers (proto3 JSON mapping).
"""
import json
import os

from contract import Operation, Param
from schema import Context

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN_REFERENCE = ("https://developers.google.com/identity/protocols/oauth2/web-server#offline "
                   "(Refreshing an access token)")
EVENT_ID = r"^[a-v0-9]{5,1024}$"


def _load():
    with open(os.path.join(HERE, "specs", "google-calendar-v3.json")) as f:
        return json.load(f)


def _param(spec):
    schema = {k: v for k, v in spec.items() if k in ("type", "enum", "format", "minimum",
                                                      "maximum", "pattern")}
    return Param(schema, spec.get("required", False), repeated=spec.get("repeated", False))


def _event_id(entry, body):
    if isinstance(body, dict) and "id" in body and isinstance(body["id"], str):
        import re
        if not re.match(EVENT_ID, body["id"]):
            return [("body-schema", "$.id: %r is not a valid event id (base32hex a-v 0-9, "
                     "5-1024 characters)" % body["id"])]
    return []


def operations():
    spec = _load()
    commit = spec["source"]["commit"]
    schemas = spec["schemas"]
    common = {name: _param(p) for name, p in spec["parameters"].items()}
    base = "/" + spec["source"]["servicePath"].strip("/")
    ops = []
    for method_id, m in sorted(spec["methods"].items()):
        query = dict(common)
        segments = {}
        for name, p in m.get("parameters", {}).items():
            if p.get("location") == "query":
                query[name] = _param(p)
        if "eventId" in m.get("parameters", {}):
            segments["eventId"] = EVENT_ID
        body = None
        if "request" in m:
            body = ("json", {"$ref": m["request"]["$ref"]}, True)
        context = Context(lambda ref: schemas.get(ref), method_id=method_id, int64_strings=True)
        reference = ("googleapis/discovery-artifact-manager discoveries/calendar.v3.json @%s "
                     "(revision %s), method %s" % (commit[:12], spec["source"]["revision"],
                                                   method_id))
        path = "%s/%s" % (base, m["path"])
        ops.append(Operation("google", "%s %s" % (m["httpMethod"], path), m["httpMethod"], path,
                             reference, query=query, segments=segments, auth="Bearer",
                             body=body, context=context,
                             extra=_event_id if method_id == "calendar.events.insert" else None))
    # The token endpoint (https://oauth2.googleapis.com/token): a form, no
    # Authorization header (the client authenticates in the form).
    ops.append(Operation("google", "POST /token", "POST", "/token", TOKEN_REFERENCE, auth=None,
                         body=("form", {"client_id": {"required": True},
                                        "client_secret": {"required": True},
                                        "refresh_token": {"required": True},
                                        "grant_type": {"required": True,
                                                       "const": "refresh_token"}})))
    return ops
