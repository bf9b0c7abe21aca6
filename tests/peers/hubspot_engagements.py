"""Engagements for the stand-in HubSpot: notes, tasks and meetings.

Kept apart from hubspot_peer.py (which owns contacts, deals, search and
associations between them) and installed into it with install(): the
routes go into the peer's route table, so they share its auth check, rate
limits, fault injection and request log.

Facts (https://developers.hubspot.com/docs/api/crm/understanding-the-crm and github.com/HubSpot/HubSpot-public-api-spec-collection): POST /crm/v3/objects/{notes|tasks|meetings}
with {"properties":{…},"associations":[{"to":{"id"},"types":[{
"associationCategory","associationTypeId"}]}]}; hs_timestamp is required;
hs_note_body is at most 65,536 characters; task status, priority and type
and meeting outcome are enumerations; association type ids depend on the
direction (note->contact 202, note->deal 214, task 204/216, meeting 200/212).
"""
import re

import peerlib
from peerlib import Response, iso_ms, now_ms, parse_time_ms

KINDS = "notes|tasks|meetings"
NOTE_BODY_MAX = 65536
TASK_STATUS = ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")
TASK_PRIORITY = ("LOW", "MEDIUM", "HIGH", "NONE")
TASK_TYPE = ("EMAIL", "CALL", "TODO", "LINKED_IN", "MEETING")
MEETING_OUTCOME = ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED")
# (engagement kind, target object) -> HUBSPOT_DEFINED type id
ASSOCIATION_TYPES = {
    ("notes", "contacts"): 202, ("notes", "deals"): 214, ("notes", "companies"): 190,
    ("tasks", "contacts"): 204, ("tasks", "deals"): 216, ("tasks", "companies"): 192,
    ("meetings", "contacts"): 200, ("meetings", "deals"): 212, ("meetings", "companies"): 188,
}
REVERSE_TYPES = {("contacts", "notes"): 201, ("deals", "notes"): 213,
                 ("contacts", "tasks"): 203, ("deals", "tasks"): 215,
                 ("contacts", "meetings"): 199, ("deals", "meetings"): 211}

ROUTES = [
    ("POST", r"/crm/v3/objects/(?P<kind>%s)" % KINDS, "eng_create"),
    ("GET", r"/crm/v3/objects/(?P<kind>%s)" % KINDS, "eng_list"),
    ("GET", r"/crm/v3/objects/(?P<kind>%s)/(?P<oid>[0-9]+)" % KINDS, "eng_read"),
    ("PATCH", r"/crm/v3/objects/(?P<kind>%s)/(?P<oid>[0-9]+)" % KINDS, "eng_update"),
    ("DELETE", r"/crm/v3/objects/(?P<kind>%s)/(?P<oid>[0-9]+)" % KINDS, "eng_delete"),
]


def _error(status, message, category, **extra):
    body = {"status": "error", "message": message, "correlationId": peerlib.new_uuid(),
            "category": category}
    body.update(extra)
    return Response(status, body)


def _invalid(message):
    return _error(400, message, "VALIDATION_ERROR")


def _check_props(kind, props, creating):
    """Returns an error Response, or None when the properties are valid."""
    if not isinstance(props, dict):
        return _invalid("Invalid input JSON: properties must be an object")
    for name, value in props.items():
        if value is not None and not isinstance(value, (str, int, float, bool)):
            return _invalid("Property values were not valid: %s must be a scalar" % name)
    if creating and "hs_timestamp" not in props:
        return _invalid("Property values were not valid: hs_timestamp is required")
    if "hs_timestamp" in props and parse_time_ms(props["hs_timestamp"]) is None:
        return _invalid("Property values were not valid: hs_timestamp %r is not a date"
                        % props["hs_timestamp"])
    checks = {"tasks": {"hs_task_status": TASK_STATUS, "hs_task_priority": TASK_PRIORITY,
                        "hs_task_type": TASK_TYPE},
              "meetings": {"hs_meeting_outcome": MEETING_OUTCOME}}.get(kind, {})
    for name, allowed in checks.items():
        if name in props and props[name] not in allowed:
            return _invalid("Property values were not valid: %s was not one of the allowed "
                            "options: %s" % (name, ", ".join(allowed)))
    for name in ("hs_meeting_start_time", "hs_meeting_end_time"):
        if kind == "meetings" and name in props and parse_time_ms(props[name]) is None:
            return _invalid("Property values were not valid: %s is not a date" % name)
    body = props.get("hs_note_body")
    if kind == "notes" and isinstance(body, str) and len(body) > NOTE_BODY_MAX:
        return _invalid("Property values were not valid: hs_note_body is longer than %d "
                        "characters" % NOTE_BODY_MAX)
    return None


