"""The bus client (proto/PROTOCOL.md): one ZeroMQ DEALER socket to
zhub-broker, requests matched to answers by seq, as the C client
(proto/zhub_client.c) does it.

- publish() returns only once the broker answered PUBACK, i.e. the message
  is on disk. It sends the same envelope again (same id) while no answer
  comes, and takes the answer to any of its attempts (5.3).
- join() makes this client a member of a consumer group; receive() hands
  out deliveries within the member's credit; each is then acked, nacked
  (retry later, or terminal: dead letter now) or deferred.
- Heartbeats: a PING whenever nothing was sent for a second (5.10), from
  the calls that wait and, while the application is busy elsewhere (a
  slow handler), from a small thread, so the broker never forgets a
  member that is working. Every PONG lists the groups the broker knows
  this client in; one that is missing is joined again at once. That is
  how consumption resumes after a broker restart; ZeroMQ reconnects the
  socket by itself (same routing id, so the broker hands the new
  connection over).

Calls are serialised by one lock (the heartbeat thread takes it only when
it is free); use a client from one thread, as the C client.
"""
import collections
import logging
import os
import re
import threading
import time
import weakref
from dataclasses import dataclass, field

import msgpack
import zmq

from . import events, security
from .envelope import MAX_DELAY_MS, MAX_MESSAGE_CEILING, MAX_MESSAGE_DEFAULT, \
    MAX_MESSAGE_FLOOR, Envelope, pattern_valid, topic_valid
from .errors import InvalidMessage, NotConfirmed, Rejected, VersionRefused, ZhubError

log = logging.getLogger("zhub")

PROTO_VERSION = 1
DEFAULT_ENDPOINT = "tcp://127.0.0.1:7450"
HEARTBEAT_S = 1.0                   # ZHUB_HEARTBEAT_MS
FRAME_MAX = 4 * 1024 * 1024         # a bigger message makes ZeroMQ drop the connection
LINGER_MS = 1000
MAX_NAME = 256
MAX_GROUP = 128
MAX_PATTERNS = 64
MAX_CREDIT = 1000000
MAX_DELIVERIES = 1000
MIN_ACK_DEADLINE_MS = 100
MAX_BACKOFF_STEPS = 16
MAX_REASON = 4096
MAX_CODE = 2 ** 32 - 1
_INSTANCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RETRY_AFTER_503_S = 0.2             # the broker could not commit: try again soon


@dataclass(frozen=True)
class PubAck:
    """The broker stored the message at offset (0: held until its
    deliverat, 6.3). duplicate: an earlier message with this id was stored
    (which may be an earlier attempt of the same publish)."""
    offset: int
    duplicate: bool


@dataclass
class Delivery:
    """One message for this member: quote it in ack / nack / defer."""
    group: str
    tag: int
    offset: int
    attempt: int            # 1 on the first delivery
    envelope: Envelope
    client: "Client" = field(repr=False, compare=False)

    def ack(self):
        return self.client.ack(self)

    def nack(self, delay_ms=None, terminal=False, code=0, reason=""):
        return self.client.nack(self, delay_ms=delay_ms, terminal=terminal, code=code,
                                reason=reason)

    def defer(self, delay_ms=None, code=0, reason=""):
        return self.client.defer(self, delay_ms=delay_ms, code=code, reason=reason)

    def event(self, strict=True):
        """The typed catalogue event (zhub.events), None for a type the
        catalogue does not know."""
        return events.parse(self.envelope, strict)


def _utf8_len(text):
    return len(text.encode("utf-8"))


def _cut_utf8(text, size):
    data = text.encode("utf-8")
    return text if len(data) <= size else data[:size].decode("utf-8", "ignore")


