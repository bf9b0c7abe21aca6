"""Search for the stand-in HubSpot: POST /crm/v3/objects/{kind}/search.

SearchMixin is a base class of HubSpotApp (hubspot_peer.py), which routes
the search endpoint to h_search under its own per-second limit. Holds the
search limits, filterGroups validation, filter operators, the free-text
query, HubSpot-style comparison (dates as epoch ms, numbers numerically,
strings case-insensitively), the single honoured sort and paging.
"""

import fnmatch
import re

from peerlib import Response, parse_time_ms
from hubspot_model import ApiError, validation_error

SEARCH_PAGE_MAX = 200
SEARCH_RESULT_CAP = 10000
SEARCH_BODY_MAX = 3000
SEARCH_GROUPS_MAX, SEARCH_FILTERS_PER_GROUP, SEARCH_FILTERS_TOTAL = 5, 6, 18


class SearchMixin:
    """h_search and its filter, sort and paging helpers."""

    def h_search(self, req, events, kind):
        otype = self._type(kind)
        if len(req.body) > SEARCH_BODY_MAX:
            return validation_error("Search request body is over %d characters" % SEARCH_BODY_MAX)
        body = self._json_body(req) if req.body else {}
        groups = self._search_groups(otype, body)
        limit, after = self._search_page(body)
        matches = [r for r in otype.records.values()
                   if self._matches_groups(otype, r["properties"], groups)
                   and self._matches_query(r["properties"], body.get("query"))]
        matches = self._sorted(otype, matches, body.get("sorts") or [])
        names = body.get("properties") if isinstance(body.get("properties"), list) else None
        answer = {"total": len(matches),
                  "results": [self._render(otype, r, names) for r in matches[after:after + limit]]}
        if after + limit < len(matches):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return Response(200, answer)

    @staticmethod
    def _search_page(body):
        try:
            limit = int(body.get("limit", 10))
            after = int(body.get("after") or 0)
        except (TypeError, ValueError):
            raise ApiError(validation_error("limit and after must be integers"))
        if limit < 0 or limit > SEARCH_PAGE_MAX:
            raise ApiError(validation_error(
                "limit must be between 0 and %d, got %d" % (SEARCH_PAGE_MAX, limit)))
        if after < 0 or after >= SEARCH_RESULT_CAP:
            raise ApiError(validation_error(
                "Paging is limited to %d results; 'after' %d is beyond it"
                % (SEARCH_RESULT_CAP, after)))
        return limit, after

    @staticmethod
    def _search_groups(otype, body):
        groups = body.get("filterGroups") or []
        if not isinstance(groups, list):
            raise ApiError(validation_error("filterGroups must be a list"))
        filters = [f for g in groups for f in (g.get("filters") or [])]
        if (len(groups) > SEARCH_GROUPS_MAX
                or any(len(g.get("filters") or []) > SEARCH_FILTERS_PER_GROUP for g in groups)
                or len(filters) > SEARCH_FILTERS_TOTAL):
            raise ApiError(validation_error(
                "Too many filters: at most %d filterGroups, %d filters per group and %d "
                "filters in total" % (SEARCH_GROUPS_MAX, SEARCH_FILTERS_PER_GROUP,
                                      SEARCH_FILTERS_TOTAL)))
        for f in filters:
            if f.get("propertyName") not in otype.props:
                raise ApiError(validation_error(
                    "There was a problem with the request: property %s does not exist"
                    % f.get("propertyName")))
        return groups

    def _matches_groups(self, otype, values, groups):
        if not groups:
            return True
        return any(all(self._matches_filter(otype, values, f) for f in g.get("filters") or [])
                   for g in groups)

    def _matches_filter(self, otype, values, flt):
        name, op = flt["propertyName"], flt.get("operator", "EQ")
        value = values.get(name)
        if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            return (value is not None) == (op == "HAS_PROPERTY")
        if op in ("IN", "NOT_IN"):
            member = any(self._compare(otype, name, value, v) == 0
                         for v in flt.get("values") or [])
            return value is not None and member if op == "IN" else not member
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            found = value is not None and self._has_token(value, str(flt.get("value", "")))
            return found == (op == "CONTAINS_TOKEN")
        if value is None:
            return op == "NEQ"
        if op == "BETWEEN":
            return (self._compare(otype, name, value, flt.get("value")) >= 0
                    and self._compare(otype, name, value, flt.get("highValue")) <= 0)
        cmp = self._compare(otype, name, value, flt.get("value"))
        checks = {"EQ": cmp == 0, "NEQ": cmp != 0, "LT": cmp < 0, "LTE": cmp <= 0,
                  "GT": cmp > 0, "GTE": cmp >= 0}
        if op not in checks:
            raise ApiError(validation_error("Unknown search operator %s" % op))
        return checks[op]

    @staticmethod
    def _has_token(value, token):
        token = token.lower()
        tokens = [t for t in re.split(r"[^\w*]+", value.lower()) if t]
        if "*" in token:
            return any(fnmatch.fnmatchcase(t, token) for t in tokens + [value.lower()])
        return token in tokens or token == value.lower()

    def _compare(self, otype, name, left, right):
        """-1/0/1 comparing a stored value with a filter value, HubSpot-style:
        dates as epoch ms (ms or ISO accepted), numbers numerically, strings
        case-insensitively."""
        a, b = self._sort_key(otype, name, left), self._sort_key(otype, name, right)
        if type(a) is not type(b):
            a, b = str(left).lower(), str(right).lower()
        return (a > b) - (a < b)

    @staticmethod
    def _sort_key(otype, name, value):
        kind = otype.props.get(name, {}).get("type")
        if kind in ("datetime", "date"):
            ms = parse_time_ms(value)
            if ms is not None:
                return float(ms)
        if kind == "number":
            try:
                return float(value)
            except (TypeError, ValueError):
                pass
        return str(value).lower()

    @staticmethod
    def _matches_query(values, query):
        if not query:
            return True
        text = " ".join(str(values.get(n, "")) for n in
                        ("email", "firstname", "lastname", "phone", "dealname"))
        return str(query).lower() in text.lower()

    def _sorted(self, otype, records, sorts):
        records = sorted(records, key=lambda r: int(r["id"]))
        for spec in reversed(sorts[:1]):  # HubSpot honours a single sort
            if isinstance(spec, str):
                name, descending = spec.lstrip("-"), spec.startswith("-")
            else:
                name = spec.get("propertyName")
                descending = spec.get("direction", "ASCENDING") == "DESCENDING"
            present = [r for r in records if r["properties"].get(name) is not None]
            absent = [r for r in records if r["properties"].get(name) is None]
            present.sort(key=lambda r: self._sort_key(otype, name, r["properties"][name]),
                         reverse=descending)
            records = present + absent
        return records
