"""The contract checker: every request zhub sent to a stand-in is held
against the provider's official reference (operation tables in
ops_<provider>.py, each operation naming its reference).

check_requests(provider, requests) takes the entries a stand-in recorded
(GET /__peer/requests, or its --request-journal file) and returns
(violations, warnings): warnings are violations listed in
KNOWN_VIOLATIONS below, which are being fixed elsewhere. Only requests
whose User-Agent starts with "zhub/" count (see is_from_zhub).

Rules, each reported under its name:
  unknown-operation  no operation of the provider has this path
  method             the path is known but not with this method
  path-param         a path segment breaks the parameter's rule
  encoded-slash      "%2F" inside a path segment (HubSpot)
  query-unknown      a query parameter the operation does not define
  query-required     a required query parameter is missing
  query-value        a query value of the wrong type / not in the enum
  auth               Authorization missing or with the wrong scheme
  content-type       a body without the operation's media type
  body-required      the operation needs a body and got none
  body-unexpected    the operation takes no body and got one
  body-json          the body is not JSON
  body-schema        the JSON body breaks the operation's schema
  body-undocumented  a top-level body field the reference does not list,
                     where its schema admits unlisted ones (Bird)
  form               a form-encoded token request breaks its field rules
  (operations may add their own, named in their table)
"""
import json
import re
from urllib.parse import parse_qs, unquote

from schema import Context, validate

ZHUB_USER_AGENT = "zhub/"


def is_from_zhub(entry):
    """zhub's one HTTP client (actors/runtime/zhub_http.c) sends
    User-Agent "zhub/<version>"; the tests' own calls (urllib, http.client)
    never do, so a test that sends a bad request on purpose is not
    blamed on zhub."""
    return (entry.get("headers") or {}).get("user-agent", "").startswith(ZHUB_USER_AGENT)


class Violation:
    def __init__(self, provider, operation, rule, detail, request, reference):
        self.provider = provider
        self.operation = operation
        self.rule = rule
        self.detail = detail
        self.request = request
        self.reference = reference

    def __repr__(self):
        return "Violation(%s %s %s: %s)" % (self.provider, self.operation, self.rule, self.detail)

    def describe(self):
        return ("[%s] %s — rule %s: %s\n    request: %s\n    reference: %s"
                % (self.provider, self.operation or "?", self.rule, self.detail,
                   self.request, self.reference))


class Param:
    """A query parameter: a JSON-schema-like spec of one value (type,
    enum, format, pattern, minimum/maximum); `repeated` allows it more than
    once; `csv` splits a value on commas (HubSpot's "comma separated list")."""

    def __init__(self, schema=None, required=False, repeated=False, csv=False):
        self.schema = schema or {"type": "string"}
        self.required = required
        self.repeated = repeated
        self.csv = csv


class Operation:
    """One operation of a provider's API.

    path: template with {name} segments; segments: {name: regex} for
    parameters with a documented shape; query: {name: Param}; auth: the
    Authorization scheme ("Bearer", "AccessKey") or None when the operation
    authenticates otherwise (token endpoints); body: None, or
    ("json", schema, required) or ("form", fields) where fields is
    {name: {"required": bool, "const"/"pattern"/"enum": ...}};
    extra: callable(request, parsed_body) -> [(rule, detail)];
    reference: where the facts come from (URL or repo+path+commit)."""

    def __init__(self, provider, name, method, path, reference, query=None, segments=None,
                 auth="Bearer", body=None, context=None, extra=None, no_encoded_slash=False,
                 alternatives=None, documented_fields=None):
        self.provider = provider
        self.name = name
        self.method = method
        self.path = path
        self.reference = reference
        self.query = query or {}
        self.segments = segments or {}
        self.auth = auth
        self.body = body
        self.context = context or Context(lambda ref: None)
        self.extra = extra
        self.no_encoded_slash = no_encoded_slash
        # literal segment -> other spellings the provider documents for it
        self.alternatives = alternatives or {}
        # top-level body fields the reference lists, where its schema still
        # admits others ("Other properties: any"): anything else has no
        # documented effect and is reported as body-undocumented
        self.documented_fields = documented_fields
        self._parts = path.strip("/").split("/")

    def match(self, parts):
        """Returns {param: raw segment} when parts fit the template, else None."""
        if len(parts) != len(self._parts):
            return None
        found = {}
        for mine, theirs in zip(self._parts, parts):
            if mine.startswith("{") and mine.endswith("}"):
                if theirs == "":
                    return None
                found[mine[1:-1]] = theirs
            elif theirs != mine and theirs not in self.alternatives.get(mine, ()):
                return None
        return found

    def literal_count(self):
        return sum(1 for p in self._parts if not p.startswith("{"))


