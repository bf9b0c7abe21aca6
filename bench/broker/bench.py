"""bench/broker: zhub-broker side by side with NATS JetStream and Redis
Streams on this machine. Run through ./run (it builds what is needed).

Every system is driven by a C load client doing the same thing
(zhub_bench.c, nats_bench.c, redis_bench.c, sharing bench_util.c):
PUBLISHERS connections publish MESSAGES messages of SIZE bytes with
confirmation, each keeping at most WINDOW unconfirmed, every publish timed
to its confirmation (p50/p99); then CONSUMERS connections consume them all
with one ack per message, each holding at most CREDIT unacked, until the
server has confirmed every ack. The systems run one after the other, each
on a fresh server, and the whole sequence is repeated ROUNDS times, so
that a disturbance on the machine hits them alike; the table shows each
row's median. Every server listens on 127.0.0.1 only and is stopped at the
end. Finally zhub-broker's restart-to-ready time with RESTART messages in
its log.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# What a confirmation promises, per system (see README.md for the sources).
# "level" orders them: 2 = flushed to the disk (fsync) before the confirm,
# survives power loss; 1 = handed to the kernel before the confirm (write),
# survives the server process dying but not the machine; 0 = less.
DURABILITY = {
    "zhub": (2, "LMDB commit with fdatasync before PUBACK (and before an ACK counts)"),
    "zhub-curve": (2, "as zhub-broker; the bus with CURVE (every frame encrypted, a key per "
                      "client): what CURVE costs is the difference (ADR 0009)"),
    "nats": (1, "write(2) to the stream file before the PubAck; fsync only every 2 min "
                "(hard-coded in 2.9; `sync_interval`/`always` exist from 2.10.0)"),
    "redis-always": (2, "AOF write + fdatasync before the reply (appendfsync always)"),
    "redis-everysec": (0, "in memory at the reply; AOF write(2) usually before it, up to "
                          "2 s later while an fsync is slow; fsync once a second"),
}


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


def cpu_seconds(pid):
    """User + system CPU seconds the process (all its threads) has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(server, load):
    """Runs load() (publish then consume); returns its (pub, sub) and the
    CPU seconds the server and the load clients used meanwhile: on a small
    shared machine the servers and clients compete for the same cores, so
    the CPU each needs per message says more than a rate alone."""
    server0, clients0 = cpu_seconds(server.pid), children_cpu_seconds()
    pub, sub = load()
    cpu = {"server_s": cpu_seconds(server.pid) - server0,
           "client_s": children_cpu_seconds() - clients0}
    return pub, sub, cpu


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


def c_client(binary, *argv, env=None):
    """Runs one of the C load clients; returns its JSON line (None for
    setup, which prints nothing)."""
    out = subprocess.run([binary] + [str(a) for a in argv], capture_output=True, text=True,
                         env=env)
    if out.returncode != 0:
        raise RuntimeError("%s %s failed (%d): %s%s" % (os.path.basename(binary), argv[0],
                                                       out.returncode, out.stderr, out.stdout))
    return json.loads(out.stdout) if out.stdout.strip() else None


def c_load(binary, endpoint, args, pub_extra=(), env=None):
    pub = c_client(binary, "pub", endpoint, args.publishers, args.messages, args.size,
                   args.window, *pub_extra, env=env)
    sub = c_client(binary, "sub", endpoint, args.consumers, pub["messages"], args.credit,
                   env=env)
    return pub, sub


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


def zhub_env(data, port):
    env = dict(os.environ, ZHUB_DATA_DIR=data, ZHUB_BROKER="tcp://127.0.0.1:%d" % port,
               ZHUB_BROKER_TAP="off", ZHUB_LOG_LEVEL="info", ZHUB_BUS_SECURITY="plain")
    env.pop("ZHUB_BROKER_RETENTION", None)
    return env


