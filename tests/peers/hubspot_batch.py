"""Batch endpoints of the stand-in HubSpot: read, update, create and upsert.

BatchMixin is a base class of HubSpotApp (hubspot_peer.py), which routes
POST /crm/v3/objects/{contacts|deals}/batch/{op} to h_batch.

What fails as a whole (400/409, nothing applied): a body that is not a
batch (no inputs list, more than 100 inputs, duplicate ids), an
idProperty that is not a unique property, a unique value another record
holds (409 CONFLICT), and for create any invalid input (HubSpot reports
partial failures of batch create only to callers that opted in with
objectWriteTraceId, https://developers.hubspot.com/docs/api-reference/error-handling,
"Multi-status errors"). What fails per input in read, update and upsert:
an unknown id (OBJECT_NOT_FOUND) and property values HubSpot refuses
(VALIDATION_ERROR). The inputs that passed are applied, and the answer is
207 Multi-Status with results[] for them and errors[] one StandardError
per failure, numErrors their count (BatchResponseSimplePublicObjectWithErrors
and BatchResponseSimplePublicUpsertObjectWithErrors in
github.com/HubSpot/HubSpot-public-api-spec-collection, CRM/Contacts and
CRM/Deals v3; a live upsert answering so: HubSpot/hubspot-api-ruby issue
403; a batch read by idProperty with missing values: hubspot-api-php
issue 619). An error says which input it is about only for OBJECT_NOT_FOUND
(context.ids); a validation error carries the property (errors[].context.
propertyName), not the input, so a caller that needs to know which input
failed must read the results (or retry the inputs one by one).
"""

from peerlib import Response, iso_ms, now_ms
from hubspot_model import ApiError, prop_error, property_errors, validation_error


def _standard_error(response):
    """A whole-call error Response as one StandardError of errors[]."""
    body = dict(response.body)
    body.pop("correlationId", None)
    body.setdefault("context", {})
    body.setdefault("links", {})
    return body


class BatchMixin:
    """h_batch and its helpers; uses the app's record store and validation."""

    def h_batch(self, req, events, kind, op):
        otype = self._type(kind)
        body = self._json_body(req)
        inputs = self._inputs(body)
        started = iso_ms(now_ms())
        failed = []
        if op == "read":
            results, missing = self._batch_read(otype, body, inputs)
        elif op == "update":
            results, missing, failed = self._batch_update(otype, inputs, events)
        elif op == "create":
            results, missing = self._batch_create(otype, inputs, events), []
        else:
            results, failed = self._batch_upsert(otype, body, inputs, events)
            missing = []
        return self._batch_answer(otype, op, results, missing, failed, started)

    def _batch_answer(self, otype, op, results, missing, failed, started):
        answer = {"status": "COMPLETE", "results": results, "startedAt": started,
                  "completedAt": iso_ms(now_ms())}
        errors = list(failed)
        if missing:
            errors.append({
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some %s objects, they may be deleted or not exist. "
                           "Check that ids are valid." % otype.singular.upper(),
                "context": {"ids": missing}, "links": {}})
        if errors:
            answer["numErrors"] = len(errors)
            answer["errors"] = errors
            return Response(207, answer)
        return Response(201 if op == "create" else 200, answer)

    def _batch_read(self, otype, body, inputs):
        names = body.get("properties")
        names = names if isinstance(names, list) and names else None
        history = body.get("propertiesWithHistory")
        history = history if isinstance(history, list) else []
        results, missing = [], []
        for item in inputs:
            key = str(item.get("id", ""))
            rec = self._resolve(otype, key, body.get("idProperty"))
            if rec is None:
                missing.append(key)
                continue
            shown = self._render(otype, rec, names)
            if history:
                shown["propertiesWithHistory"] = self._render_history(otype, rec, history)
            results.append(shown)
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

    def _input_props(self, otype, item, creating=None):
        """The input's properties, validated; ApiError(400) for this input."""
        props = self._clean_props(otype, self._properties_of(item))
        if otype.name == "deals" and creating is not None:
            self._check_deal_stage(props, creating=creating)
        return props

    @staticmethod
    def _per_input(exc):
        """A 400 for one input becomes its StandardError; anything else
        (409, a malformed batch) still fails the whole call."""
        if exc.response.status != 400:
            raise exc
        return _standard_error(exc.response)

    def _batch_update(self, otype, inputs, events):
        keys = [str(i.get("id", "")) for i in inputs]
        self._no_duplicates(keys)
        plans, missing, failed = [], [], []
        for key, item in zip(keys, inputs):
            rec = self._resolve(otype, key, item.get("idProperty"))
            if rec is None:
                missing.append(key)
                continue
            try:
                props = self._input_props(otype, item, creating=False)
            except ApiError as exc:
                failed.append(self._per_input(exc))
                continue
            owner = self._unique_owner(otype, props, exclude=rec["id"])
            if owner:
                raise ApiError(self._conflict(otype, owner))
            plans.append((rec, props))
        results = [self._render(otype, self._update(otype, rec, props, events), list(props))
                   for rec, props in plans]
        return results, missing, failed

    def _batch_create(self, otype, inputs, events):
        plans = [self._input_props(otype, i, creating=True) for i in inputs]
        for props in plans:
            owner = self._unique_owner(otype, props)
            if owner:
                raise ApiError(self._conflict(otype, owner))
        return [self._render(otype, rec, list(rec["properties"]))
                for rec in (self._create(otype, p, events) for p in plans)]

    def _batch_upsert(self, otype, body, inputs, events):
        """Every input is checked before any is applied: a malformed batch
        or a conflict changes nothing; an input with invalid values is
        left out (an error of its own) and the others are applied."""
        plans, failed = [], []
        keys = []
        for item in inputs:
            id_prop, key = self._upsert_key(otype, body, item)
            keys.append(key)
            try:
                plans.append(self._upsert_plan(otype, id_prop, key, item))
            except ApiError as exc:
                failed.append(self._per_input(exc))
        self._no_duplicates(keys)
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
        return results, failed

    def _upsert_key(self, otype, body, item):
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
        return id_prop, key

    def _upsert_plan(self, otype, id_prop, key, item):
        rec = self._resolve(otype, key, id_prop)
        props = self._input_props(otype, item, creating=rec is None)
        owner = self._unique_owner(otype, dict(props, **{id_prop: key}),
                                   exclude=rec["id"] if rec else None)
        if owner:
            raise ApiError(self._conflict(otype, owner))
        return id_prop, key, props, rec
