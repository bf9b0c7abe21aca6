"""A small JSON-schema validator for the subset the providers' references
use: OpenAPI 3.0 schemas (HubSpot), Google discovery schemas, and the
hand-written schemas of contract_*.py (Bird, Graph, Calendly).

Supported: $ref (through a resolver the caller gives), allOf / anyOf /
oneOf, type (one or a list), nullable, enum, const, properties, required,
discovery's per-method `annotations.required`, additionalProperties (false
or a schema), items, min/maxItems, min/maxLength, minimum/maximum, pattern,
and the formats date-time, date, int32, int64 and uuid. Unknown keywords
(description, example, default, ...) are ignored, as a validator must.

Standard library only, like the stand-ins: it runs under Debian's python3.
"""
import re

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
INT32 = (-2 ** 31, 2 ** 31 - 1)


class Context:
    """What a validation needs besides the schema: how to follow $ref, the
    discovery method id (for `annotations.required`), and whether int64
    travels as a decimal string (Google's JSON: "either numbers or strings
    are accepted", https://protobuf.dev/programming-guides/json/)."""

    def __init__(self, resolve, method_id=None, int64_strings=False):
        self.resolve = resolve
        self.method_id = method_id
        self.int64_strings = int64_strings


def type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_ok(value, wanted, schema, ctx):
    actual = type_name(value)
    if wanted == actual:
        return True
    if wanted == "number" and actual == "integer":
        return True
    if wanted == "integer" and actual == "number" and float(value).is_integer():
        return True
    if (wanted == "string" and actual == "integer" and ctx.int64_strings
            and schema.get("format") in ("int64", "uint64")):
        return True
    return False


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate(value, schema, ctx, path="$"):
    """Returns a list of (json path, message); empty when value conforms."""
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        target = ctx.resolve(schema["$ref"])
        if target is None:
            return [(path, "schema reference %s not found" % schema["$ref"])]
        return validate(value, target, ctx, path)
    if value is None and schema.get("nullable"):
        return []
    errors = []
    for sub in schema.get("allOf", []):
        errors += validate(value, sub, ctx, path)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            results = [validate(value, sub, ctx, path) for sub in schema[key]]
            passing = sum(1 for r in results if not r)
            if passing == 0:
                best = min(results, key=len)
                errors.append((path, "matches none of the %d allowed shapes (closest: %s)"
                               % (len(results), "; ".join("%s %s" % e for e in best[:2]))))
            elif key == "oneOf" and passing > 1:
                errors.append((path, "matches %d shapes where exactly one is allowed" % passing))
    wanted = schema.get("type")
    if wanted is not None:
        kinds = wanted if isinstance(wanted, list) else [wanted]
        if not any(_type_ok(value, kind, schema, ctx) for kind in kinds):
            return errors + [(path, "must be %s, got %s %s"
                              % (" or ".join(kinds), type_name(value), _show(value)))]
    if "enum" in schema and value not in schema["enum"]:
        errors.append((path, "%s is not one of %s" % (_show(value), schema["enum"])))
    if "const" in schema and value != schema["const"]:
        errors.append((path, "must be %r" % (schema["const"],)))
    if isinstance(value, str):
        errors += _check_string(value, schema, path)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        errors += _check_number(value, schema, path)
    if isinstance(value, dict):
        errors += _check_object(value, schema, ctx, path)
    if isinstance(value, list):
        errors += _check_array(value, schema, ctx, path)
    return errors


def _check_string(value, schema, path):
    errors = []
    fmt = schema.get("format")
    if fmt == "date-time" and not RFC3339.match(value):
        errors.append((path, "%s is not an RFC 3339 date-time" % _show(value)))
    elif fmt == "date" and not DATE.match(value):
        errors.append((path, "%s is not a date (yyyy-mm-dd)" % _show(value)))
    elif fmt == "uuid" and not UUID.match(value):
        errors.append((path, "%s is not a UUID" % _show(value)))
    elif fmt in ("int64", "uint64") and not re.match(r"^-?\d+$", value):
        errors.append((path, "%s is not a decimal %s" % (_show(value), fmt)))
    if "maxLength" in schema and len(value) > int(schema["maxLength"]):
        errors.append((path, "longer than %s characters (%d)" % (schema["maxLength"], len(value))))
    if "minLength" in schema and len(value) < int(schema["minLength"]):
        errors.append((path, "shorter than %s characters" % schema["minLength"]))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append((path, "%s does not match %s" % (_show(value), schema["pattern"])))
    return errors


def _check_number(value, schema, path):
    errors = []
    if schema.get("format") == "int32" and not INT32[0] <= value <= INT32[1]:
        errors.append((path, "%s is outside int32" % value))
    if "minimum" in schema and value < float(schema["minimum"]):
        errors.append((path, "%s is below the minimum %s" % (value, schema["minimum"])))
    if "maximum" in schema and value > float(schema["maximum"]):
        errors.append((path, "%s is above the maximum %s" % (value, schema["maximum"])))
    return errors


def _required(schema, ctx):
    names = list(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        marks = prop.get("annotations", {}).get("required", []) if isinstance(prop, dict) else []
        if ctx.method_id and ctx.method_id in marks:
            names.append(name)
    return names


def _check_object(value, schema, ctx, path):
    errors = []
    props = schema.get("properties", {})
    for name in _required(schema, ctx):
        if name not in value:
            errors.append((path, "required field %r is missing" % name))
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        where = "%s.%s" % (path, name)
        if name in props:
            errors += validate(item, props[name], ctx, where)
        elif extra is False:
            errors.append((where, "field %r is not in the schema (allowed: %s)"
                           % (name, ", ".join(sorted(props)))))
        elif isinstance(extra, dict):
            errors += validate(item, extra, ctx, where)
    return errors


def _check_array(value, schema, ctx, path):
    errors = []
    if "maxItems" in schema and len(value) > int(schema["maxItems"]):
        errors.append((path, "more than %s items (%d)" % (schema["maxItems"], len(value))))
    if "minItems" in schema and len(value) < int(schema["minItems"]):
        errors.append((path, "fewer than %s items" % schema["minItems"]))
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            errors += validate(item, items, ctx, "%s[%d]" % (path, i))
    return errors
