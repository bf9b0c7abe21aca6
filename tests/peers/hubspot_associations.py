"""Associations v4 for the stand-in HubSpot, between contacts and deals.

AssociationsMixin is a base class of HubSpotApp (hubspot_peer.py), which
routes PUT .../associations/default/..., PUT .../associations/... (labelled),
GET .../associations/{to} and POST /crm/v4/associations/.../batch/associate/
default here. State is self.associations: (from type, from id, to type,
to id) -> [association types]; every link also gets its reverse default.
Object ids in answers are JSON integers, or strings with
--v4-object-ids string: the spec collection types toObjectId both ways
(github.com/HubSpot/HubSpot-public-api-spec-collection, CRM/Associations
rollout 50914/v4: integer; 130902/v4 and 2025-09 onwards: string).
"""

from urllib.parse import unquote

from peerlib import Response, iso_ms, now_ms
from hubspot_model import NOT_FOUND_MESSAGE, ApiError, hs_error, validation_error

# Default (unlabelled) association type ids, by direction (https://developers.hubspot.com/docs/api/crm/understanding-the-crm and github.com/HubSpot/HubSpot-public-api-spec-collection).
DEFAULT_ASSOCIATION = {("contacts", "deals"): 4, ("deals", "contacts"): 3,
                       ("contacts", "contacts"): 449, ("deals", "deals"): 451}


class AssociationsMixin:
    """h_associate_* and h_associations with their helpers."""

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
        as_id = str if getattr(self.args, "v4_object_ids", "integer") == "string" else int
        return Response(201, {"fromObjectTypeId": kind, "fromObjectId": as_id(unquote(oid)),
                              "toObjectTypeId": to, "toObjectId": as_id(unquote(toid)),
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
        as_id = str if getattr(self.args, "v4_object_ids", "integer") == "string" else int
        results = [{"toObjectId": as_id(toid), "associationTypes": [
                       {"category": t["associationCategory"], "typeId": t["associationTypeId"],
                        "label": None} for t in types]}
                   for (f, fi, t_, toid), types in sorted(self.associations.items())
                   if f == kind and fi == oid and t_ == to and toid in self._type(to).records]
        return Response(200, {"results": results[:500]})
