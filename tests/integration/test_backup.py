"""`zhub backup` and `zhub restore` against running processes: a copy taken
while publishes flow holds every message the broker acknowledged before the
backup started, a fresh broker started on the restored folder delivers each
of them once, and restore refuses a folder that holds anything and leaves
nothing behind when the backup is damaged."""
import os
import subprocess
import tarfile
import threading

from harness import BINARIES, Hub, wait_until
from peer_http import bus_messages
from zhub_bus import Bus


def zhub(hub, *args, env=None, **kw):
    full = dict(hub.env)
    full.update(env or {})
    kw.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([BINARIES["zhub"]] + list(args), env=full, stderr=subprocess.PIPE,
                          timeout=120, **kw)


class Load:
    """Publishes load.<n> messages with confirm in batches until stopped;
    keeps the ids the broker acknowledged, in order."""

    def __init__(self, hub):
        self.bus = Bus(hub.env["ZHUB_BROKER"], "pytest-load")
        self.acked = []
        self.published = set()
        self.stop = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        n = 0
        try:
            while not self.stop.is_set():
                batch = []
                for _ in range(20):
                    n += 1
                    batch.append({"specversion": "1.0", "id": "load-%d" % n, "source": "pytest",
                                  "type": "load.tick", "subject": "s:%d" % (n % 7),
                                  "time": 1700000000000 + n, "data": {"n": n}})
                self.published.update(m["id"] for m in batch)
                for msg, reply in zip(batch, self.bus.publish_many(batch)):
                    assert reply["cmd"] == "PUBACK", reply
                    self.acked.append(msg["id"])
        except Exception as exc:  # noqa: BLE001 - reported by finish()
            self.error = exc

    def finish(self):
        self.stop.set()
        self.thread.join(30)
        self.bus.close()
        assert self.error is None, self.error


def test_backup_under_load_restores_every_acknowledged_message_once(hub, tmp_path):
    hub.start("broker")
    hub.start("gateway")
    hub.start("dead-letter")
    load = Load(hub)
    try:
        wait_until(lambda: len(load.acked) >= 300, timeout=60, what="300 acknowledged publishes")
        acknowledged_before = list(load.acked)
        backup = os.path.join(str(tmp_path), "nightly.tar")
        out = zhub(hub, "backup", backup)
        assert out.returncode == 0, out.stderr.decode()
        count_at_end = len(load.acked)
        wait_until(lambda: len(load.acked) >= count_at_end + 100, timeout=60,
                   what="publishes after the backup")
    finally:
        load.finish()

    # a plain ustar archive: every environment that ran, and the manifest last
    with tarfile.open(backup) as archive:
        names = archive.getnames()
    assert names[-1] == "zhub-backup.json"
    for process in ("broker", "gateway", "dead-letter"):
        assert "%s/data.mdb" % process in names, names
    # the spool first, then the broker (backup.h says why)
    assert names.index("gateway/data.mdb") < names.index("broker/data.mdb")

    second = Hub(os.path.join(str(tmp_path), "restored"))
    try:
        out = zhub(second, "restore", backup, "--process", "broker", "--json")
        assert out.returncode == 0, out.stderr.decode()
        assert os.path.exists(os.path.join(second.data_dir, "broker", "data.mdb"))
        assert not os.path.exists(os.path.join(second.data_dir, "gateway"))
        second.start("broker")
        ids = [m["id"] for m in bus_messages(second, "load.>", quiet=2.0, timeout=120)]
    finally:
        second.stop_all()
    assert len(ids) == len(set(ids)), "a message delivered twice"
    missing = set(acknowledged_before) - set(ids)
    assert not missing, "%d acknowledged messages not in the copy, e.g. %s" % (
        len(missing), sorted(missing)[:3])
    # nothing in the copy that was never published, and the copy is a point
    # in time: it ends before what was published after the backup
    assert set(ids) <= load.published
    assert len(ids) < len(load.acked)


def test_restore_refuses_a_folder_that_holds_anything(hub, tmp_path):
    hub.start("broker")
    Bus(hub.env["ZHUB_BROKER"], "pytest").publish(
        {"specversion": "1.0", "id": "one", "source": "pytest", "type": "t.one",
         "time": 1700000000000, "data": {}})
    backup = os.path.join(str(tmp_path), "copy")
    out = zhub(hub, "backup", backup)
    assert out.returncode == 0, out.stderr.decode()
    assert sorted(os.listdir(backup)) == ["broker", "zhub-backup.json"]
    # the live data dir itself: refused, and untouched
    before = sorted(os.listdir(os.path.join(hub.data_dir, "broker")))
    out = zhub(hub, "restore", backup)
    assert out.returncode == 1
    assert b"is not empty" in out.stderr
    assert sorted(os.listdir(os.path.join(hub.data_dir, "broker"))) == before
    # an empty folder with empty subfolders (a container's mount points) is fine
    target = os.path.join(str(tmp_path), "fresh")
    os.makedirs(os.path.join(target, "broker"))
    out = zhub(hub, "restore", backup, "--data-dir", target)
    assert out.returncode == 0, out.stderr.decode()
    # a DEST that exists is never overwritten
    out = zhub(hub, "backup", backup)
    assert out.returncode == 1 and b"exists" in out.stderr


def test_a_damaged_backup_restores_nothing(hub, tmp_path):
    hub.start("broker")
    bus = Bus(hub.env["ZHUB_BROKER"], "pytest")
    bus.publish_many([{"specversion": "1.0", "id": "m%d" % n, "source": "pytest",
                       "type": "t.many", "time": 1700000000000, "data": {"pad": "x" * 900}}
                      for n in range(200)])
    bus.close()
    whole = os.path.join(str(tmp_path), "whole.tar")
    out = zhub(hub, "backup", "-", stdout=open(whole, "wb"))
    assert out.returncode == 0, out.stderr.decode()
    data = open(whole, "rb").read()
    cut = os.path.join(str(tmp_path), "cut.tar")
    with open(cut, "wb") as f:
        f.write(data[:len(data) // 2])
    target = os.path.join(str(tmp_path), "target")
    out = zhub(hub, "restore", cut, "--data-dir", target)
    assert out.returncode == 1
    assert b"nothing restored" in out.stderr
    assert not os.path.exists(target)
    # the whole one, from stdin
    out = zhub(hub, "restore", "-", "--data-dir", target, stdin=open(whole, "rb"))
    assert out.returncode == 0, out.stderr.decode()
    assert os.path.exists(os.path.join(target, "broker", "data.mdb"))
