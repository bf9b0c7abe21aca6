"""The provider tables by stand-in name (tests/peers/<name>_peer.py), and
the one call the integration harness makes: check(name, entries)."""
import ops_bird
import ops_calendly
import ops_google
import ops_graph
import ops_hubspot
import ops_openai
from urllib.parse import unquote

from contract import check_requests, find_operation, is_from_zhub

# name -> (operations, path prefixes the real base URL carries and a
# stand-in may or may not be called with)
_TABLES = {}
_LOADERS = {"hubspot": (ops_hubspot.operations, ()),
            "bird": (ops_bird.operations, ()),
            "google": (ops_google.operations, ()),
            "graph": (ops_graph.operations, ("/v1.0",)),
            "calendly": (ops_calendly.operations, ()),
            "llm": (ops_openai.operations, ())}


def operations(name):
    if name not in _TABLES:
        load, prefixes = _LOADERS[name]
        _TABLES[name] = (load(), prefixes)
    return _TABLES[name]


def names():
    return sorted(_LOADERS)


def check(name, entries):
    """(violations, warnings) for the entries a stand-in recorded."""
    ops, prefixes = operations(name)
    return check_requests(name, ops, entries, prefixes)


def operations_seen(name, entries):
    """{operation name or "unknown": count} over the entries zhub sent."""
    ops, prefixes = operations(name)
    seen = {}
    for entry in entries:
        if not is_from_zhub(entry):
            continue
        path = entry.get("path") or ""
        for prefix in prefixes:
            if path.startswith(prefix + "/"):
                path = path[len(prefix):]
        op, _ = find_operation(ops, entry.get("method"),
                               [unquote(p) for p in path.strip("/").split("/")])
        key = op.name if op else "unknown"
        seen[key] = seen.get(key, 0) + 1
    return seen
