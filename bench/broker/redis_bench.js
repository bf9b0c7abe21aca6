// Redis Streams side of bench/broker/run. One process = one connection.
//   node redis_bench.js setup URL
//   node redis_bench.js pub URL COUNT SIZE WINDOW START_AT_MS OUT_FILE
//   node redis_bench.js sub URL CREDIT START_AT_MS OUT_FILE NAME
// XADD is confirmed when Redis answers (with appendfsync always, after the
// AOF write and fsync of that event-loop turn). Consumers: XREADGROUP
// (COUNT = credit), then one XACK per message, as each is processed.
'use strict';
const { createClient } = require('redis');
const fs = require('fs');
const { performance } = require('perf_hooks');

const [mode, url, ...args] = process.argv.slice(2);
const sleepUntil = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

async function main() {
  const client = createClient({ url });
  await client.connect();
  if (mode === 'setup') {
    await client.del('bench');
    await client.xGroupCreate('bench', 'g', '0', { MKSTREAM: true });
    await client.quit();
    return;
  }
  if (mode === 'pub') {
    const [count, size, window, startAt, out] = args.map((a, i) => (i < 4 ? Number(a) : a));
    const payload = 'x'.repeat(size);
    const lat = new Float64Array(count);
    let next = 0, done = 0, errors = 0;
    await sleepUntil(startAt);
    await new Promise((resolve) => {
      const one = () => {
        if (next >= count) return;
        const i = next++;
        const t0 = performance.now();
        client.xAdd('bench', '*', { d: payload })
          .then(() => { lat[i] = (performance.now() - t0) * 1000; },
                () => { errors++; lat[i] = (performance.now() - t0) * 1000; })
          .finally(() => { done++; if (done === count) resolve(); else one(); });
      };
      for (let w = 0; w < window; w++) one();
    });
    const end = Date.now();
    fs.writeFileSync(out, JSON.stringify({ count, end, errors, lat: Array.from(lat) }));
  } else {
    const [credit, startAt, out, name] = [Number(args[0]), Number(args[1]), args[2], args[3]];
    await sleepUntil(startAt);
    let got = 0, last = Date.now();
    for (;;) {
      const res = await client.xReadGroup('g', name, { key: 'bench', id: '>' },
                                          { COUNT: credit, BLOCK: 1000 });
      if (!res || res.length === 0 || res[0].messages.length === 0) {
        if (Date.now() - last > (got ? 1500 : 15000)) break;
        continue;
      }
      const acks = res[0].messages.map((m) => client.xAck('bench', 'g', m.id));
      await Promise.all(acks);
      got += acks.length;
      last = Date.now();
    }
    fs.writeFileSync(out, JSON.stringify({ count: got, end: last, errors: 0 }));
  }
  await client.quit();
}

main().catch((e) => { console.error(e); process.exit(1); });
