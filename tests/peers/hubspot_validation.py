"""Write validation for the stand-in HubSpot: property values and unique values.

ValidationMixin is a base class of HubSpotApp (hubspot_peer.py): it turns
the properties of a create or update into HubSpot's string-typed values or
raises ApiError with HubSpot's 'Property values were not valid' body, checks
deal stages and pipelines, and finds the record that already holds a unique
value (409 CONFLICT). It needs only the object type passed in.
"""

import json
import re

from peerlib import iso_ms, parse_time_ms
from hubspot_model import (DEAL_STAGES, ApiError, hs_error, prop_error,
                           property_errors)


class ValidationMixin:
    """_clean_props, _check_deal_stage, _unique_owner, _conflict for HubSpotApp."""

    def _note_value_types(self, props):
        """Records property values that are not JSON strings.

        The spec types every property value as a string
        (SimplePublicObjectInput.properties: additionalProperties
        {"type": "string"}, github.com/HubSpot/HubSpot-public-api-spec-collection,
        CRM/Deals v3); HubSpot's SDKs send strings only (hubspot-api-nodejs
        SimplePublicObjectInput: { [key: string]: string }). The live API
        turns a JSON number or boolean into its text instead of refusing it
        (hubspot-api-nodejs issue 21: callers passing numbers past the
        TypeScript types), so the stand-in accepts it too, and keeps what
        it saw in contract_violations (GET /__peer/state) for tests to
        assert against: a writer that relies on the coercion is off the
        contract."""
        req = getattr(self, "current_req", None)
        if req is None or not isinstance(props, dict):
            return
        for name, value in props.items():
            if not isinstance(value, str):
                self.violations.append({
                    "method": req.method, "path": req.path, "property": name,
                    "json_type": type(value).__name__ if value is not None else "null",
                    "user_agent": req.header("user-agent", "")})

    def _clean_props(self, otype, props):
        """Validates a write; returns HubSpot's string-typed values."""
        self._note_value_types(props)
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

    def _conflict(self, otype, existing_id):
        return hs_error(409, "%s already exists. Existing ID: %s"
                        % (otype.singular.capitalize(), existing_id), "CONFLICT")
