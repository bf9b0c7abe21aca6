"""The envelope (proto/PROTOCOL.md section 4): one msgpack map per message
with CloudEvents attribute names. Envelope.encode() checks every rule the
broker applies before anything is sent, so that a mistake is an
InvalidMessage naming the rule here rather than an ERROR 400 later;
Envelope.decode() reads what the broker delivers, within the limits of a
stored envelope (a dead letter nests two levels deeper than what was
published).

Topics and subscription patterns (4.2, 4.3) live here too, with the RFC
3339 times that data carries. Pure: no I/O.
"""
import datetime
import math
import re
import time as _time
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import msgpack

from .errors import InvalidMessage

SPECVERSION = "1.0"
MAX_ID = 256             # id, source, subject: bytes
MAX_TYPE = 255           # a topic: bytes
MAX_TRACEPARENT = 128
MAX_DELAY_MS = 366 * 24 * 3600 * 1000     # deliverat at most this far ahead

# What a broker accepts in a PUBLISH: ZHUB_BROKER_MAX_MESSAGE is 1 MiB by
# default and at most 2 MiB; 30 levels (a dead letter adds two); items.
MAX_MESSAGE_DEFAULT = 1024 * 1024
MAX_MESSAGE_CEILING = 2 * 1024 * 1024
MAX_MESSAGE_FLOOR = 1024
MAX_DEPTH = 30
MAX_ITEMS = 100000
# What a broker stores and delivers (zhub_msg_stored_limits).
STORED_MAX_SIZE = 4 * 1024 * 1024
STORED_MAX_DEPTH = 32
STORED_MAX_ITEMS = MAX_ITEMS + 1024

_TOKEN = r"[A-Za-z0-9_-]+"
_TOPIC = re.compile(r"%s(\.%s)*\Z" % (_TOKEN, _TOKEN))
_PTOKEN = r"(%s|\*)" % _TOKEN
_PATTERN = re.compile(r"(%s(\.%s)*(\.>)?|>)\Z" % (_PTOKEN, _PTOKEN))


def topic_valid(text):
    """True for a topic: dot-separated tokens of [A-Za-z0-9_-], 1..255 bytes."""
    return isinstance(text, str) and 0 < len(text.encode("utf-8", "replace")) <= MAX_TYPE \
        and _TOPIC.match(text) is not None


def pattern_valid(text):
    """True for a subscription pattern: a topic whose tokens may be "*",
    and whose last token may be ">"."""
    return isinstance(text, str) and 0 < len(text.encode("utf-8", "replace")) <= MAX_TYPE \
        and _PATTERN.match(text) is not None


def topic_match(pattern, topic):
    """PROTOCOL.md 4.3: "*" matches one token, a last ">" one or more."""
    if not pattern_valid(pattern) or not topic_valid(topic):
        return False
    p, t = pattern.split("."), topic.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(t) > i
        if i >= len(t) or (token != "*" and token != t[i]):
            return False
    return len(p) == len(t)


# -- times --------------------------------------------------------------

_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                      r"([Zz]|[+-]\d{2}:\d{2})\Z")


def parse_time(text):
    """Unix ms of an RFC 3339 time as zhub reads one (common/zhub_common.c,
    zhub_time_parse), or None when it is not one."""
    m = _RFC3339.match(text) if isinstance(text, str) else None
    if not m:
        return None
    year, mon, day, hour, minute, sec = (int(g) for g in m.groups()[:6])
    if not (1 <= mon <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and sec <= 60):
        return None
    frac = m.group(7)
    millis = int((frac[1:] + "000")[:3]) if frac else 0
    zone = m.group(8)
    offset = 0 if zone in ("Z", "z") else \
        (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 60 + int(zone[4:6]))
    # as timegm does: day 31 of a short month rolls into the next one
    days = datetime.date(year, mon, 1).toordinal() - datetime.date(1970, 1, 1).toordinal() \
        + day - 1
    return ((days * 86400 + hour * 3600 + minute * 60 + sec) - offset * 60) * 1000 + millis