def zhub_curve(args, env, tmp):
    """The broker's key pair and one admin key for the load clients, made
    with `zhub keys`; env then runs everything with CURVE."""
    zhub = os.path.join(os.path.dirname(os.path.dirname(args.broker)), "cli", "zhub")
    secrets = os.path.join(tmp, "secrets")
    for argv in (["keys", "new", "--broker", "--out", secrets],
                 ["keys", "new", "bench", "--admin", "--out", secrets]):
        subprocess.run([zhub] + argv, env=env, check=True, capture_output=True)
    env.update({"ZHUB_BUS_SECURITY": "curve",
                "ZHUB_BROKER_CERT": os.path.join(secrets, "broker.key_secret"),
                "ZHUB_BUS_CERT": os.path.join(secrets, "bench.key_secret"),
                "ZHUB_BROKER_PUBLIC_KEY": os.path.join(secrets, "broker.key")})


def run_zhub(args, servers, tmp, curve=False):
    port = free_port()
    env = zhub_env(os.path.join(tmp, "data"), port)
    if curve:
        zhub_curve(args, env, tmp)
    broker = servers.start([args.broker], os.path.join(tmp, "zhub-broker.log"), env)
    wait_port(port)
    pub, sub, cpu = measured(broker, lambda: c_load(args.zhub_bench, "tcp://127.0.0.1:%d" % port,
                                                    args, (args.subjects,), env))
    mem = rss(broker.pid)
    servers.stop(broker)
    return pub, sub, mem, cpu


def run_zhub_restart(args, servers, tmp):
    """Fills a fresh broker's log to RESTART messages, stops it and times
    the restart until `event=ready` and until it answers STATS."""
    port = free_port()
    data = os.path.join(tmp, "data")
    env = zhub_env(data, port)
    log = os.path.join(tmp, "zhub-broker.log")
    broker = servers.start([args.broker], log, env)
    wait_port(port)
    endpoint = "tcp://127.0.0.1:%d" % port
    have = 0
    while have < args.restart_messages:
        chunk = min(400000, args.restart_messages - have)
        c_client(args.zhub_bench, "pub", endpoint, args.publishers, chunk, args.size,
                 args.window, args.subjects)
        have += chunk
    servers.stop(broker)
    os.sync()
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
    if ready is None:
        raise RuntimeError("the broker did not log event=ready within 60 s")
    stats = json.loads(out.stdout)
    restart = {"messages": stats["log"]["size"], "ready_s": ready, "answered_s": answered,
               "file_gib": size / 2 ** 30, "rss_after_mib": rss(broker.pid)[0]}
    servers.stop(broker)
    return restart


def start_nats(servers, tmp):
    port = free_port()
    # JetStream with file storage; 2.9 has no setting for when it fsyncs
    proc = servers.start(["nats-server", "-a", "127.0.0.1", "-p", str(port), "-js",
                          "-sd", os.path.join(tmp, "nats")], os.path.join(tmp, "nats.log"))
    wait_port(port)
    return proc, "nats://127.0.0.1:%d" % port


def run_nats(args, servers, tmp):
    proc, url = start_nats(servers, tmp)
    c_client(args.nats_bench, "setup", url, args.consumers, args.credit)
    pub, sub, cpu = measured(proc, lambda: c_load(args.nats_bench, url, args))
    mem = rss(proc.pid)
    servers.stop(proc)
    return pub, sub, mem, cpu


def run_nats_node(args, servers, tmp):
    proc, url = start_nats(servers, tmp)
    subprocess.run(["node", os.path.join(HERE, "nats_bench.js"), "setup", url], check=True)
    pub, sub, cpu = measured(proc, lambda: node_clients("nats_bench.js", url, args, tmp))
    mem = rss(proc.pid)
    servers.stop(proc)
    return pub, sub, mem, cpu


def start_redis(servers, tmp, fsync):
    port = free_port()
    store = os.path.join(tmp, "redis")
    os.makedirs(store)
    proc = servers.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                          "--protected-mode", "yes", "--dir", store, "--appendonly", "yes",
                          "--appendfsync", fsync, "--save", ""], os.path.join(tmp, "redis.log"))
    wait_port(port)
    return proc, port