def summarize(entry):
    query = entry.get("query") or ""
    body = entry.get("body")
    text = "%s %s%s" % (entry.get("method"), entry.get("path"), "?" + query if query else "")
    if body is not None:
        shown = json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body
        text += " body=" + (shown if len(shown) <= 300 else shown[:297] + "...")
    return text


def find_operation(operations, method, parts):
    """(operation, params) for the best match (most literal segments), or
    (None, methods known on that path) when only the method is wrong, or
    (None, None) when nothing matches."""
    best, methods = None, set()
    for op in operations:
        params = op.match(parts)
        if params is None:
            continue
        if op.method != method:
            methods.add(op.method)
            continue
        if best is None or op.literal_count() > best[0].literal_count():
            best = (op, params)
    if best:
        return best
    return None, (sorted(methods) if methods else None)


def _query_value_errors(name, param, values):
    out = []
    if len(values) > 1 and not param.repeated and not param.csv:
        out.append("%s given %d times" % (name, len(values)))
    items = [v for raw in values for v in (raw.split(",") if param.csv else [raw])]
    for value in items:
        schema = dict(param.schema)
        kind = schema.get("type", "string")
        if kind == "integer":
            if not re.match(r"^-?\d+$", value):
                out.append("%s=%r is not an integer" % (name, value))
                continue
            typed = int(value)
        elif kind == "boolean":
            if value not in ("true", "false"):
                out.append("%s=%r is not true or false" % (name, value))
                continue
            typed = value == "true"
        else:
            typed = value
        for _, message in validate(typed, schema, Context(lambda ref: None), name):
            out.append("%s: %s" % (name, message))
    return out


def _check_query(op, entry):
    out = []
    params = parse_qs(entry.get("query") or "", keep_blank_values=True)
    for name, values in params.items():
        if name not in op.query:
            out.append(("query-unknown", "query parameter %r is not defined (allowed: %s)"
                        % (name, ", ".join(sorted(op.query)) or "none")))
            continue
        out += [("query-value", text) for text in _query_value_errors(name, op.query[name], values)]
    for name, param in op.query.items():
        if param.required and name not in params:
            out.append(("query-required", "query parameter %r is required" % name))
    return out


def _media_type(headers):
    return (headers.get("content-type") or "").split(";")[0].strip().lower()


def _check_auth(op, headers):
    if op.auth is None:
        return []
    value = headers.get("authorization", "")
    scheme, _, credential = value.partition(" ")
    if scheme != op.auth or not credential.strip():
        shown = scheme if value else "none"
        return [("auth", "Authorization must be '%s <credential>', got %s" % (op.auth, shown))]
    return []


