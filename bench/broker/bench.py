"""bench/broker: zhub-broker side by side with NATS JetStream and Redis
Streams on this machine. Run through ./run (it builds what is needed).

For each system: PUBLISHERS connections publish MESSAGES messages of SIZE
bytes with confirmation, each keeping WINDOW unconfirmed at most, and we
time every publish to its confirmation (p50/p99); then CONSUMERS
connections consume them all with one ack per message (each asking for
CREDIT at a time). Every server listens on 127.0.0.1 only and is stopped
at the end. Finally zhub-broker's restart-to-ready time with RESTART
messages in its log.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("port %d did not open" % port)


def rss(pid):
    """(resident, of which anonymous) in MiB. zhub-broker maps its LMDB
    file: pages of it that were touched count as resident (file-backed,
    the kernel's page cache), so the anonymous part is the process's own
    memory."""
    cur = anon = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1]) / 1024
    return cur, anon


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] / 1000.0


class Servers:
    def __init__(self):
        self.procs = []

    def start(self, argv, log, env=None):
        proc = subprocess.Popen(argv, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env)
        self.procs.append(proc)
        return proc

    def stop(self, proc, timeout=30):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self):
        for proc in reversed(self.procs):
            self.stop(proc)


def node_clients(script, url, args, tmp):
    """Runs PUBLISHERS pub processes, then CONSUMERS sub processes, all
    starting at the same instant; returns the two result dicts."""
    count = args.messages // args.publishers
    start_at = int(time.time() * 1000) + 1500
    procs, outs = [], []
    for i in range(args.publishers):
        out = os.path.join(tmp, "%s-pub-%d.json" % (script, i))
        outs.append(out)
        procs.append(subprocess.Popen(["node", os.path.join(HERE, script), "pub", url, str(count),
                                       str(args.size), str(args.window), str(start_at), out]))
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError("%s publisher failed" % script)
    results = [json.load(open(o)) for o in outs]
    lat = [v for r in results for v in r["lat"]]
    seconds = (max(r["end"] for r in results) - start_at) / 1000.0
    pub = {"messages": len(lat), "seconds": seconds, "rate": len(lat) / seconds,
           "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99),
           "errors": sum(r["errors"] for r in results)}
    start_at = int(time.time() * 1000) + 1500
    procs, outs = [], []
    for i in range(args.consumers):
        out = os.path.join(tmp, "%s-sub-%d.json" % (script, i))
        outs.append(out)
        procs.append(subprocess.Popen(["node", os.path.join(HERE, script), "sub", url,
                                       str(args.credit), str(start_at), out, "c%d" % i]))
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError("%s consumer failed" % script)
    results = [json.load(open(o)) for o in outs]
    got = sum(r["count"] for r in results)
    seconds = (max(r["end"] for r in results) - start_at) / 1000.0
    sub = {"messages": got, "seconds": seconds, "rate": got / seconds}
    return pub, sub


def zhub_keys(args, tmp, env):
    """CURVE: the broker's key pair and one admin key for the bench's
    clients (and `zhub status`), made with `zhub keys`."""
    zhub = os.path.join(os.path.dirname(os.path.dirname(args.broker)), "cli", "zhub")
    secrets = os.path.join(tmp, "secrets")
    for argv in (["keys", "new", "--broker", "--out", secrets],
                 ["keys", "new", "bench", "--admin", "--out", secrets]):
        subprocess.run([zhub] + argv, env=env, check=True, capture_output=True)
    return {"ZHUB_BUS_SECURITY": "curve",
            "ZHUB_BROKER_CERT": os.path.join(secrets, "broker.key_secret"),
            "ZHUB_BUS_CERT": os.path.join(secrets, "bench.key_secret"),
            "ZHUB_BROKER_PUBLIC_KEY": os.path.join(secrets, "broker.key")}


def run_zhub(args, servers, tmp, rows, security="plain"):
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="zhub-%s-" % security, dir=tmp)
    data = os.path.join(tmp, "zhub-data")
    env = dict(os.environ, ZHUB_DATA_DIR=data, ZHUB_BROKER="tcp://127.0.0.1:%d" % port,
               ZHUB_BROKER_TAP="off", ZHUB_LOG_LEVEL="info", ZHUB_BUS_SECURITY="plain")
    env.pop("ZHUB_BROKER_RETENTION", None)
    if security == "curve":
        env.update(zhub_keys(args, tmp, env))
    log = os.path.join(tmp, "zhub-broker.log")
    broker = servers.start([args.broker], log, env)
    wait_port(port)
    endpoint = "tcp://127.0.0.1:%d" % port

    def bench(*argv):
        out = subprocess.run([args.zhub_bench] + list(argv), capture_output=True, text=True,
                             env=env)
        if out.returncode != 0:
            raise RuntimeError("zhub_bench %s failed: %s" % (argv[0], out.stderr))
        return json.loads(out.stdout)
    pub = bench("pub", endpoint, str(args.publishers), str(args.messages), str(args.size),
                str(args.window), str(args.subjects))
    sub = bench("sub", endpoint, str(args.consumers), str(pub["messages"]), str(args.credit), "0")
    cur, peak = rss(broker.pid)
    rows.append(("zhub-broker (%s)" % security,
                 "LMDB, fsync'd group commit before every PUBACK and for acks; "
                 "dedup by id; per-subject ordering over %d subjects per publisher; C client "
                 "(DEALER); bus %s" % (args.subjects, security), pub, sub, cur, peak))

    restart = None
    if args.restart_messages:
        have = pub["messages"]
        while have < args.restart_messages:
            chunk = min(400000, args.restart_messages - have)
            bench("pub", endpoint, str(args.publishers), str(chunk), str(args.size),
                  str(args.window), str(args.subjects))
            have += chunk
        servers.stop(broker)
        size = os.path.getsize(os.path.join(data, "broker", "data.mdb"))
        t0 = time.monotonic()
        broker = servers.start([args.broker], log + ".2", env)
        ready = None
        while ready is None and time.monotonic() - t0 < 60:
            if b"event=ready" in open(log + ".2", "rb").read():
                ready = time.monotonic() - t0
            else:
                time.sleep(0.002)
        # and answering: a STATS round trip through the CLI
        zhub = os.path.join(os.path.dirname(os.path.dirname(args.broker)), "cli", "zhub")
        out = subprocess.run([zhub, "status", "--json"], env=env, capture_output=True, text=True)
        answered = time.monotonic() - t0
        stats = json.loads(out.stdout)
        if ready is None:
            raise RuntimeError("the broker did not log event=ready within 60 s")
        restart = {"messages": stats["log"]["size"], "ready_s": ready, "answered_s": answered,
                   "file_gib": size / 2 ** 30, "rss_after_mib": rss(broker.pid)[0]}
    servers.stop(broker)
    return restart


def run_nats(args, servers, tmp, rows):
    port = free_port()
    store = os.path.join(tmp, "nats")
    proc = servers.start(["nats-server", "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", store],
                         os.path.join(tmp, "nats.log"))
    wait_port(port)
    url = "nats://127.0.0.1:%d" % port
    subprocess.run(["node", os.path.join(HERE, "nats_bench.js"), "setup", url], check=True)
    pub, sub = node_clients("nats_bench.js", url, args, tmp)
    cur, peak = rss(proc.pid)
    version = subprocess.run(["nats-server", "--version"], capture_output=True,
                             text=True).stdout.strip()
    rows.append(("NATS JetStream", "%s, file storage, 1 replica, msg-id dedup; fsync: the "
                 "server's default (periodic, not per message); Node.js nats client" % version,
                 pub, sub, cur, peak))
    servers.stop(proc)


def run_redis(args, servers, tmp, rows, fsync):
    port = free_port()
    store = os.path.join(tmp, "redis-" + fsync)
    os.makedirs(store)
    proc = servers.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                          "--protected-mode", "yes", "--dir", store, "--appendonly", "yes",
                          "--appendfsync", fsync, "--save", ""], os.path.join(tmp, "redis.log"))
    wait_port(port)
    url = "redis://127.0.0.1:%d" % port
    subprocess.run(["node", os.path.join(HERE, "redis_bench.js"), "setup", url], check=True)
    pub, sub = node_clients("redis_bench.js", url, args, tmp)
    cur, peak = rss(proc.pid)
    version = subprocess.run(["redis-server", "--version"], capture_output=True,
                             text=True).stdout.split()[2]
    rows.append(("Redis Streams (%s)" % fsync, "%s, appendonly yes, appendfsync %s, RDB off; "
                 "XADD / XREADGROUP / XACK per message; Node.js redis client" % (version, fsync),
                 pub, sub, cur, peak))
    servers.stop(proc)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--zhub-bench", required=True)
    parser.add_argument("--messages", type=int, default=200000)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--consumers", type=int, default=4)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--credit", type=int, default=256)
    parser.add_argument("--subjects", type=int, default=10000,
                        help="zhub: ordering keys per publisher (a subject's messages are "
                             "delivered one at a time; NATS and Redis do not order)")
    parser.add_argument("--restart-messages", type=int, default=1000000)
    parser.add_argument("--only", default="zhub,nats,redis-always,redis-everysec")
    parser.add_argument("--zhub-security", default="plain,curve",
                        help="zhub: run once per bus security, in this order (CURVE's cost "
                             "is the difference; ADR 0008)")
    args = parser.parse_args()
    only = args.only.split(",")
    tmp = tempfile.mkdtemp(prefix="zhub-bench-")
    servers = Servers()
    rows, restart = [], None
    try:
        if "zhub" in only:
            for security in args.zhub_security.split(","):
                restart = run_zhub(args, servers, tmp, rows, security) or restart
        if "nats" in only:
            run_nats(args, servers, tmp, rows)
        for fsync in ("always", "everysec"):
            if "redis-" + fsync in only:
                run_redis(args, servers, tmp, rows, fsync)
    finally:
        servers.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print("%d messages of %d bytes; %d publishers (window %d unconfirmed each), %d consumers "
          "(credit %d each, one ack per message); %d cores"
          % (args.messages, args.size, args.publishers, args.window, args.consumers, args.credit,
             os.cpu_count()))
    print()
    print("| system | publish msg/s | p50 ms | p99 ms | consume msg/s | RSS MiB (anon) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, _, pub, sub, cur, peak in rows:
        print("| %s | %.0f | %.2f | %.2f | %.0f | %.0f (%.0f) |"
              % (name, pub["rate"], pub["p50_ms"], pub["p99_ms"], sub["rate"], cur, peak))
    print()
    for name, settings, pub, sub, _, _ in rows:
        print("- %s: %s. publish %d in %.2fs (errors %d), consume %d in %.2fs"
              % (name, settings, pub["messages"], pub["seconds"], pub.get("errors", 0),
                 sub["messages"], sub["seconds"]))
    print()
    print("load average while it ran: %s" % open("/proc/loadavg").read().split()[:3])
    if restart:
        print()
        print("zhub-broker restart with %d messages in the log (%.2f GiB file): event=ready after "
              "%.3fs, first STATS answered after %.3fs (includes starting the CLI); RSS after "
              "start %.0f MiB" % (restart["messages"], restart["file_gib"], restart["ready_s"],
                                  restart["answered_s"], restart["rss_after_mib"]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
