"""Batch endpoints of the stand-in HubSpot: read, update, create and upsert.

BatchMixin is a base class of HubSpotApp (hubspot_peer.py), which routes
POST /crm/v3/objects/{contacts|deals}/batch/{op} to h_batch. Every input is
validated before any is applied, so a bad input changes nothing; unknown
ids in read and update come back as a 207 with OBJECT_NOT_FOUND.
"""

from peerlib import Response, iso_ms, now_ms
from hubspot_model import ApiError, prop_error, property_errors, validation_error


class BatchMixin:
    """h_batch and its helpers; uses the app's record store and validation."""

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
