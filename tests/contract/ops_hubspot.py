"""HubSpot operations, read from specs/hubspot.json: a verbatim extract of
HubSpot's own OpenAPI files (github:HubSpot/HubSpot-public-api-spec-collection,
commit in the file and in README.md; made by extract_specs.py).

Each operation's reference is that file, path and operationId. Where
HubSpot's guides contradict a generated OpenAPI detail, OVERRIDES below
changes that one detail and names the guide; nothing else is touched.

Facts kept beside the OpenAPI:
  * Authorization: Bearer <private app or OAuth token>
    (https://developers.hubspot.com/docs/guides/apps/authentication/intro-to-auth);
  * the object type `deals` is the documented name of object type 0-3,
    which the Deals OpenAPI file spells out in its paths
    (https://developers.hubspot.com/docs/guides/api/crm/objects/deals);
  * no "%2F" in a path segment: an object id or idProperty value with '/'
    cannot travel in the path (no HubSpot doc allows it; common Java front
    ends refuse an encoded slash before routing) — look such keys up with
    POST .../batch/read and idProperty.
"""
import copy
import json
import os

from contract import Operation, Param
from schema import Context

HERE = os.path.dirname(os.path.abspath(__file__))
SEARCH_GUIDE = "https://developers.hubspot.com/docs/guides/api/crm/search"
CREATE_GUIDE = "https://developers.hubspot.com/docs/guides/api/crm/objects/contacts"

# (schema name, change, reason): applied to every file's copy of the schema.
OVERRIDES = [
    ("PublicObjectSearchRequest", {"required": []},
     SEARCH_GUIDE + ": a search body may be as small as {}; `after` only pages on"),
    ("PublicObjectSearchRequest", {"properties.sorts.items": {"anyOf": [
        {"type": "string"},
        {"type": "object", "required": ["propertyName"], "additionalProperties": False,
         "properties": {"propertyName": {"type": "string"},
                        "direction": {"type": "string", "enum": ["ASCENDING", "DESCENDING"]}}}]}},
     SEARCH_GUIDE + ": sorts are {\"propertyName\", \"direction\"} objects (the OpenAPI types "
     "them as strings)"),
    ("PublicObjectSearchRequest", {"properties.filterGroups.maxItems": 5,
                                   "properties.limit.maximum": 200},
     SEARCH_GUIDE + ": at most 5 filterGroups; at most 200 results per page"),
    ("FilterGroup", {"properties.filters.maxItems": 6},
     SEARCH_GUIDE + ": at most 6 filters in a group"),
    ("SimplePublicObjectInputForCreate", {"required": ["properties"]},
     CREATE_GUIDE + ": a record is created from `properties` alone; associations are optional"),
]


def _apply(schema, change):
    for dotted, value in change.items():
        node, keys = schema, dotted.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value


def _load():
    with open(os.path.join(HERE, "specs", "hubspot.json")) as f:
        return json.load(f)


def _query(parameters):
    query = {}
    for p in parameters:
        if p.get("in") != "query":
            continue
        schema = p.get("schema", {})
        if schema.get("type") == "array":
            query[p["name"]] = Param(schema.get("items", {"type": "string"}),
                                     p.get("required", False), repeated=True, csv=True)
        else:
            query[p["name"]] = Param(schema, p.get("required", False))
    return query


def operations():
    spec = _load()
    commit = spec["source"]["commit"]
    schemas = copy.deepcopy(spec["schemas"])
    for by_name in schemas.values():
        for name, change, _ in OVERRIDES:
            if name in by_name:
                _apply(by_name[name], change)
    ops = []
    for o in spec["operations"]:
        names = schemas[o["file"]]
        context = Context(lambda ref, names=names: names.get(ref.rsplit("/", 1)[-1]))
        body = None
        if o.get("requestBody"):
            media = o["requestBody"].get("content", {}).get("application/json", {})
            body = ("json", media.get("schema", {}), o["requestBody"].get("required", False))
        reference = ("github:HubSpot/HubSpot-public-api-spec-collection "
                     "PublicApiSpecs/%s @%s, operationId %s" % (o["file"], commit[:12],
                                                                o["operationId"]))
        # named as the guides write it (deals, not 0-3); the reference keeps the spec's path
        name = "%s %s" % (o["method"], o["path"].replace("/objects/0-3", "/objects/deals"))
        ops.append(Operation("hubspot", name, o["method"],
                             o["path"], reference, query=_query(o["parameters"]),
                             auth="Bearer", body=body, context=context,
                             no_encoded_slash=True, alternatives={"0-3": ("deals",)}))
    return ops


def overrides_text():
    return ["%s %s — %s" % (name, json.dumps(change), why) for name, change, why in OVERRIDES]