def format_time(value):
    """An RFC 3339 UTC string with milliseconds ("2030-01-01T10:00:00.000Z")
    from a timezone-aware datetime or from unix ms."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidMessage("a datetime in data must be timezone-aware (%r)" % value)
        value = value.astimezone(datetime.timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)
    if isinstance(value, int) and not isinstance(value, bool):
        seconds, millis = divmod(value, 1000)
        moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % millis
    raise InvalidMessage("a time must be a datetime or unix ms, not %r" % (value,))


def now_ms():
    return int(_time.time() * 1000)


# -- size, depth, items --------------------------------------------------

def measure(obj, max_depth):
    """(depth, items) as the broker counts them (proto/zhub_mpack.c): a
    non-empty map or array is one level deeper than its parent, an empty
    one and a scalar add none; every key, value and container is an item.
    Stops counting once max_depth is passed (so a cycle ends too)."""
    if isinstance(obj, dict):
        if not obj:
            return 0, 1
        depth, items = 0, 1
        for key, value in obj.items():
            kd, ki = measure(key, max_depth - 1)
            vd, vi = measure(value, max_depth - 1)
            depth, items = max(depth, kd, vd), items + ki + vi
            if depth >= max_depth:
                break
        return depth + 1, items
    if isinstance(obj, (list, tuple)):
        if not obj:
            return 0, 1
        depth, items = 0, 1
        for value in obj:
            vd, vi = measure(value, max_depth - 1)
            depth, items = max(depth, vd), items + vi
            if depth >= max_depth:
                break
        return depth + 1, items
    return 0, 1


def _check_values(obj, where):
    """Everything in data must be what msgpack carries faithfully and JSON
    readers can follow: maps with string keys, arrays, strings, bytes,
    integers of at most 64 bits, finite numbers, booleans and nil."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise InvalidMessage("%s: keys must be strings, not %r" % (where, key))
            _check_values(value, "%s.%s" % (where, key))
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            _check_values(value, "%s[%d]" % (where, i))
    elif isinstance(obj, bool) or obj is None or isinstance(obj, (str, bytes, bytearray)):
        return
    elif isinstance(obj, int):
        if not -(1 << 63) <= obj < (1 << 64):
            raise InvalidMessage("%s: %d does not fit 64 bits" % (where, obj))
    elif isinstance(obj, float):
        if not math.isfinite(obj):
            raise InvalidMessage("%s: %r is not a finite number" % (where, obj))
    else:
        raise InvalidMessage("%s: a %s cannot travel in a message (times are RFC 3339 strings)"
                             % (where, type(obj).__name__))


def _text(value, name, low, high):
    if not isinstance(value, str):
        raise InvalidMessage("%s must be a string" % name)
    if "\0" in value:
        raise InvalidMessage("%s must not hold a NUL byte" % name)
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidMessage("%s is not valid UTF-8 text" % name) from None
    if not low <= size <= high:
        raise InvalidMessage("%s must be %d..%d bytes (has %d)" % (name, low, high, size))


def _ms(value, name):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMessage("%s must be unix ms (an integer)" % name)
    if not -(1 << 63) <= value < (1 << 63):
        raise InvalidMessage("%s does not fit 64 bits" % name)
    return value