def run_redis(args, servers, tmp, fsync):
    proc, port = start_redis(servers, tmp, fsync)
    endpoint = "127.0.0.1:%d" % port
    c_client(args.redis_bench, "setup", endpoint)
    pub, sub, cpu = measured(proc, lambda: c_load(args.redis_bench, endpoint, args))
    mem = rss(proc.pid)
    servers.stop(proc)
    return pub, sub, mem, cpu


def run_redis_node(args, servers, tmp, fsync):
    proc, port = start_redis(servers, tmp, fsync)
    url = "redis://127.0.0.1:%d" % port
    subprocess.run(["node", os.path.join(HERE, "redis_bench.js"), "setup", url], check=True)
    pub, sub, cpu = measured(proc, lambda: node_clients("redis_bench.js", url, args, tmp))
    mem = rss(proc.pid)
    servers.stop(proc)
    return pub, sub, mem, cpu


def version(argv, pick):
    try:
        return pick(subprocess.run(argv, capture_output=True, text=True).stdout)
    except (OSError, IndexError):
        return "?"


def systems(args, servers):
    """(key, row name, durability key, how it is driven, runner) in the order
    of a round."""
    nats_v = version(["nats-server", "--version"], lambda o: o.split()[-1])
    redis_v = version(["redis-server", "--version"], lambda o: o.split()[2][2:])
    libnats = version(["pkg-config", "--modversion", "libnats"], str.strip)
    hiredis = version(["pkg-config", "--modversion", "hiredis"], str.strip)
    table = [
        ("zhub", "zhub-broker", "zhub",
         "C client (zhub_bench: DEALER frames, zhub_client consumers); dedup by id; per-subject "
         "order over %d subjects per publisher" % args.subjects,
         lambda t: run_zhub(args, servers, t)),
        ("zhub-curve", "zhub-broker, CURVE", "zhub-curve",
         "as above, every connection CURVE with its key (czmq's zauth)",
         lambda t: run_zhub(args, servers, t, curve=True)),
        ("nats", "NATS JetStream %s" % nats_v, "nats",
         "C client libnats %s (js_PublishAsync with Nats-Msg-Id dedup; durable pull consumer, "
         "max_ack_pending %d, fetch %d, natsMsg_Ack each); file storage, 1 replica"
         % (libnats, args.consumers * args.credit, args.credit),
         lambda t: run_nats(args, servers, t)),
        ("redis-always", "Redis %s Streams, always" % redis_v, "redis-always",
         "C client hiredis %s (pipelined XADD; XREADGROUP COUNT %d, XACK each); "
         "appendonly yes, appendfsync always, RDB off; no dedup" % (hiredis, args.credit),
         lambda t: run_redis(args, servers, t, "always")),
        ("redis-everysec", "Redis %s Streams, everysec" % redis_v, "redis-everysec",
         "C client hiredis %s (as above); appendonly yes, appendfsync everysec, RDB off; no dedup"
         % hiredis,
         lambda t: run_redis(args, servers, t, "everysec")),
    ]
    if args.node:
        table += [
            ("nats-node", "NATS JetStream %s (Node client)" % nats_v, "nats",
             "extra: Node.js `nats` client, one process per connection, consume() with "
             "max_messages %d" % args.credit,
             lambda t: run_nats_node(args, servers, t)),
            ("redis-always-node", "Redis %s Streams, always (Node client)" % redis_v,
             "redis-always", "extra: Node.js `redis` client, one process per connection",
             lambda t: run_redis_node(args, servers, t, "always")),
            ("redis-everysec-node", "Redis %s Streams, everysec (Node client)" % redis_v,
             "redis-everysec", "extra: Node.js `redis` client, one process per connection",
             lambda t: run_redis_node(args, servers, t, "everysec")),
        ]
    # a Node row comes with its C row
    return [s for s in table if s[0] in args.only
            or (s[0].endswith("-node") and s[0][:-len("-node")] in args.only)]


