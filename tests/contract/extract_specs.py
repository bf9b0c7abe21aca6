"""Copies, verbatim, the operations the contract checker needs out of the
providers' official machine-readable references into specs/:

  specs/hubspot.json          from HubSpot's OpenAPI files
                              (github:HubSpot/HubSpot-public-api-spec-collection)
  specs/google-calendar-v3.json  from Google's Calendar v3 discovery document
                              (googleapis/discovery-artifact-manager,
                              discoveries/calendar.v3.json)

Nothing is rewritten: each operation keeps its parameters and request body
as published, and each schema a kept operation reaches through $ref is
copied whole. The checker reads only these files; re-run this script to
refresh them and name the new commits in README.md.

    python3 extract_specs.py --hubspot-root DIR --hubspot-commit SHA \
        --google-discovery FILE --google-commit SHA

DIR is a checkout of the HubSpot collection (its PublicApiSpecs folder
inside); FILE is calendar.v3.json.
"""
import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# (file under PublicApiSpecs, method, path as published). Only what zhub
# calls or is likely to call on these objects; an operation not listed is
# unknown to the checker, which is the point.
HUBSPOT_OPERATIONS = []
for _kind, _file, _id in (("contacts", "CRM/Contacts/Rollouts/424/v3/contacts.json", "{contactId}"),
                          ("0-3", "CRM/Deals/Rollouts/424/v3/deals.json", "{dealId}"),
                          ("notes", "CRM/Notes/Rollouts/424/v3/notes.json", "{noteId}"),
                          ("tasks", "CRM/Tasks/Rollouts/424/v3/tasks.json", "{taskId}"),
                          ("meetings", "CRM/Meetings/Rollouts/424/v3/meetings.json", "{meetingId}")):
    _base = "/crm/v3/objects/" + _kind
    HUBSPOT_OPERATIONS += [
        (_file, "post", _base),
        (_file, "get", _base),
        (_file, "get", _base + "/" + _id),
        (_file, "patch", _base + "/" + _id),
        (_file, "delete", _base + "/" + _id),
        (_file, "post", _base + "/batch/read"),
        (_file, "post", _base + "/batch/create"),
        (_file, "post", _base + "/batch/update"),
        (_file, "post", _base + "/batch/upsert"),
        (_file, "post", _base + "/search"),
    ]
HUBSPOT_OPERATIONS += [
    ("CRM/Contacts/Rollouts/424/v3/contacts.json", "post", "/crm/v3/objects/contacts/gdpr-delete"),
    ("CRM/Associations/Rollouts/130902/v4/associations.json", "put",
     "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}"),
    ("CRM/Associations/Rollouts/130902/v4/associations.json", "get",
     "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}"),
    ("CRM/Associations/Rollouts/130902/v4/associations.json", "put",
     "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}"),
    ("CRM/Associations/Rollouts/130902/v4/associations.json", "delete",
     "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}"),
    ("CRM/Associations/Rollouts/130902/v4/associations.json", "post",
     "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default"),
    ("CRM/Properties/Rollouts/145899/v3/properties.json", "get", "/crm/v3/properties/{objectType}"),
    ("CRM/Properties/Rollouts/145899/v3/properties.json", "post", "/crm/v3/properties/{objectType}"),
    ("CRM/Properties/Rollouts/145899/v3/properties.json", "get",
     "/crm/v3/properties/{objectType}/{propertyName}"),
    ("CRM/Pipelines/Rollouts/145896/v3/pipelines.json", "get", "/crm/v3/pipelines/{objectType}"),
    ("CRM/Pipelines/Rollouts/145896/v3/pipelines.json", "get",
     "/crm/v3/pipelines/{objectType}/{pipelineId}"),
    ("Auth/Oauth/Rollouts/155908/v1/oauth.json", "get", "/oauth/v1/access-tokens/{token}"),
]

GOOGLE_METHODS = [("events", "insert"), ("events", "get"), ("events", "list"),
                  ("events", "patch"), ("events", "delete"), ("events", "watch"),
                  ("channels", "stop"), ("freebusy", "query")]


def _refs(node, found):
    """Every $ref value below node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def _closure(start, schemas, name_of):
    """Names of the schemas start reaches, transitively."""
    names, todo = set(), [name_of(r) for r in _refs(start, set())]
    while todo:
        name = todo.pop()
        if name in names or name not in schemas:
            continue
        names.add(name)
        todo += [name_of(r) for r in _refs(schemas[name], set())]
    return names


def extract_hubspot(root, commit):
    files, operations = {}, []
    for rel, method, path in HUBSPOT_OPERATIONS:
        if rel not in files:
            with open(os.path.join(root, "PublicApiSpecs", rel)) as f:
                files[rel] = json.load(f)
        spec = files[rel]
        op = spec["paths"][path][method]
        operations.append({"file": rel, "method": method.upper(), "path": path,
                           "operationId": op.get("operationId"),
                           "parameters": op.get("parameters", []),
                           "requestBody": op.get("requestBody")})
    components = {}
    for rel, spec in files.items():
        schemas = spec.get("components", {}).get("schemas", {})
        used = [o for o in operations if o["file"] == rel]
        names = _closure(used, schemas, lambda ref: ref.rsplit("/", 1)[-1])
        components[rel] = {name: schemas[name] for name in sorted(names)}
    return {"source": {"repository": "HubSpot/HubSpot-public-api-spec-collection",
                       "commit": commit,
                       "files": {rel: "PublicApiSpecs/" + rel for rel in files},
                       "servers": sorted({s["url"] for spec in files.values()
                                          for s in spec.get("servers", [])})},
            "operations": operations, "schemas": components}


def extract_google(path, commit):
    with open(path) as f:
        doc = json.load(f)
    methods = {}
    for resource, name in GOOGLE_METHODS:
        method = doc["resources"][resource]["methods"][name]
        methods[method["id"]] = method
    names = _closure(list(methods.values()), doc["schemas"], lambda ref: ref)
    return {"source": {"repository": "googleapis/discovery-artifact-manager",
                       "path": "discoveries/calendar.v3.json", "commit": commit,
                       "revision": doc.get("revision"), "rootUrl": doc.get("rootUrl"),
                       "servicePath": doc.get("servicePath")},
            "parameters": doc["parameters"], "methods": methods,
            "schemas": {name: doc["schemas"][name] for name in sorted(names)}}


def _write(name, data):
    with open(os.path.join(HERE, "specs", name), "w") as f:
        json.dump(data, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hubspot-root", required=True)
    parser.add_argument("--hubspot-commit", required=True)
    parser.add_argument("--google-discovery", required=True)
    parser.add_argument("--google-commit", required=True)
    args = parser.parse_args()
    _write("hubspot.json", extract_hubspot(args.hubspot_root, args.hubspot_commit))
    _write("google-calendar-v3.json", extract_google(args.google_discovery, args.google_commit))


if __name__ == "__main__":
    main()
