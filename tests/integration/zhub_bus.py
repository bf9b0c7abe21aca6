"""A tiny client for the zhub bus protocol (proto/PROTOCOL.md), written
from the spec with python3-zmq and python3-msgpack only: proof that the
protocol can be spoken from another language, and the tests' way in.

    bus = Bus(endpoint, "pytest")
    reply = bus.publish(envelope("id-1", "contact.synced", subject="contact:1"))
    bus.join("g", ["contact.>"], credit=1)
    d = bus.recv(5.0)          # {"cmd": "DELIVER", "tag": ..., "message": {...}}
    bus.ack(d["tag"])

Every frame is one ZeroMQ message holding one msgpack map with a "cmd".
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


class Bus:
    def __init__(self, endpoint, name="pytest", hello=True):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.routing_id = "%s-%d-%s" % (name, os.getpid(), os.urandom(4).hex())
        self.sock.setsockopt(zmq.ROUTING_ID, self.routing_id.encode())
        self.sock.setsockopt(zmq.IMMEDIATE, 1)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.MAXMSGSIZE, 4 * 1024 * 1024)
        self.sock.connect(endpoint)
        self.seq = 0
        self.inbox = collections.deque()   # frames nobody asked for yet
        if hello:
            self.send({"cmd": "HELLO", "v": PROTO_VERSION, "name": name})
            self.expect(lambda f: f["cmd"] in ("WELCOME", "ERROR"), 5.0)

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

    def nack(self, tag, delay_ms=-1, terminal=False, code=0, reason=""):
        self.send({"cmd": "NACK", "tag": tag, "delay_ms": delay_ms, "terminal": terminal,
                   "code": code, "reason": reason})

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

    def stats(self, timeout=5.0):
        seq = self.next_seq()
        self.send({"cmd": "STATS", "seq": seq})
        reply = self.answer(seq, "STATS_REPLY", timeout)
        if reply["cmd"] != "STATS_REPLY":
            raise BusError("stats refused: %r" % reply)
        return unpack(reply["msg"])