def build_info(broker):
    """The zhub build's type, from meson's introspection files."""
    path = os.path.join(os.path.dirname(os.path.dirname(broker)), "meson-info",
                        "intro-buildoptions.json")
    try:
        options = {o["name"]: o["value"] for o in json.load(open(path))}
    except (OSError, ValueError):
        return "unknown build type"
    info = "%s build (-O%s)" % (options.get("buildtype"), options.get("optimization"))
    if options.get("b_sanitize", "none") != "none":
        info += ", SANITIZER %s: not a fair build to measure" % options["b_sanitize"]
    return info


def median(values):
    return statistics.median(values)


def main():
    parser = argparse.ArgumentParser(
        prog="bench/broker/run",
        description="zhub-broker beside NATS JetStream and Redis Streams, every system driven "
                    "by a C client with the same load, alternating, ROUNDS times. Run it "
                    "through bench/broker/run, which builds the clients.")
    parser.add_argument("--broker", required=True, help="the zhub-broker binary (./run passes it)")
    parser.add_argument("--zhub-bench", required=True, help="the zhub_bench binary (./run passes it)")
    parser.add_argument("--nats-bench", required=True, help="the nats_bench binary (./run passes it)")
    parser.add_argument("--redis-bench", required=True, help="the redis_bench binary (./run passes it)")
    parser.add_argument("--messages", type=int, default=200000,
                        help="messages per run (default 200000)")
    parser.add_argument("--publishers", type=int, default=4,
                        help="publishing connections (default 4)")
    parser.add_argument("--consumers", type=int, default=4,
                        help="consuming connections (default 4)")
    parser.add_argument("--size", type=int, default=1024,
                        help="payload bytes per message (default 1024)")
    parser.add_argument("--window", type=int, default=64,
                        help="unconfirmed publishes per connection at most (default 64)")
    parser.add_argument("--credit", type=int, default=256,
                        help="unacked deliveries per consumer at most (default 256)")
    parser.add_argument("--subjects", type=int, default=10000,
                        help="zhub: ordering keys per publisher (a subject's messages are "
                             "delivered one at a time; NATS and Redis do not order)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="how many times the sequence of systems is repeated (default 3)")
    parser.add_argument("--restart-messages", type=int, default=1000000,
                        help="zhub-broker restart test: messages in the log (0: skip; "
                             "default 1000000)")
    parser.add_argument("--only", default="zhub,zhub-curve,nats,redis-always,redis-everysec",
                        help="comma-separated systems (default: "
                             "zhub,zhub-curve,nats,redis-always,redis-everysec)")
    parser.add_argument("--node", action="store_true",
                        help="add JetStream and Redis driven by the Node.js clients, as a "
                             "labelled extra (needs node and npm)")
    args = parser.parse_args()
    args.only = args.only.split(",")
    for name in args.only:
        if name not in DURABILITY:
            parser.error("--only: unknown system %r (known: %s)" % (name, ", ".join(DURABILITY)))
    for name in ("messages", "publishers", "consumers", "size", "window", "credit", "subjects",
                 "rounds"):
        if getattr(args, name) < 1:
            parser.error("--%s must be at least 1" % name)
    if args.messages < max(args.publishers, args.consumers):
        parser.error("--messages must be at least the number of publishers and consumers")

    servers = Servers()
    order = systems(args, servers)
    results = {key: [] for key, *_ in order}
    restart = None
    tmp = tempfile.mkdtemp(prefix="zhub-bench-")
    try:
        for r in range(args.rounds):
            for key, name, *_rest, runner in order:
                run_dir = os.path.join(tmp, "%s-%d" % (key, r))
                os.makedirs(run_dir)
                print("round %d/%d: %s ..." % (r + 1, args.rounds, name), file=sys.stderr,
                      flush=True)
                results[key].append(runner(run_dir))
                shutil.rmtree(run_dir, ignore_errors=True)
                os.sync()  # the next system does not pay for this one's writeback
        if args.restart_messages and "zhub" in args.only:
            run_dir = os.path.join(tmp, "restart")
            os.makedirs(run_dir)
            print("zhub-broker restart with %d messages ..." % args.restart_messages,
                  file=sys.stderr, flush=True)
            restart = run_zhub_restart(args, servers, run_dir)
    finally:
        servers.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, order, results, restart)