def _check_body(op, entry, headers):
    body = entry.get("body")
    present = body is not None and body != ""
    if op.body is None:
        return ([("body-unexpected", "this operation takes no request body")] if present else []), None
    kind = op.body[0]
    if kind == "json":
        _, schema, required = op.body
        if not present:
            return ([("body-required", "a JSON body is required")] if required else []), None
        out = []
        if _media_type(headers) != "application/json":
            out.append(("content-type", "Content-Type must be application/json, got %r"
                        % headers.get("content-type")))
        if isinstance(body, str):
            return out + [("body-json", "the body is not JSON")], None
        out += [("body-schema", "%s: %s" % where) for where in validate(body, schema, op.context)]
        if op.documented_fields is not None and isinstance(body, dict):
            out += [("body-undocumented", "top-level field %r is not documented for this operation "
                     "(documented: %s)" % (name, ", ".join(op.documented_fields)))
                    for name in body if name not in op.documented_fields]
        return out, body
    # form-encoded (OAuth token endpoints)
    fields = op.body[1]
    if not present:
        return [("body-required", "a form-encoded body is required")], None
    out = []
    if _media_type(headers) != "application/x-www-form-urlencoded":
        out.append(("content-type", "Content-Type must be application/x-www-form-urlencoded, "
                    "got %r" % headers.get("content-type")))
    text = body if isinstance(body, str) else json.dumps(body)
    form = parse_qs(text, keep_blank_values=True)
    for name, rule in fields.items():
        values = form.get(name)
        if not values:
            if rule.get("required"):
                out.append(("form", "form field %r is required" % name))
            continue
        if len(values) > 1:
            out.append(("form", "form field %r given %d times" % (name, len(values))))
        value = values[0]
        if "const" in rule and value != rule["const"]:
            out.append(("form", "%s must be %r, got %r" % (name, rule["const"], value)))
        if "pattern" in rule and not re.search(rule["pattern"], value):
            out.append(("form", "%s=%r does not match %s" % (name, value, rule["pattern"])))
        if rule.get("required") and value == "":
            out.append(("form", "form field %r is empty" % name))
    for name in form:
        if name not in fields:
            out.append(("form", "form field %r is not defined (allowed: %s)"
                        % (name, ", ".join(sorted(fields)))))
    return out, form


def check_request(provider, operations, entry, strip_prefixes=()):
    """Violations of one recorded request against provider's operations."""
    method = entry.get("method")
    raw_path = entry.get("path") or ""
    for prefix in strip_prefixes:
        if raw_path.startswith(prefix + "/"):
            raw_path = raw_path[len(prefix):]
            break
    raw_parts = raw_path.strip("/").split("/")
    parts = [unquote(p) for p in raw_parts]
    request = summarize(entry)

    op, params = find_operation(operations, method, parts)
    if op is None:
        if params:
            return [Violation(provider, None, "method", "%s is not an operation on this path "
                              "(documented: %s)" % (method, ", ".join(params)), request,
                              "the operation table of %s" % provider)]
        return [Violation(provider, None, "unknown-operation",
                          "no documented %s operation matches %s %s" % (provider, method,
                                                                         entry.get("path")),
                          request, "the operation table of %s (contract/ops_%s.py)"
                          % (provider, provider))]
    found = []
    headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
    if op.no_encoded_slash:
        for raw in raw_parts:
            if "%2f" in raw.lower():
                found.append(("encoded-slash", "path segment %r carries an encoded '/' (%%2F)" % raw))
    for name, value in params.items():
        rule = op.segments.get(name)
        if rule and not re.search(rule, value):
            found.append(("path-param", "{%s}=%r does not match %s" % (name, value, rule)))
    found += _check_query(op, entry)
    found += _check_auth(op, headers)
    body_found, parsed = _check_body(op, entry, headers)
    found += body_found
    if op.extra:
        found += op.extra(dict(entry, params_in_path=params), parsed)
    return [Violation(provider, op.name, rule, detail, request, op.reference)
            for rule, detail in found]


# ------------------------------------------------------------- known ones

# Violations that other changes are fixing on their own branches. Each is
# reported as a warning, not a failure, until its fix lands; then its line
# goes. Match on provider, operation, rule and a piece of the detail.
KNOWN_VIOLATIONS = [
]


def _known(violation):
    for known in KNOWN_VIOLATIONS:
        if (known["provider"] == violation.provider and known["operation"] == violation.operation
                and known["rule"] == violation.rule and known["detail"] in violation.detail):
            return known
    return None


def split_known(violations):
    """(failures, warnings): warnings are the ones KNOWN_VIOLATIONS lists."""
    failures, warnings = [], []
    for violation in violations:
        (warnings if _known(violation) else failures).append(violation)
    return failures, warnings


def check_requests(provider, operations, entries, strip_prefixes=()):
    """(violations, warnings) over the entries zhub sent."""
    found = []
    for entry in entries:
        if is_from_zhub(entry):
            found += check_request(provider, operations, entry, strip_prefixes)
    return split_known(found)


def report(violations, title):
    lines = ["%s (%d):" % (title, len(violations))]
    lines += ["  " + v.describe().replace("\n", "\n  ") for v in violations]
    return "\n".join(lines)
