"""The base of the typed events (events.py, generated from the catalogue):
building an envelope from one, and reading one from an envelope, both held
to the catalogue by catalogue.check_envelope.
"""
import datetime
from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, Optional, Tuple, Union

from . import catalogue
from .envelope import Envelope, format_time, topic_match
from .errors import CatalogueError, InvalidMessage

Id = Union[str, int]
"""An id: text of 1..256 bytes, or an integer >= 0 (HubSpot's ids)."""

Time = Union[str, datetime.datetime]
"""An RFC 3339 string, or a timezone-aware datetime (written as UTC)."""


def _wire(value):
    if isinstance(value, datetime.datetime):
        return format_time(value)
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    return value


def _subject_field(form, names):
    """The field a subject form is built from: "contact:<bird id>" ->
    bird_contact_id, "erase:<request>" -> request; None when none is."""
    start, end = form.find("<"), form.find(">")
    if start < 0 or end < start or " " in form[:start]:
        return None
    words = form[start + 1:end].split()
    for candidate in ("_".join(words), "_".join(words[:-1] + ["contact"] + words[-1:])):
        if candidate in names:
            return candidate
    return None


@dataclass(kw_only=True)
class Event:
    """One catalogue event's data, typed. Fields a producer adds beyond the
    catalogue's go in extra (an open entry allows them; a closed one
    refuses them when the envelope is built)."""
    TYPE: ClassVar[str] = ""
    PATTERN: ClassVar[Optional[str]] = None   # a form's pattern ("dlq.>")
    SUBJECT: ClassVar[str] = ""               # the subject form
    FIELDS: ClassVar[Tuple[Tuple[str, str], ...]] = ()   # (attribute, field in data)

    extra: Dict[str, Any] = field(default_factory=dict)

    def data(self):
        """The data map as it travels: absent fields left out, datetimes
        written as RFC 3339 UTC text."""
        out = {}
        for attr, name in self.FIELDS:
            value = getattr(self, attr)
            if value is not None:
                out[name] = _wire(value)
        for name, value in self.extra.items():
            if name in out:
                raise InvalidMessage("extra repeats the field %s" % name)
            out[name] = _wire(value)
        return out

    def default_subject(self):
        """The subject the catalogue's form gives this event ("contact:" +
        its bird_contact_id), or None when it cannot say."""
        if "<" not in self.SUBJECT and " " not in self.SUBJECT:
            return self.SUBJECT
        names = dict((name, attr) for attr, name in self.FIELDS)
        name = _subject_field(self.SUBJECT, names)
        value = getattr(self, names[name]) if name else None
        if value is None:
            return None
        return self.SUBJECT[:self.SUBJECT.find("<")] + str(value)

    def envelope(self, *, id, source, type=None, subject=None, time=None, traceparent=None,
                 deliverat=None):
        """An envelope for this event, checked against the catalogue and the
        envelope's rules (CatalogueError / InvalidMessage otherwise). id is
        the event's: derive it from its cause (zhub.ids) so that a retry
        publishes the same id. type is needed only for a family of types
        ("dlq.<group>": type="dlq.my-group"). subject defaults to the
        catalogue's form filled in (default_subject)."""
        if type is None:
            if self.PATTERN is not None:
                raise InvalidMessage("%s is a family of types: say which (type=...)" % self.TYPE)
            type = self.TYPE
        elif type != self.TYPE and not (self.PATTERN and topic_match(self.PATTERN, type)):
            raise InvalidMessage("type %s is not %s" % (type, self.TYPE))
        env = Envelope(type=type, id=id, source=source,
                       subject=self.default_subject() if subject is None else subject,
                       data=self.data(), time=time, traceparent=traceparent,
                       deliverat=deliverat)
        env.validate()
        catalogue.check_envelope(env)
        return env

    @classmethod
    def from_envelope(cls, envelope, strict=True):
        """The event in envelope. strict: its subject and data must keep to
        the catalogue (CatalogueError). Not strict: fields are read as they
        come, missing ones are None (reading older messages leniently)."""
        if envelope.type != cls.TYPE and not (cls.PATTERN and topic_match(cls.PATTERN,
                                                                          envelope.type)):
            raise CatalogueError("%s is not %s" % (envelope.type, cls.TYPE))
        if strict:
            catalogue.check_envelope(envelope)
        known = dict((name, attr) for attr, name in cls.FIELDS)
        values = {attr: envelope.data.get(name) for name, attr in known.items()}
        extra = {k: v for k, v in envelope.data.items() if k not in known}
        return cls(extra=extra, **values)


def parse(by_type, envelope, strict=True):
    """The typed event of envelope (by its type, or the family it belongs
    to); None when the catalogue does not know the type."""
    entry = catalogue.find(envelope.type)
    if entry is None:
        return None
    return by_type[entry["type"]].from_envelope(envelope, strict)
