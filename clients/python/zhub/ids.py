"""Ids derived from other ids, the forms zhub's own processes use
(proto/zhub_id.h). A message published because of another one gets an id
computed from the cause's id: when the cause is delivered again (a retry,
a crash before the ACK), the same id is published again and the broker's
dedup keeps one message. This is what makes a consumer that publishes
exactly-once in effect.
"""
import hashlib

from .envelope import MAX_ID
from .errors import InvalidMessage


def derive_id(prefix, cause_id, nbytes=16):
    """prefix + lower-case hex of the first nbytes bytes of
    SHA-256(cause_id): zhub_id_derive. Never cut short."""
    if not 1 <= nbytes <= 32:
        raise InvalidMessage("nbytes must be 1..32")
    digest = hashlib.sha256(cause_id.encode("utf-8")).hexdigest()[:2 * nbytes]
    out = prefix + digest
    if len(out.encode("utf-8")) > MAX_ID:
        raise InvalidMessage("the derived id is over %d bytes" % MAX_ID)
    return out


def bounded_id(head, text):
    """head + text when that fits an envelope id, else head + "h:" + 32 hex
    of BLAKE2b-128(text): zhub_id_bounded (the dead letters' form)."""
    whole = head + text
    if len(whole.encode("utf-8")) <= MAX_ID:
        return whole
    out = head + "h:" + hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
    if len(out.encode("utf-8")) > MAX_ID:
        raise InvalidMessage("the head alone is too long for an id")
    return out