@dataclass
class Envelope:
    """One message. time is unix ms (now when not given); deliverat, when
    set, is unix ms before which no group sees it (6.3); data is a map."""
    type: str
    id: str
    source: str
    subject: Optional[str] = None
    data: Dict[str, Any] = field(default_factory=dict)
    time: Optional[int] = None
    traceparent: Optional[str] = None
    deliverat: Optional[int] = None

    def __post_init__(self):
        if self.time is None:
            self.time = now_ms()

    def validate(self, now=None):
        """Raises InvalidMessage naming the first rule of PROTOCOL.md 4 this
        breaks (the order of zhub_msg_validate)."""
        _text(self.id, "id", 1, MAX_ID)
        _text(self.source, "source", 1, MAX_ID)
        if not topic_valid(self.type):
            raise InvalidMessage("type must be a dotted topic of [A-Za-z0-9_-] tokens "
                                 "(1..255 bytes): %r" % (self.type,))
        if self.subject is not None:
            _text(self.subject, "subject", 0, MAX_ID)
        if self.traceparent is not None:
            _text(self.traceparent, "traceparent", 0, MAX_TRACEPARENT)
        if not isinstance(self.data, dict):
            raise InvalidMessage("data must be a map")
        _ms(self.time, "time")
        if self.deliverat is not None:
            _ms(self.deliverat, "deliverat")
            if self.deliverat < 0:
                raise InvalidMessage("deliverat must be unix ms (a non-negative integer)")
            if self.deliverat > (now_ms() if now is None else now) + MAX_DELAY_MS:
                raise InvalidMessage("deliverat is more than 366 days ahead")
        _check_values(self.data, "data")

    def to_map(self):
        """The envelope as a dict, in the key order zhub writes."""
        out = {"specversion": SPECVERSION, "id": self.id, "source": self.source,
               "type": self.type}
        if self.subject is not None:
            out["subject"] = self.subject
        out["time"] = self.time
        if self.traceparent is not None:
            out["traceparent"] = self.traceparent
        if self.deliverat is not None and self.deliverat > 0:
            out["deliverat"] = self.deliverat
        out["data"] = self.data
        return out

    def encode(self, max_size=MAX_MESSAGE_DEFAULT):
        """The msgpack bytes, after checking every rule and limit a broker
        applies to a PUBLISH (max_size: the broker's ZHUB_BROKER_MAX_MESSAGE)."""
        self.validate()
        whole = self.to_map()
        depth, items = measure(whole, MAX_DEPTH + 1)
        if depth > MAX_DEPTH:
            raise InvalidMessage("the envelope nests deeper than %d levels" % MAX_DEPTH)
        if items > MAX_ITEMS:
            raise InvalidMessage("the envelope holds more than %d items" % MAX_ITEMS)
        body = msgpack.packb(whole, use_bin_type=True)
        if len(body) > max_size:
            raise InvalidMessage("the envelope is %d bytes, over the limit of %d"
                                 % (len(body), max_size))
        return body

    @classmethod
    def decode(cls, body):
        """An envelope from its bytes as delivered; InvalidMessage when they
        are not one (within the limits of a stored envelope)."""
        if not isinstance(body, (bytes, bytearray)) or not body:
            raise InvalidMessage("an envelope must be msgpack bytes")
        if len(body) > STORED_MAX_SIZE:
            raise InvalidMessage("the envelope is over %d bytes" % STORED_MAX_SIZE)
        try:
            obj = msgpack.unpackb(bytes(body), raw=False, strict_map_key=False)
        except (ValueError, msgpack.UnpackException, RecursionError) as e:
            raise InvalidMessage("the envelope is not msgpack: %s" % e) from None
        depth, items = measure(obj, STORED_MAX_DEPTH + 1)
        if depth > STORED_MAX_DEPTH or items > STORED_MAX_ITEMS:
            raise InvalidMessage("the envelope is beyond the stored limits")
        return cls.from_map(obj)

    @classmethod
    def from_map(cls, obj):
        """An envelope from its decoded map (zhub_msg_from_object's rules:
        time may be RFC 3339 text, data nil is {})."""
        if not isinstance(obj, dict):
            raise InvalidMessage("envelope must be a map")
        if obj.get("specversion") != SPECVERSION:
            raise InvalidMessage('specversion must be "1.0"')
        stamp = obj.get("time")
        if isinstance(stamp, str):
            stamp = parse_time(stamp)
            if stamp is None:
                raise InvalidMessage("time is not RFC 3339")
        elif stamp is None:
            stamp = 0
        elif isinstance(stamp, bool) or not isinstance(stamp, int):
            raise InvalidMessage("time must be unix ms or RFC 3339")
        deliverat = obj.get("deliverat")
        if deliverat is not None and (isinstance(deliverat, bool) or not isinstance(deliverat, int)
                                      or deliverat < 0):
            raise InvalidMessage("deliverat must be unix ms (a non-negative integer)")
        data = obj.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InvalidMessage("data must be a map")
        env = cls(type=obj.get("type"), id=obj.get("id"), source=obj.get("source"),
                  subject=obj.get("subject"), data=data, time=stamp,
                  traceparent=obj.get("traceparent"), deliverat=deliverat)
        _text(env.id, "id", 1, MAX_ID)
        _text(env.source, "source", 1, MAX_ID)
        if not topic_valid(env.type):
            raise InvalidMessage("type must be a dotted topic")
        if env.subject is not None:
            _text(env.subject, "subject", 0, MAX_ID)
        if env.traceparent is not None:
            _text(env.traceparent, "traceparent", 0, MAX_TRACEPARENT)
        return env

