"""A tiny client for the zhub bus protocol (proto/PROTOCOL.md), written
from the spec with python3-zmq and python3-msgpack only (Debian's
packages): proof that the protocol can be spoken from another language,
and the tests' way in. Any Python service can use it to publish with
confirmation and to consume with acks:

    from zhub_bus import Bus, envelope
    bus = Bus("tcp://127.0.0.1:7450", "my-service")
    reply = bus.publish(envelope("id-1", "contact.synced", subject="contact:1"))
    assert reply["cmd"] == "PUBACK"       # committed to disk; else ERROR
    bus.join("my-group", ["contact.>"], credit=8)
    d = bus.recv(5.0)          # {"cmd": "DELIVER", "tag": ..., "message": {...}} or None
    bus.ack(d["tag"])          # or bus.nack(d["tag"], delay_ms=30000, code=503, reason="...")
    bus.ping()                 # PONG: every ACK sent before it is stored
    bus.close()

    tap = Tap("tcp://127.0.0.1:7451", "contact.>")   # best-effort mirror
    m = tap.recv(1.0)          # {"offset": ..., "topic": ..., "message": {...}} or None

With CURVE (PROTOCOL.md 16) a client presents its key pair and checks the
broker's: Bus(endpoint, name, curve=Curve.load(secret_cert, broker_key)),
and the same for Tap. A replica of a consumer that must receive broadcast
topics (PROTOCOL.md 7.8) names itself: Bus(..., instance="host-a").

Operators' commands: bus.stats(), bus.group_set(group, max_deliveries=...,
ack_deadline_ms=..., backoff_ms=[...], max_in_flight=...) and
bus.group_reset(group, offset=N | time_ms=T).

Every frame is one ZeroMQ message holding one msgpack map with a "cmd".
Publishing reliably: on a timeout or ERROR 503, publish again with the same
envelope id (the broker's dedup makes it safe).
"""
import collections
import os
import time

import msgpack
import zmq

PROTO_VERSION = 1


def envelope(id, type, subject=None, data=None, source="pytest", time_ms=None,
             traceparent=None):
    """A CloudEvents-style envelope as a dict (time is unix ms)."""
    msg = {"specversion": "1.0", "id": id, "source": source, "type": type,
           "time": int(time.time() * 1000) if time_ms is None else time_ms,
           "data": {} if data is None else data}
    if subject is not None:
        msg["subject"] = subject
    if traceparent is not None:
        msg["traceparent"] = traceparent
    return msg


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def unpack(data):
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


class BusError(Exception):
    pass


def read_cert(path):
    """{"public": ..., "secret": ... (absent in a public file), metadata...}
    from a czmq certificate file (zcert's ZPL text)."""
    found = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if "=" not in line or line.startswith("#"):
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            value = value.strip('"')
            found[{"public-key": "public", "secret-key": "secret"}.get(key, key)] = value
    return found


class Curve:
    """A client's CURVE settings: its key pair and the broker's public key
    (all Z85 text)."""

    def __init__(self, public, secret, server):
        self.public, self.secret, self.server = public, secret, server

    @classmethod
    def load(cls, secret_cert, broker_key):
        """From the client's secret certificate file and the broker's public
        key (Z85) or certificate file."""
        mine = read_cert(secret_cert)
        server = broker_key if len(broker_key) == 40 and not os.path.exists(broker_key) \
            else read_cert(broker_key)["public"]
        return cls(mine["public"], mine["secret"], server)

    def apply(self, sock):
        sock.curve_serverkey = self.server.encode()
        sock.curve_publickey = self.public.encode()
        sock.curve_secretkey = self.secret.encode()