def report(args, order, results, restart):
    print()
    print("%d messages of %d bytes per run; %d publishers (window %d unconfirmed each), "
          "%d consumers (credit %d each, one ack per message); %d rounds, systems alternating; "
          "%d cores; zhub-broker: %s"
          % (args.messages, args.size, args.publishers, args.window, args.consumers, args.credit,
             args.rounds, os.cpu_count(), build_info(args.broker)))
    print()
    print("Medians over the rounds. \"confirm\": what a publish confirmation promises "
          "(fsync = flushed to disk, survives power loss; write = in the kernel, survives a "
          "server crash only; memory = neither, for a moment). CPU: what the server process "
          "and the load clients used for publishing and consuming, per message (user + "
          "system; on a machine with few cores they compete for the same ones).")
    print()
    print("| system | confirm | publish msg/s | p50 ms | p99 ms | consume msg/s "
          "| CPU µs/msg server + clients | RSS MiB (anon) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    level_word = {2: "fsync", 1: "write", 0: "memory"}
    summary = {}
    for key, name, dkey, _how, _run in order:
        runs = results[key]
        m = {
            "pub": median([p["rate"] for p, _, _, _ in runs]),
            "p50": median([p["p50_ms"] for p, _, _, _ in runs]),
            "p99": median([p["p99_ms"] for p, _, _, _ in runs]),
            "sub": median([s["rate"] for _, s, _, _ in runs]),
            "rss": median([mem[0] for _, _, mem, _ in runs]),
            "anon": median([mem[1] for _, _, mem, _ in runs]),
            # publish and consume together, per message
            "cpu_server": median([1e6 * c["server_s"] / p["messages"] for p, _, _, c in runs]),
            "cpu_client": median([1e6 * c["client_s"] / p["messages"] for p, _, _, c in runs]),
        }
        summary[key] = m
        print("| %s | %s | %.0f | %.2f | %.2f | %.0f | %.0f + %.0f | %.0f (%.0f) |"
              % (name, level_word[DURABILITY[dkey][0]], m["pub"], m["p50"], m["p99"], m["sub"],
                 m["cpu_server"], m["cpu_client"], m["rss"], m["anon"]))
    print()
    for key, name, dkey, how, _run in order:
        print("- %s: a confirm means: %s. %s." % (name, DURABILITY[dkey][1], how))
    print()
    print("Each run (publish msg/s, p50/p99 ms, consume msg/s):")
    for key, name, *_ in order:
        print("- %s: %s" % (name, "; ".join(
            "%.0f, %.2f/%.2f, %.0f%s" % (p["rate"], p["p50_ms"], p["p99_ms"], s["rate"],
                                         " (errors %d)" % (p.get("errors", 0) + s.get("errors", 0))
                                         if p.get("errors", 0) + s.get("errors", 0) else "")
            for p, s, _, _ in results[key])))
    if "zhub" in summary:
        z = summary["zhub"]
        level = DURABILITY["zhub"][0]
        behind = []
        for key, name, dkey, _how, _run in order:
            if key == "zhub" or DURABILITY[dkey][0] > level:
                continue
            m = summary[key]
            for what, mine, theirs, better in (("publish rate", z["pub"], m["pub"], max),
                                               ("consume rate", z["sub"], m["sub"], max),
                                               ("p99", z["p99"], m["p99"], min)):
                if better(mine, theirs) != mine or mine == theirs:
                    behind.append("%s on %s" % (name, what))
        print()
        if behind:
            print("zhub-broker is NOT ahead of every row of equal or weaker durability: behind "
                  + ", ".join(behind) + ".")
        else:
            print("zhub-broker is ahead of every row of equal or weaker durability on publish "
                  "rate, consume rate and p99.")
    print()
    print("load average at the end: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    if restart:
        print()
        print("zhub-broker restart with %d messages in the log (%.2f GiB file): event=ready after "
              "%.3fs, first STATS answered after %.3fs (includes starting the CLI); RSS after "
              "start %.0f MiB" % (restart["messages"], restart["file_gib"], restart["ready_s"],
                                  restart["answered_s"], restart["rss_after_mib"]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
