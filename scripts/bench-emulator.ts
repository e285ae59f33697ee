/**
 * `npm run bench:emulator [-- --regions 2|3 --writes 200]`: measures the local emulator and prints the numbers
 * (a benchmark, not a test: nothing here passes or fails):
 *   - start time: Emulator.start() until every region serves and the endpoints file is written (DynamoDB Local's
 *     JVM start included), for the dev stack's regions (2) or three regions;
 *   - resident memory: this process (the emulator with every worker thread) + the DynamoDB Local JVM, from /proc;
 *   - cross-region notify latency: a putItem on region A (GraphQL over HTTP) until the data frame reaches a realtime
 *     subscriber on region B — replication A → B, B's stream poll, B's bundled notifier, SigV4 publish, delivery —
 *     over N sequential writes, p50 / p90 / p99 / max.
 * Linux only for the memory figures (/proc/<pid>/status).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { Emulator } from '../local/emulator';

const THREE = ['eu-west-1', 'ap-southeast-2', 'us-east-1'];
const USAGE = 'usage: npm run bench:emulator [-- --regions 2|3] [--writes N]';

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function headers(graphqlUrl: string, apiKey: string): Record<string, string> {
  return { host: new URL(graphqlUrl).host, 'x-amz-date': new Date().toISOString().replace(/[:-]|\.\d{3}/g, ''), 'x-api-key': apiKey };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { regions: { type: 'string', default: '2' }, writes: { type: 'string', default: '200' }, help: { type: 'boolean' } } });
  if (values.help) return console.log(USAGE);
  const n = Number(values.regions);
  const writes = Number(values.writes);
  if (![2, 3].includes(n) || !Number.isInteger(writes) || writes < 1) {
    console.error(USAGE);
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ga-bench-'));
  const t0 = performance.now();
  const emulator = await Emulator.start({ stack: 'dev', regions: n === 3 ? THREE : undefined, basePort: 0, endpointsFile: path.join(dir, 'endpoints.json'), logDir: path.join(dir, 'logs') });
  const startMs = performance.now() - t0;
  try {
    const node = rssMiB(process.pid);
    const jvm = emulator.dynamodb.pid ? rssMiB(emulator.dynamodb.pid) : NaN;
    console.log(`regions: ${emulator.config.regions.join(', ')}  (${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)})`);
    console.log(`start: ${(startMs / 1000).toFixed(2)} s until every region served`);
    console.log(`RSS: ${(node + jvm).toFixed(0)} MiB = emulator ${node.toFixed(0)} MiB (node + worker threads) + DynamoDB Local JVM ${jvm.toFixed(0)} MiB`);

    const [a, b] = emulator.config.regions;
    const A = emulator.region(a).endpoints;
    const B = emulator.region(b).endpoints;
    const arrivals = new Map<string, number>();
    let notify: (() => void) | undefined;
    const socket = new WebSocket(B.realtimeUrl, ['graphql-ws', `header-${Buffer.from(JSON.stringify(headers(B.graphqlUrl, B.apiKey))).toString('base64url')}`]);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.on('message', (raw) => {
        const f = JSON.parse(raw.toString()) as { type: string; payload?: { data?: { onItemChange?: { id: string } } } };
        if (f.type === 'connection_ack') {
          socket.send(JSON.stringify({ id: 'bench', type: 'start', payload: { data: JSON.stringify({ query: 'subscription { onItemChange { id kind } }' }), extensions: { authorization: headers(B.graphqlUrl, B.apiKey) } } }));
        } else if (f.type === 'start_ack') resolve();
        else if (f.type === 'data' && f.payload?.data?.onItemChange) {
          arrivals.set(f.payload.data.onItemChange.id, performance.now());
          notify?.();
        } else if (f.type === 'error' || f.type === 'connection_error') reject(new Error(JSON.stringify(f)));
      });
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    });
    const latencies: number[] = [];
    for (let i = 0; i < writes; i += 1) {
      const id = `bench-${i}`;
      const sent = performance.now();
      const res = await fetch(A.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': A.apiKey },
        body: JSON.stringify({ query: 'mutation P($id: ID!) { putItem(input: {id: $id, value: "bench"}) { id } }', variables: { id } }),
      });
      if (!res.ok) throw new Error(`write ${i} answered ${res.status}`);
      while (!arrivals.has(id)) await new Promise<void>((r) => (notify = r));
      latencies.push((arrivals.get(id) as number) - sent);
    }
    socket.close();
    latencies.sort((x, y) => x - y);
    const f = (v: number) => `${v.toFixed(0)} ms`;
    console.log(`notify ${a} → ${b} subscriber, ${writes} writes: p50 ${f(pct(latencies, 50))}, p90 ${f(pct(latencies, 90))}, p99 ${f(pct(latencies, 99))}, max ${f(latencies[latencies.length - 1])}`);
  } finally {
    await emulator.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