def _uint(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidMessage("%s must be an integer %d..%d" % (name, low, high))
    return value


def _group(group):
    if not topic_valid(group) or _utf8_len(group) > MAX_GROUP:
        raise InvalidMessage("group must be a topic without wildcards, 1..%d bytes: %r"
                             % (MAX_GROUP, group))
    return group


def _max_message_from_env():
    text = os.environ.get("ZHUB_BROKER_MAX_MESSAGE")
    if not text:
        return MAX_MESSAGE_DEFAULT
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not MAX_MESSAGE_FLOOR <= value <= MAX_MESSAGE_CEILING:
        raise ValueError("ZHUB_BROKER_MAX_MESSAGE must be %d..%d bytes, not %r"
                         % (MAX_MESSAGE_FLOOR, MAX_MESSAGE_CEILING, text))
    return value


def _routing_id(name):
    safe = "".join(c if 0x20 < ord(c) < 0x7f and c not in '"\\' else "_" for c in name[:64])
    # 64 random bits: a routing id is what a connection is known by, and no
    # other key should guess it (PROTOCOL.md 16.3)
    return "%s-%d-%s" % (safe, os.getpid(), os.urandom(8).hex())


def _beat(ref, stop):
    """The heartbeat thread: holds the client only weakly, so a client
    that is dropped without close() still goes away."""
    while not stop.wait(HEARTBEAT_S / 4):
        client = ref()
        if client is None:
            return
        client._idle_beat()
        del client


class Client:
    """A connection to zhub-broker.

    endpoint: the broker's ROUTER ($ZHUB_BROKER, else tcp://127.0.0.1:7450).
    name: for the broker's logs and STATS; the routing id is
    <name>-<pid>-<random>. max_message: the largest envelope to send, as the
    broker's ZHUB_BROKER_MAX_MESSAGE (read from the environment when not
    given; 1 MiB by default). heartbeat_thread: keep the membership alive
    while the application is busy between calls. curve: a security.Curve
    (this client's keys and the broker's), False for plain (a broker on
    this machine only), or None to read ZHUB_BUS_SECURITY, ZHUB_BUS_CERT
    and ZHUB_BROKER_PUBLIC_KEY (curve is the default; zhub.security).
    instance: this replica's stable name ($ZHUB_INSTANCE when not given),
    so that broadcast topics such as contact.forget reach each replica of
    the group (PROTOCOL.md 7.8).
    """

    def __init__(self, endpoint=None, name="client", *, max_message=None,
                 heartbeat_thread=True, curve=None, instance=None):
        endpoint = endpoint or os.environ.get("ZHUB_BROKER") or DEFAULT_ENDPOINT
        if curve is None:
            curve = security.from_env([endpoint])
        elif curve is False:
            curve = security.from_env([endpoint], {"ZHUB_BUS_SECURITY": "plain"})
        instance = instance or os.environ.get("ZHUB_INSTANCE") or None
        if instance is not None and not _INSTANCE.match(instance):
            raise ValueError("instance must be 1..64 of [A-Za-z0-9_-]")
        self.instance = instance
        self.curve = curve
        if not isinstance(name, str) or not name or _utf8_len(name) > MAX_NAME:
            raise ValueError("name must be 1..%d bytes of text" % MAX_NAME)
        self.max_message = _max_message_from_env() if max_message is None else max_message
        if not MAX_MESSAGE_FLOOR <= self.max_message <= MAX_MESSAGE_CEILING:
            raise ValueError("max_message must be %d..%d bytes"
                             % (MAX_MESSAGE_FLOOR, MAX_MESSAGE_CEILING))
        self.name = name
        self.endpoint = endpoint
        self.routing_id = _routing_id(name)
        self.broker_version = None          # from WELCOME
        self.recent_errors = collections.deque(maxlen=64)   # (code, reason) of ERROR seq 0
        self._seq = 0
        self._inbox = collections.deque()   # DELIVER frames not handed out yet
        self._joins = {}                    # group -> its JOIN frame (for re-joins)
        self._hello_sent = False
        self._refused = None                # ERROR 426's reason
        self._closed = False
        self._lock = threading.RLock()
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.DEALER)
        for option, value in ((zmq.ROUTING_ID, self.routing_id.encode()), (zmq.IMMEDIATE, 1),
                              (zmq.MAXMSGSIZE, FRAME_MAX), (zmq.LINGER, LINGER_MS),
                              (zmq.HEARTBEAT_IVL, int(HEARTBEAT_S * 1000)),
                              (zmq.HEARTBEAT_TIMEOUT, int(3 * HEARTBEAT_S * 1000)),
                              (zmq.HEARTBEAT_TTL, int(10 * HEARTBEAT_S * 1000)),
                              (zmq.RECONNECT_IVL_MAX, 1000)):
            self._sock.setsockopt(option, value)
        if curve is not None:
            curve.apply(self._sock)
        try:
            self._sock.connect(endpoint)
        except zmq.ZMQError as e:
            self._sock.close(0)
            self._ctx.term()
            raise ValueError("cannot use broker endpoint %r: %s" % (endpoint, e)) from None
        self._last_send = time.monotonic()
        self._stop = threading.Event()
        self._thread = None
        if heartbeat_thread:
            self._thread = threading.Thread(target=_beat, args=(weakref.ref(self), self._stop),
                                            name="zhub-heartbeat", daemon=True)
            self._thread.start()

    # -- the socket -------------------------------------------------------

    def _next_seq(self):
        self._seq += 1
        return self._seq

    def _write(self, frame, timeout):
        """Sends one frame, waiting up to timeout seconds for the socket to
        take it (with ZMQ_IMMEDIATE it does not while no connection is
        up). Returns False when it did not."""
        data = msgpack.packb(frame, use_bin_type=True)
        if len(data) > FRAME_MAX:
            raise InvalidMessage("the frame is over %d bytes" % FRAME_MAX)
        try:
            self._sock.send(data, zmq.NOBLOCK)
        except zmq.Again:
            if timeout <= 0 or not self._sock.poll(int(timeout * 1000), zmq.POLLOUT):
                return False
            try:
                self._sock.send(data, zmq.NOBLOCK)
            except zmq.Again:
                return False
        self._last_send = time.monotonic()
        return True

    def _send(self, frame, timeout):
        if not self._hello_sent:
            hello = {"cmd": "HELLO", "v": PROTO_VERSION, "name": self.name}
            if self.instance:
                hello["instance"] = self.instance
            if not self._write(hello, timeout):
                return False        # not connected: the frame would not go either
            self._hello_sent = True
        return self._write(frame, timeout)

    def _read(self, timeout):
        """One decoded frame, or None when none came within timeout.
        Frames that are not one msgpack map with a cmd are dropped."""
        if not self._sock.poll(max(0, int(timeout * 1000)), zmq.POLLIN):
            return None
        data = self._sock.recv()
        if self._sock.getsockopt(zmq.RCVMORE):
            while self._sock.getsockopt(zmq.RCVMORE):
                self._sock.recv()
            return {}
        try:
            frame = msgpack.unpackb(data, raw=False, strict_map_key=False)
        except Exception as e:  # any undecodable frame: msgpack raises several kinds
            log.warning("zhub: dropped a frame that is not msgpack: %s", e)
            return {}
        return frame if isinstance(frame, dict) and isinstance(frame.get("cmd"), str) else {}

    def _heartbeat(self):
        if not self._send({"cmd": "PING"}, 0):
            self._last_send = time.monotonic()   # not connected: try again in an interval

    def _on_pong(self, frame):
        """A PONG that lacks a group we joined: the broker forgot us
        (restart, or silence). Join again now, without waiting."""
        known = frame.get("topics") or []
        lost = [group for group in self._joins if group not in known]
        if not lost:
            return
        log.info("zhub: the broker does not know %s any more: joining again", ", ".join(lost))
        self._hello_sent = False    # a restarted broker hears our HELLO again
        for group in lost:
            join = dict(self._joins[group], seq=self._next_seq())
            self._send(join, HEARTBEAT_S)

    def _absorb(self, frame):
        """A frame nobody waits for right now."""
        cmd = frame.get("cmd")
        if cmd == "DELIVER":
            self._inbox.append(frame)
        elif cmd == "PONG":
            self._on_pong(frame)
        elif cmd == "WELCOME":
            self.broker_version = frame.get("v")
        elif cmd == "ERROR" and not frame.get("seq"):
            code, reason = frame.get("code"), frame.get("reason")
            if code == 426:
                self._refused = reason or "protocol version not supported"
            self.recent_errors.append((code, reason))
            (log.info if code == 409 else log.warning)("zhub: broker error %s: %s", code, reason)
        # else: an answer to a call that gave up, or a JOINED for a re-join

    def _pump(self, deadline, match):
        """Waits until a frame match() accepts arrives (returned), keeping
        heartbeats going and absorbing the rest; None at the deadline. The
        socket is read at least once, so a deadline in the past still
        sees what has already arrived."""
        drained = False
        while True:
            now = time.monotonic()
            if now - self._last_send >= HEARTBEAT_S:
                self._heartbeat()
            remaining = deadline - now
            if remaining <= 0 and drained:
                return None
            frame = self._read(max(0.0, min(remaining, self._last_send + HEARTBEAT_S - now)))
            if frame is None:
                drained = True
                continue
            if frame and match(frame):
                return frame
            if frame:
                self._absorb(frame)
                if self._refused:       # no answer will come: say why now
                    raise VersionRefused(self._refused)

    def _idle_beat(self):
        """From the heartbeat thread: a PING when the client has been quiet
        for an interval, and the frames that arrived meanwhile put where
        the next call finds them. Never waits for the lock."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._closed:
                return
            if time.monotonic() - self._last_send >= HEARTBEAT_S:
                self._heartbeat()
            for _ in range(1000):
                frame = self._read(0)
                if frame is None:
                    break
                if frame:
                    self._absorb(frame)
        except zmq.ZMQError:
            pass    # the socket is closing
        finally:
            self._lock.release()

    def _usable(self):
        if self._closed:
            raise ZhubError("the client is closed")
        if self._refused:
            raise VersionRefused(self._refused)

    def _request(self, frame, answer, timeout, resend_after):
        """Sends frame with a fresh seq until the broker answers (answer, or
        ERROR) to one of its attempts; ERROR 503 is tried again. Returns
        the answer; Rejected for another ERROR; NotConfirmed at timeout."""
        deadline = time.monotonic() + timeout
        seqs, next_send, last = set(), time.monotonic(), "the broker did not answer"
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise NotConfirmed("%s: no confirmation within %.1fs (%s)"
                                   % (frame["cmd"], timeout, last))
            if now >= next_send:
                seq = self._next_seq()
                if self._send(dict(frame, seq=seq), deadline - now):
                    seqs.add(seq)
                    next_send = time.monotonic() + resend_after
                else:
                    last = "the broker is not reachable"
                    continue
            reply = self._pump(min(deadline, next_send),
                               lambda f: f.get("cmd") in (answer, "ERROR") and f.get("seq") in seqs)
            if reply is None:
                continue
            if reply["cmd"] == answer:
                return reply
            if reply.get("code") in (503, 401):
                # could not store it; or our key is not allowed now (it may be again)
                last = "the broker could not take it: %s" % reply.get("reason")
                next_send = min(next_send, time.monotonic() + RETRY_AFTER_503_S)
                continue
            raise Rejected(reply.get("code"), reply.get("reason"))

    # -- publishing -------------------------------------------------------

    def _body(self, envelope):
        if not isinstance(envelope, Envelope):
            raise InvalidMessage("publish takes an Envelope (zhub.Envelope or "
                                 "an event's .envelope())")
        return envelope.encode(self.max_message)

    def publish(self, envelope, timeout=10.0, resend_after=2.0):
        """Publishes one envelope and returns its PubAck once the broker has
        committed it. InvalidMessage (nothing sent) or Rejected: never
        accepted as it is. NotConfirmed: maybe stored, maybe not; publish
        it again (same id) later."""
        body = self._body(envelope)
        with self._lock:
            self._usable()
            reply = self._request({"cmd": "PUBLISH", "msg": body}, "PUBACK", timeout,
                                  resend_after)
            return PubAck(reply.get("offset", 0), bool(reply.get("duplicate")))

    def publish_many(self, envelopes, timeout=10.0, resend_after=2.0):
        """Publishes envelopes pipelined, so that the broker commits them
        together, and waits for every answer. Returns one result per
        envelope, in order: a PubAck, or the error (InvalidMessage,
        Rejected, NotConfirmed) that publish() would have raised."""
        results, bodies = [], {}
        for i, envelope in enumerate(envelopes):
            try:
                bodies[i] = self._body(envelope)
                results.append(None)
            except InvalidMessage as e:
                results.append(e)
        with self._lock:
            self._usable()
            deadline = time.monotonic() + timeout
            waiting, by_seq, next_send = set(bodies), {}, time.monotonic()
            while waiting and time.monotonic() < deadline:
                if time.monotonic() >= next_send:
                    for i in sorted(waiting):
                        seq = self._next_seq()
                        if not self._send({"cmd": "PUBLISH", "seq": seq, "msg": bodies[i]},
                                          deadline - time.monotonic()):
                            break
                        by_seq[seq] = i
                    next_send = time.monotonic() + resend_after
                reply = self._pump(min(deadline, next_send),
                                   lambda f: f.get("cmd") in ("PUBACK", "ERROR")
                                   and f.get("seq") in by_seq)
                if reply is None or by_seq[reply["seq"]] not in waiting:
                    continue
                i = by_seq[reply["seq"]]
                if reply["cmd"] == "PUBACK":
                    results[i] = PubAck(reply.get("offset", 0), bool(reply.get("duplicate")))
                    waiting.discard(i)
                elif reply.get("code") == 503:
                    next_send = min(next_send, time.monotonic() + RETRY_AFTER_503_S)
                else:
                    results[i] = Rejected(reply.get("code"), reply.get("reason"))
                    waiting.discard(i)
            for i in waiting:
                results[i] = NotConfirmed("PUBLISH: no confirmation within %.1fs" % timeout)
        return results

    # -- consuming --------------------------------------------------------

    def join(self, group, topics, *, credit=1, max_deliveries=0, ack_deadline_ms=0,
             backoff_ms=(), start=None, timeout=10.0, resend_after=2.0):
        """Makes this client a member of group, consuming the topics
        (patterns: "conversation.*", "webhook.bird.>"). credit: deliveries
        in flight to this member at once. The group settings (0 / empty:
        the broker's defaults) and start ("earliest", default, or "latest")
        count only when this JOIN creates the group. The join is
        remembered and repeated whenever the broker forgets it."""
        _group(group)
        topics = list(topics)
        if not 1 <= len(topics) <= MAX_PATTERNS or not all(pattern_valid(t) for t in topics):
            raise InvalidMessage("topics must be 1..%d subscription patterns: %r"
                                 % (MAX_PATTERNS, topics))
        _uint(credit, "credit", 1, MAX_CREDIT)
        _uint(max_deliveries, "max_deliveries", 0, MAX_DELIVERIES)
        _uint(ack_deadline_ms, "ack_deadline_ms", 0, 2 ** 63 - 1)
        if 0 < ack_deadline_ms < MIN_ACK_DEADLINE_MS:
            raise InvalidMessage("ack_deadline_ms must be 0 or at least %d"
                                 % MIN_ACK_DEADLINE_MS)
        backoff_ms = list(backoff_ms)
        if len(backoff_ms) > MAX_BACKOFF_STEPS:
            raise InvalidMessage("backoff_ms has at most %d steps" % MAX_BACKOFF_STEPS)
        for step in backoff_ms:
            _uint(step, "a backoff step (ms)", 0, MAX_DELAY_MS)
        if start not in (None, "earliest", "latest"):
            raise InvalidMessage('start must be "earliest" or "latest"')
        frame = {"cmd": "JOIN", "group": group, "topics": topics, "credit": credit,
                 "max_deliveries": max_deliveries, "ack_deadline_ms": ack_deadline_ms,
                 "backoff_ms": backoff_ms}
        if start:
            frame["start"] = start
        with self._lock:
            self._usable()
            self._request(frame, "JOINED", timeout, resend_after)
            self._joins[group] = frame

    def receive(self, timeout=1.0):
        """The next delivery, or None when none came within timeout seconds
        (0: only what has arrived already). Keeps heartbeats going."""
        with self._lock:
            self._usable()
            deadline = time.monotonic() + max(0.0, timeout)
            while True:
                frame = self._inbox.popleft() if self._inbox else \
                    self._pump(deadline, lambda f: f.get("cmd") == "DELIVER")
                if frame is None:
                    return None
                delivery = self._delivery(frame)
                if delivery is not None:
                    return delivery

    def _delivery(self, frame):
        """A DELIVER frame as a Delivery; None when it is broken. An
        envelope that cannot be read is refused for good (terminal NACK,
        400), so that it shows in the dead letters instead of blocking its
        subject, as the C client does."""
        tag, group = frame.get("tag"), frame.get("group")
        if not isinstance(tag, int) or isinstance(tag, bool) or tag <= 0 \
                or not isinstance(group, str):
            return None
        try:
            envelope = Envelope.decode(frame.get("msg"))
        except InvalidMessage as e:
            log.warning("zhub: delivery %d of %s is not an envelope: %s", tag, group, e)
            self._send({"cmd": "NACK", "tag": tag, "delay_ms": -1, "terminal": True, "code": 400,
                        "reason": _cut_utf8("client could not decode the envelope: %s" % e,
                                            MAX_REASON)}, HEARTBEAT_S)
            return None
        return Delivery(group=group, tag=tag, offset=frame.get("offset", 0),
                        attempt=frame.get("attempt", 1), envelope=envelope, client=self)

    @staticmethod
    def _tag(delivery):
        tag = delivery.tag if isinstance(delivery, Delivery) else delivery
        return _uint(tag, "tag", 1, 2 ** 64 - 1)

    def ack(self, delivery):
        """The delivery succeeded: its group will not see the message again.
        Returns False when the frame could not be sent (the broker is
        unreachable: the message comes again, with a new tag)."""
        tag = self._tag(delivery)
        with self._lock:
            self._usable()
            return self._send({"cmd": "ACK", "tag": tag}, HEARTBEAT_S)

    def nack(self, delivery, delay_ms=None, terminal=False, code=0, reason=""):
        """The delivery failed. terminal: dead-letter it now (dlq.<group>).
        Otherwise it comes again after delay_ms (a Retry-After), or after
        the group's backoff when delay_ms is None; after the group's
        max_deliveries-th failure it is dead-lettered. code and reason go
        into its failure history."""
        return self._nack(delivery, delay_ms, terminal, False, code, reason)

    def defer(self, delivery, delay_ms=None, code=0, reason=""):
        """The delivery could not even be tried (the service it needs is
        down): it comes again after delay_ms (None: a second) without
        counting an attempt, so an outage alone never dead-letters it."""
        return self._nack(delivery, delay_ms, False, True, code, reason)

    def _nack(self, delivery, delay_ms, terminal, defer, code, reason):
        tag = self._tag(delivery)
        if delay_ms is None:
            delay_ms = -1
        if isinstance(delay_ms, bool) or not isinstance(delay_ms, int) or delay_ms > MAX_DELAY_MS:
            raise InvalidMessage("delay_ms must be an integer of at most %d (366 days)"
                                 % MAX_DELAY_MS)
        _uint(code, "code", 0, MAX_CODE)
        if not isinstance(reason, str):
            raise InvalidMessage("reason must be text")
        frame = {"cmd": "NACK", "tag": tag, "delay_ms": max(-1, delay_ms),
                 "terminal": bool(terminal), "code": code,
                 "reason": _cut_utf8(reason.replace("\0", " "), MAX_REASON)}
        if defer and not terminal:
            frame["defer"] = True
        with self._lock:
            self._usable()
            return self._send(frame, HEARTBEAT_S)

    def credit(self, group, credit):
        """Widens this member's window in group by credit (up to
        1,000,000 in all). Kept for the re-joins after a broker restart."""
        _group(group)
        _uint(credit, "credit", 1, MAX_CREDIT)
        with self._lock:
            self._usable()
            sent = self._send({"cmd": "CREDIT", "group": group, "credit": credit}, HEARTBEAT_S)
            if sent and group in self._joins:
                join = self._joins[group]
                join["credit"] = min(MAX_CREDIT, join["credit"] + credit)
            return sent

    def leave(self, group):
        """Stops being a member of group: what is in flight goes back to the
        group at once (tags of it become stale), and so do the deliveries
        not handed out yet."""
        _group(group)
        with self._lock:
            self._usable()
            self._joins.pop(group, None)
            self._inbox = collections.deque(f for f in self._inbox if f.get("group") != group)
            return self._send({"cmd": "LEAVE", "group": group}, HEARTBEAT_S)

    # -- the rest ---------------------------------------------------------

    def ping(self, timeout=5.0):
        """Round trip PING / PONG; returns the groups the broker knows this
        client in. The PONG is a barrier: every ACK and NACK sent before
        it is stored. NotConfirmed when no PONG came in time."""
        with self._lock:
            self._usable()
            deadline = time.monotonic() + timeout
            if not self._send({"cmd": "PING"}, timeout):
                raise NotConfirmed("PING: the broker is not reachable")
            pong = self._pump(deadline, lambda f: f.get("cmd") == "PONG")
            if pong is None:
                raise NotConfirmed("PING: no PONG within %.1fs" % timeout)
            self._on_pong(pong)
            return list(pong.get("topics") or [])

    def stats(self, timeout=5.0):
        """The broker's figures (PROTOCOL.md 5.11) as a dict."""
        with self._lock:
            self._usable()
            reply = self._request({"cmd": "STATS"}, "STATS_REPLY", timeout, timeout)
            return msgpack.unpackb(reply["msg"], raw=False, strict_map_key=False)

    def close(self, timeout=1.0):
        """Leaves every group, waits up to timeout for the PONG that proves
        the ACKs and NACKs sent are stored, and closes. Idempotent."""
        if self._closed:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            groups = list(self._joins)
            self._joins.clear()     # a PONG read below must not join them again
            try:
                if self._hello_sent:
                    for group in groups:
                        self._send({"cmd": "LEAVE", "group": group}, 0)
                    if self._send({"cmd": "PING"}, 0):
                        self._pump(time.monotonic() + timeout, lambda f: f.get("cmd") == "PONG")
            finally:
                self._closed = True
                self._sock.close(LINGER_MS)
                self._ctx.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def joined(self):
        """The groups this client joined (and re-joins after a restart)."""
        return list(self._joins)

    def pending(self):
        """How many deliveries have arrived and wait for receive()."""
        return len(self._inbox)


__all__ = ["Client", "Delivery", "PubAck", "PROTO_VERSION", "DEFAULT_ENDPOINT", "HEARTBEAT_S"]
