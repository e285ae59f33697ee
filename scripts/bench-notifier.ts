/**
 * `npm run bench:notifier`: the bundled notifier's throughput on one stream shard (issue 13, item 9), against a
 * publishItemChange endpoint that answers after a fixed latency (local/publishSink.ts; AppSync costs ~50 ms).
 *
 * The endpoint runs in a child process. It builds dist/handlers/notifier/index.js (what `pulumi up` deploys), loads it in this process with the
 * environment Lambda would give it (NOTIFIER_CONCURRENCY = --concurrency), and plays the event source mapping for
 * one shard: the records are split by item id into --parallelization lanes (Lambda's parallelizationFactor keeps
 * each item in one lane, in order), each lane invokes the handler with batches of --batch-size records one after
 * another, the lanes run at once. Every record is a change of its own id unless --ids makes fewer, hotter ids
 * (one id's changes are published one after another: --ids 1 shows a single hot item's ceiling, ~1/latency).
 * Prints numbers; it is not a test.
 *
 *   npm run bench:notifier -- --latency-ms 50 --concurrency 64 [--parallelization 2] [--records 4000] [--batch-size 100] [--ids N]
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { bundleHandler } from '../components/bundle';
import { fork } from 'node:child_process';
import { runMain } from './runMain';

export const USAGE = `usage: npm run bench:notifier -- --latency-ms <ms> --concurrency <n> [options]

  Publishes --records stream records through the bundled notifier to a local endpoint answering after
  --latency-ms, as one shard of the event source mapping, and prints records/s.

  --latency-ms <ms>        the endpoint's answer time (AppSync: ~50)                       required
  --concurrency <n>        NOTIFIER_CONCURRENCY: parallel publishes per invocation (1-256)  required
  --parallelization <n>    the mapping's parallelizationFactor: batches of the shard at once (1-10), default 1
  --records <n>            records to publish, default 4000
  --batch-size <n>         records per invocation (the mapping's batchSize), default 100
  --ids <n>                distinct item ids the records change, default one per record
  --help, -h               this text`;

type Handler = (e: DynamoDBStreamEvent, ctx: { getRemainingTimeInMillis(): number; awsRequestId: string }) => Promise<DynamoDBBatchResponse>;

function int(name: string, raw: string | undefined, dflt: number | undefined, lo: number, hi: number): number {
  if (raw === undefined) {
    if (dflt === undefined) throw new Error(`--${name} is required`);
    return dflt;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`--${name} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(raw)}`);
  return n;
}

function records(n: number, ids: number): DynamoDBRecord[] {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) => {
    const id = `bench-${String(i % ids).padStart(6, '0')}`;
    const version = Math.floor(i / ids) + 1;
    const item = { id, value: `value ${i}`, version, updatedAt: new Date(Date.UTC(2026, 10, 30, 10) + i).toISOString(), updatedRegion: 'eu-west-1' };
    return {
      eventID: String(i),
      eventName: version === 1 ? 'INSERT' : 'MODIFY',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      eventSourceARN: `arn:aws:dynamodb:eu-west-1:123456789012:table/bench/stream/${now}`,
      dynamodb: { ApproximateCreationDateTime: now, Keys: { id: { S: id } }, NewImage: marshall(item), SequenceNumber: String(i + 1).padStart(21, '0'), SizeBytes: 120, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    } as DynamoDBRecord;
  });
}

/** djb2: a stable lane per id, as the mapping keeps one item in one lane. */
const lane = (id: string, lanes: number): number => [...id].reduce((h, c) => (h * 33 + c.charCodeAt(0)) >>> 0, 5381) % lanes;

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let o: { latencyMs: number; concurrency: number; parallelization: number; records: number; batchSize: number; ids: number };
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'latency-ms': { type: 'string' },
        concurrency: { type: 'string' },
        parallelization: { type: 'string' },
        records: { type: 'string' },
        'batch-size': { type: 'string' },
        ids: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    const n = int('records', values.records, 4000, 1, 1_000_000);
    o = {
      latencyMs: int('latency-ms', values['latency-ms'], undefined, 0, 10_000),
      concurrency: int('concurrency', values.concurrency, undefined, 1, 256),
      parallelization: int('parallelization', values.parallelization, 1, 1, 10),
      records: n,
      batchSize: int('batch-size', values['batch-size'], 100, 1, 10_000),
      ids: int('ids', values.ids, n, 1, n),
    };
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }

  // the endpoint in a process of its own: its CPU is not the notifier's (AppSync is remote, after all)
  const child = fork(path.join(__dirname, '..', 'local', 'publishSink.ts'), [String(o.latencyMs)], { execArgv: ['-r', 'ts-node/register/transpile-only'], stdio: 'inherit' });
  const ask = <T>(m: string): Promise<T> => new Promise((resolve) => (child.once('message', (x) => resolve(x as T)), child.send(m)));
  const { url } = await new Promise<{ url: string }>((resolve, reject) => (child.once('message', (x) => resolve(x as { url: string })), child.once('error', reject)));
  const sink = { url, reset: () => ask<unknown>('reset'), stats: () => ask<{ publishes: number; maxInFlight: number }>('stats') };
  const saved = { ...process.env };
  try {
    Object.assign(process.env, {
      APPSYNC_URL: sink.url,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench-secret',
      AWS_SESSION_TOKEN: 'bench-token',
      NOTIFIER_CONCURRENCY: String(o.concurrency),
    });
    delete process.env.NOTIFIER_DLQ_URL;
    const file = path.join(bundleHandler('notifier'), 'index.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the deployed bundle is what is measured
    const handler = (require(file) as { handler: Handler }).handler;
    const quiet = { log: console.log, warn: console.warn, error: console.error };
    Object.assign(console, { log: () => undefined, warn: () => undefined, error: () => undefined });

    const all = records(o.records, o.ids);
    const lanes: DynamoDBRecord[][] = Array.from({ length: o.parallelization }, () => []);
    for (const r of all) lanes[lane(r.dynamodb!.Keys!.id.S!, o.parallelization)].push(r);
    const invocationMs: number[] = [];
    let failed = 0;
    // warm-up: one small batch (connection set-up, JIT), not counted
    await handler({ Records: records(Math.min(o.concurrency, 50), Math.min(o.concurrency, 50)).map((r) => ({ ...r, eventSourceARN: 'warm-up' })) }, { getRemainingTimeInMillis: () => 60_000, awsRequestId: 'warm' });
    await sink.reset();
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(
      lanes.map(async (rs, l) => {
        for (let i = 0; i < rs.length; i += o.batchSize) {
          const t = performance.now();
          const res = await handler({ Records: rs.slice(i, i + o.batchSize) }, { getRemainingTimeInMillis: () => 60_000, awsRequestId: `lane${l}-${i}` });
          invocationMs.push(performance.now() - t);
          failed += res.batchItemFailures.length;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const stats = await sink.stats();
    Object.assign(console, quiet);

    const rate = stats.publishes / seconds;
    out(`notifier bundle: ${file}`);
    out(`endpoint latency ${o.latencyMs} ms · concurrency ${o.concurrency} · parallelizationFactor ${o.parallelization} · batch size ${o.batchSize} · ${o.ids} ids`);
    out(`published ${stats.publishes} of ${o.records} records in ${seconds.toFixed(2)} s: ${Math.round(rate)} records/s per shard (${failed} reported failures)`);
    out(`invocations ${invocationMs.length}: p50 ${pct(invocationMs, 50).toFixed(0)} ms, p99 ${pct(invocationMs, 99).toFixed(0)} ms · at most ${stats.maxInFlight} publishes in flight`);
    out(`CPU ${((cpu.user + cpu.system) / 1000 / o.records).toFixed(2)} ms per record (the notifier's process) · host load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`);
    out(`ceiling: parallelizationFactor × concurrency / latency = ${o.latencyMs > 0 ? Math.round((o.parallelization * o.concurrency * 1000) / o.latencyMs) : '∞'} records/s`);
    return failed === 0 && stats.publishes === o.records ? 0 : 1;
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    child.send('stop');
  }
}

runMain(module, main);
