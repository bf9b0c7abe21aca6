// NATS JetStream side of bench/broker/run. One process = one connection.
//   node nats_bench.js setup URL
//   node nats_bench.js pub URL COUNT SIZE WINDOW START_AT_MS OUT_FILE
//   node nats_bench.js sub URL CREDIT START_AT_MS OUT_FILE
// Results (JSON) go to OUT_FILE; latencies in microseconds.
'use strict';
const { connect, AckPolicy, StorageType, RetentionPolicy } = require('nats');
const fs = require('fs');
const { performance } = require('perf_hooks');

const [mode, url, ...args] = process.argv.slice(2);
const sleepUntil = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

async function main() {
  const nc = await connect({ servers: url });
  const jsm = await nc.jetstreamManager();
  if (mode === 'setup') {
    try { await jsm.streams.delete('BENCH'); } catch (_) { /* first run */ }
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'], storage: StorageType.File,
                            retention: RetentionPolicy.Limits, num_replicas: 1 });
    await jsm.consumers.add('BENCH', { durable_name: 'bench', ack_policy: AckPolicy.Explicit,
                                       max_ack_pending: 100000, ack_wait: 60e9 });
    await nc.drain();
    return;
  }
  const js = nc.jetstream();
  if (mode === 'pub') {
    const [count, size, window, startAt, out] = args.map((a, i) => (i < 4 ? Number(a) : a));
    const payload = Buffer.alloc(size, 'x');
    const lat = new Float64Array(count);
    let next = 0, done = 0, errors = 0;
    await sleepUntil(startAt);
    await new Promise((resolve) => {
      const one = () => {
        if (next >= count) return;
        const i = next++;
        const t0 = performance.now();
        js.publish('bench.msg', payload, { msgID: `${process.pid}-${i}` })
          .then(() => { lat[i] = (performance.now() - t0) * 1000; },
                () => { errors++; lat[i] = (performance.now() - t0) * 1000; })
          .finally(() => { done++; if (done === count) resolve(); else one(); });
      };
      for (let w = 0; w < window; w++) one();
    });
    const end = Date.now();
    fs.writeFileSync(out, JSON.stringify({ count, end, errors, lat: Array.from(lat) }));
  } else {
    const [credit, startAt, out] = [Number(args[0]), Number(args[1]), args[2]];
    const consumer = await js.consumers.get('BENCH', 'bench');
    await sleepUntil(startAt);
    let got = 0, last = Date.now();
    const messages = await consumer.consume({ max_messages: credit, idle_heartbeat: 1000 });
    // done once the stream stays quiet (longer before the first message:
    // a loaded machine may take a while to start delivering)
    const idle = setInterval(() => {
      if (Date.now() - last > (got ? 1500 : 15000)) messages.stop();
    }, 200);
    for await (const m of messages) {
      m.ack();
      got++;
      last = Date.now();
    }
    clearInterval(idle);
    await nc.flush();
    fs.writeFileSync(out, JSON.stringify({ count: got, end: last, errors: 0 }));
  }
  await nc.drain();
}

main().catch((e) => { console.error(e); process.exit(1); });