class EngagementsMixin:
    """h_eng_* handlers; state lives in self.engagements."""

    def reset_engagements(self):
        self.engagements = {"notes": {}, "tasks": {}, "meetings": {}}

    def _eng_associations(self, kind, rid, items):
        if items is None:
            return []
        if not isinstance(items, list):
            raise peerlib_api_error(_invalid("associations must be a list"))
        pairs = []
        for item in items:
            to = (item or {}).get("to") if isinstance(item, dict) else None
            types = item.get("types") if isinstance(item, dict) else None
            if not isinstance(to, dict) or not to.get("id") or not isinstance(types, list) \
                    or not types:
                raise peerlib_api_error(_invalid("each association needs to.id and types"))
            target_id = str(to["id"])
            for spec in types:
                type_id = spec.get("associationTypeId") if isinstance(spec, dict) else None
                if not isinstance(spec, dict) or spec.get("associationCategory") != \
                        "HUBSPOT_DEFINED" or not isinstance(type_id, int):
                    raise peerlib_api_error(_invalid("invalid association type %r" % spec))
                target = [t for (k, t), v in ASSOCIATION_TYPES.items()
                          if k == kind and v == type_id]
                if not target:
                    raise peerlib_api_error(_invalid(
                        "association type %d is not valid from %s" % (type_id, kind)))
                target_kind = target[0]
                records = self.types[target_kind].records if target_kind in self.types else {}
                if target_id not in records:
                    raise peerlib_api_error(_invalid(
                        "One or more associations are invalid: no %s with id %s"
                        % (target_kind, target_id)))
                pairs.append((target_kind, target_id, type_id))
        return pairs

    def _eng_render(self, kind, rec):
        return {"id": rec["id"], "properties": dict(rec["properties"]),
                "createdAt": rec["createdAt"], "updatedAt": rec["updatedAt"],
                "archived": False}

    def h_eng_create(self, req, events, kind):
        body = req.json
        if req.json_error or not isinstance(body, dict):
            return _invalid("Invalid input JSON on line 1")
        props = body.get("properties")
        self._note_value_types(props)
        error = _check_props(kind, props, True)
        if error:
            return error
        rid = str(self.next_id)
        pairs = self._eng_associations(kind, rid, body.get("associations"))
        self.next_id += 1
        ms = now_ms()
        values = {k: ("" if v is None else str(v) if not isinstance(v, str) else v)
                  for k, v in props.items()}
        values.update({"hs_object_id": rid, "hs_createdate": iso_ms(ms),
                       "hs_lastmodifieddate": iso_ms(ms)})
        rec = {"id": rid, "properties": values, "createdAt": iso_ms(ms),
               "updatedAt": iso_ms(ms), "associations": []}
        for target_kind, target_id, type_id in pairs:
            rec["associations"].append({"type": target_kind, "id": target_id,
                                        "associationTypeId": type_id})
            if hasattr(self, "associations"):
                spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
                self.associations.setdefault((kind, rid, target_kind, target_id), []).append(spec)
                back = REVERSE_TYPES.get((target_kind, kind))
                if back:
                    self.associations.setdefault((target_kind, target_id, kind, rid), []).append(
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": back})
        self.engagements[kind][rid] = rec
        return Response(201, self._eng_render(kind, rec))

    def eng_forget_contact(self, contact_id):
        """A contact's GDPR delete: its activity goes, except what is also
        associated with another record (a deal), which stays there, no
        longer associated with the contact (HubSpot's knowledge base,
        "Understand restorable and permanent contact deletions")."""
        for records in self.engagements.values():
            for rid, rec in list(records.items()):
                mine = [a for a in rec["associations"]
                        if a["type"] == "contacts" and a["id"] == contact_id]
                if not mine:
                    continue
                rec["associations"] = [a for a in rec["associations"] if a not in mine]
                if not rec["associations"]:
                    del records[rid]

    def h_eng_read(self, req, events, kind, oid):
        rec = self.engagements[kind].get(oid)
        if rec is None:
            return _error(404, "resource not found", "OBJECT_NOT_FOUND", context={"id": [oid]})
        return Response(200, self._eng_render(kind, rec))

    def h_eng_list(self, req, events, kind):
        records = sorted(self.engagements[kind].values(), key=lambda r: int(r["id"]))
        return Response(200, {"results": [self._eng_render(kind, r) for r in records[:100]]})

    def h_eng_update(self, req, events, kind, oid):
        rec = self.engagements[kind].get(oid)
        if rec is None:
            return _error(404, "resource not found", "OBJECT_NOT_FOUND", context={"id": [oid]})
        body = req.json
        if req.json_error or not isinstance(body, dict):
            return _invalid("Invalid input JSON on line 1")
        props = body.get("properties")
        self._note_value_types(props)
        error = _check_props(kind, props, False)
        if error:
            return error
        for name, value in props.items():
            rec["properties"][name] = "" if value is None else str(value) \
                if not isinstance(value, str) else value
        ms = now_ms()
        rec["properties"]["hs_lastmodifieddate"] = iso_ms(ms)
        rec["updatedAt"] = iso_ms(ms)
        rec["updates"] = rec.get("updates", 0) + 1
        return Response(200, self._eng_render(kind, rec))

    def h_eng_delete(self, req, events, kind, oid):
        self.engagements[kind].pop(oid, None)
        return Response(204)

    def engagements_snapshot(self):
        return {kind: list(records.values()) for kind, records in self.engagements.items()}


def peerlib_api_error(response):
    """The peer's own ApiError (so _dispatch turns it into the response)."""
    return _ApiError(response)


class _ApiError(Exception):
    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


def install(app_cls, compiled, api_error_cls):
    """Adds the engagement routes and handlers to the HubSpot peer class."""
    global _ApiError
    _ApiError = api_error_cls
    compiled.extend((m, re.compile(p + r"/?\Z"), h) for m, p, h in ROUTES)
    for name, value in vars(EngagementsMixin).items():
        if not name.startswith("__"):
            setattr(app_cls, name, value)
    reset, snapshot = app_cls.reset_state, app_cls.state_snapshot

    def reset_state(self):
        reset(self)
        self.reset_engagements()

    def state_snapshot(self):
        state = snapshot(self)
        state.update(self.engagements_snapshot())
        return state

    app_cls.reset_state = reset_state
    app_cls.state_snapshot = state_snapshot
