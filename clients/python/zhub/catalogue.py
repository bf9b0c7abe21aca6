"""The event catalogue (docs/events.md) and the check of a message against
it, as proto/zhub_catalogue_check.c does it: the same rules, in the same
order, with the same reasons, so that what this package lets through is
what zhub's own processes accept.

The table itself is not written here: _catalogue_table.py is generated
from the C table (proto/zhub_catalogue.c, the one source of truth) by
tools/gen_catalogue.py, and a test fails when the two part. Pure: no I/O.
"""
import math

from . import _catalogue_table
from .envelope import MAX_ID, parse_time, topic_match
from .errors import CatalogueError

ENTRIES = _catalogue_table.ENTRIES


def entries():
    """Every entry, in the order docs/events.md lists them. Each is a dict:
    type, pattern (a form's subscription pattern, else None), subject,
    about, fields (name, kind, required, about, and item / min / max /
    values where they apply), closed, producers, consumers, example."""
    return ENTRIES


def find(type):
    """The entry of type: that exact type, else the first form whose
    pattern matches it ("dlq.<group>" for "dlq.contact-sync"); None when
    the catalogue does not know it."""
    for entry in ENTRIES:
        if entry["pattern"] is None and entry["type"] == type:
            return entry
    for entry in ENTRIES:
        if entry["pattern"] is not None and topic_match(entry["pattern"], type):
            return entry
    return None


def field(entry, name):
    for f in entry["fields"]:
        if f["name"] == name:
            return f
    return None


def _in(f, value, bounds):
    return not bounds or "min" not in f or f["min"] <= value <= f["max"]


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _value_ok(f, kind, bounds, value):
    """zhub_catalogue_check.c, s_value_ok, on data as msgpack carries it."""
    if kind == "string":
        return isinstance(value, str) and _in(f, len(value.encode("utf-8", "surrogatepass")),
                                              bounds)
    if kind == "id":
        if isinstance(value, str):
            return 0 < len(value.encode("utf-8", "surrogatepass")) <= MAX_ID
        return _is_int(value) and value >= 0
    if kind == "integer":
        return _is_int(value) and _in(f, value, bounds)
    if kind == "number":
        if isinstance(value, float):
            return math.isfinite(value) and _in(f, value, bounds)
        return _is_int(value) and _in(f, value, bounds)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "time":
        return isinstance(value, str) and len(value.encode("utf-8", "surrogatepass")) < 64 \
            and "\0" not in value and parse_time(value) is not None
    if kind == "enum":
        return isinstance(value, str) and value in f["values"]
    if kind == "object":
        return isinstance(value, dict)
    if kind == "bytes":
        return isinstance(value, (bytes, bytearray))
    if kind == "array":
        if not isinstance(value, (list, tuple)) or not _in(f, len(value), bounds):
            return False
        return all(_value_ok(f, f["item"], False, item) for item in value)
    return False


def _article(f):
    if f["kind"] in ("enum", "bytes"):
        return ""
    return "an " if f["described"][0] in "aeiou" else "a "


def _cut(text, size):
    return text.encode("utf-8", "surrogatepass")[:size].decode("utf-8", "ignore")


def check_data(type, data):
    """Raises CatalogueError when data does not keep to type's entry: not a
    map, a required field missing (None counts as absent), a field of
    another kind or out of its range or enum, a field a closed entry does
    not list, or a type the catalogue does not know."""
    entry = find(type)
    if entry is None:
        raise CatalogueError("%s is not in the catalogue" % _cut(str(type), 255))
    if not isinstance(data, dict):
        raise CatalogueError("%s: data must be a map" % type)
    for f in entry["fields"]:
        value = data.get(f["name"])
        if value is None:
            if f["required"]:
                raise CatalogueError("%s: data.%s is missing" % (type, f["name"]))
            continue
        if not _value_ok(f, f["kind"], True, value):
            raise CatalogueError("%s: data.%s must be %s%s"
                                 % (type, f["name"], _article(f), f["described"]))
    if entry["closed"]:
        names = {f["name"] for f in entry["fields"]}
        for key in data:
            if key not in names:
                name = _cut(key, 64) if isinstance(key, str) else "(a key that is not text)"
                raise CatalogueError("%s: data.%s is not part of %s" % (type, name, entry["type"]))


def subject_ok(form, subject):
    """A subject against an entry's form: "contact:<bird id>" wants
    "contact:" and more, "reconcile" just that; a form in words (a space
    outside <...>) is not checked."""
    inside = False
    for c in form:
        if c in "<>":
            inside = c == "<"
        elif c == " " and not inside:
            return True
    subject = subject or ""
    open_at = form.find("<")
    if open_at < 0:
        return form == subject
    return subject.startswith(form[:open_at]) and len(subject) > open_at


def check_envelope(envelope):
    """check_data on the envelope's data, after its subject against the
    entry's subject form (zhub_event_check_msg)."""
    entry = find(envelope.type)
    if entry is None:
        raise CatalogueError("%s is not in the catalogue" % _cut(str(envelope.type), 255))
    if not subject_ok(entry["subject"], envelope.subject):
        raise CatalogueError('%s: subject "%s" is not %s'
                             % (envelope.type, _cut(envelope.subject or "", 64), entry["subject"]))
    check_data(envelope.type, envelope.data)