class Bus:
    def __init__(self, endpoint, name="pytest", hello=True, curve=None, instance=None,
                 routing_id=None):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        if curve is not None:
            curve.apply(self.sock)
        self.routing_id = routing_id or "%s-%d-%s" % (name, os.getpid(), os.urandom(8).hex())
        self.sock.setsockopt(zmq.ROUTING_ID, self.routing_id.encode())
        self.sock.setsockopt(zmq.IMMEDIATE, 1)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.MAXMSGSIZE, 4 * 1024 * 1024)
        self.sock.connect(endpoint)
        self.seq = 0
        self.inbox = collections.deque()   # frames nobody asked for yet
        if hello:
            frame = {"cmd": "HELLO", "v": PROTO_VERSION, "name": name}
            if instance is not None:
                frame["instance"] = instance
            self.send(frame)
            self.welcome = self.expect(lambda f: f["cmd"] in ("WELCOME", "ERROR"), 5.0)

    # -- plumbing ---------------------------------------------------------
    def close(self):
        self.sock.close(linger=0)
        self.ctx.term()

    def send(self, frame, timeout=5.0):
        self.send_raw(pack(frame), timeout)

    def send_raw(self, data, timeout=5.0):
        if not self.sock.poll(int(timeout * 1000), zmq.POLLOUT):
            raise BusError("broker not reachable")
        self.sock.send(data)

    def next_seq(self):
        self.seq += 1
        return self.seq

    def _read(self, timeout):
        if not self.sock.poll(max(0, int(timeout * 1000)), zmq.POLLIN):
            return None
        return unpack(self.sock.recv())

    def expect(self, match, timeout=5.0):
        """The first frame (queued or arriving) for which match(frame) is
        true; other frames are kept in the inbox. None on timeout."""
        for frame in list(self.inbox):
            if match(frame):
                self.inbox.remove(frame)
                return frame
        deadline = time.monotonic() + timeout
        while True:
            frame = self._read(deadline - time.monotonic())
            if frame is None:
                return None
            if match(frame):
                return frame
            self.inbox.append(frame)

    def answer(self, seq, cmd, timeout=5.0):
        frame = self.expect(lambda f: f.get("seq") == seq and f["cmd"] in (cmd, "ERROR"), timeout)
        if frame is None:
            raise BusError("no %s for seq %d in %.1fs" % (cmd, seq, timeout))
        return frame

    # -- commands ---------------------------------------------------------
    def publish(self, msg, timeout=5.0):
        """Publishes an envelope (dict) or raw envelope bytes; returns the
        PUBACK or ERROR frame."""
        seq = self.next_seq()
        body = msg if isinstance(msg, (bytes, bytearray)) else pack(msg)
        self.send({"cmd": "PUBLISH", "seq": seq, "msg": bytes(body)})
        return self.answer(seq, "PUBACK", timeout)

    def publish_many(self, msgs, timeout=5.0):
        seqs = []
        for msg in msgs:
            seq = self.next_seq()
            seqs.append(seq)
            self.send({"cmd": "PUBLISH", "seq": seq, "msg": pack(msg)})
        return [self.answer(seq, "PUBACK", timeout) for seq in seqs]

    def join(self, group, topics, credit=1, max_deliveries=0, ack_deadline_ms=0,
             backoff_ms=(), start=None, timeout=5.0):
        seq = self.next_seq()
        frame = {"cmd": "JOIN", "seq": seq, "group": group, "topics": list(topics),
                 "credit": credit, "max_deliveries": max_deliveries,
                 "ack_deadline_ms": ack_deadline_ms, "backoff_ms": list(backoff_ms)}
        if start:
            frame["start"] = start
        self.send(frame)
        return self.answer(seq, "JOINED", timeout)

    def recv(self, timeout=5.0):
        """The next DELIVER with its envelope decoded under "message", or
        None. Sends PING every second while waiting, like a real client."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            frame = self.expect(lambda f: f["cmd"] == "DELIVER", min(remaining, 1.0))
            if frame is not None:
                frame["message"] = unpack(frame["msg"])
                return frame
            self.send({"cmd": "PING"})

    def ack(self, tag):
        self.send({"cmd": "ACK", "tag": tag})

    def nack(self, tag, delay_ms=-1, terminal=False, code=0, reason="", defer=False):
        frame = {"cmd": "NACK", "tag": tag, "delay_ms": delay_ms, "terminal": terminal,
                 "code": code, "reason": reason}
        if defer:
            frame["defer"] = True
        self.send(frame)

    def credit(self, group, credit):
        self.send({"cmd": "CREDIT", "group": group, "credit": credit})

    def leave(self, group):
        self.send({"cmd": "LEAVE", "group": group})

    def ping(self, timeout=5.0):
        self.send({"cmd": "PING"})
        return self.expect(lambda f: f["cmd"] == "PONG", timeout)

    def error(self, timeout=5.0, code=None):
        """The next ERROR frame (optionally with this code), or None."""
        return self.expect(lambda f: f["cmd"] == "ERROR" and (code is None or f["code"] == code),
                           timeout)

    def group_set(self, group, max_deliveries=0, ack_deadline_ms=0, backoff_ms=(),
                  max_in_flight=0, timeout=5.0):
        """GROUP_SET: change a group's settings (0 / empty = keep). Returns
        the GROUP_OK or ERROR frame."""
        seq = self.next_seq()
        self.send({"cmd": "GROUP_SET", "seq": seq, "group": group,
                   "max_deliveries": max_deliveries, "ack_deadline_ms": ack_deadline_ms,
                   "backoff_ms": list(backoff_ms), "max_in_flight": max_in_flight})
        return self.answer(seq, "GROUP_OK", timeout)

    def group_reset(self, group, offset=0, time_ms=0, timeout=5.0):
        """GROUP_RESET: move a group to an offset (or, offset 0, to the first
        message stored at or after time_ms). GROUP_OK carries the new floor
        as "offset"."""
        seq = self.next_seq()
        self.send({"cmd": "GROUP_RESET", "seq": seq, "group": group, "offset": offset,
                   "time_ms": time_ms})
        return self.answer(seq, "GROUP_OK", timeout)

    def stats(self, timeout=5.0):
        seq = self.next_seq()
        self.send({"cmd": "STATS", "seq": seq})
        reply = self.answer(seq, "STATS_REPLY", timeout)
        if reply["cmd"] != "STATS_REPLY":
            raise BusError("stats refused: %r" % reply)
        return unpack(reply["msg"])


class Tap:
    """The broker's tap: a SUB socket on $ZHUB_BROKER_TAP that gets every
    committed message whose topic starts with prefix (best effort: a slow
    reader loses messages, nothing is redelivered). pattern filters further
    with the protocol's * and > wildcards."""

    def __init__(self, endpoint, pattern=">", curve=None):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.SUB)
        if curve is not None:
            curve.apply(self.sock)
        self.pattern = pattern
        prefix = pattern.split("*")[0].split(">")[0]
        self.sock.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        self.sock.connect(endpoint)

    def recv(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.sock.poll(int(remaining * 1000), zmq.POLLIN):
                return None
            topic, body = self.sock.recv_multipart()
            topic = topic.decode()
            if not topic_match(self.pattern, topic):
                continue
            frame = unpack(body)
            return {"offset": frame["offset"], "topic": topic, "message": unpack(frame["msg"])}

    def close(self):
        self.sock.close(linger=0)
        self.ctx.term()


def topic_match(pattern, topic):
    """PROTOCOL.md 4.3: * matches one token, > (last) one or more."""
    p, t = pattern.split("."), topic.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(t) > i
        if i >= len(t) or (token != "*" and token != t[i]):
            return False
    return len(p) == len(t)
