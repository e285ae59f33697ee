/**
 * Series 3, the notifier: the bundled notifier's throughput on one stream shard, against a publishItemChange
 * endpoint that answers after a fixed latency (local/publishSink.ts, in a child process so its CPU is not the
 * notifier's). The same measurement backs `npm run bench:notifier` (scripts/bench-notifier.ts, any settings).
 *
 * How: builds dist/handlers/notifier/index.js (what `pulumi up` deploys), loads it in this process with the
 * environment Lambda would give it (NOTIFIER_CONCURRENCY = concurrency), and plays the event source mapping for
 * one shard: the records are split by item id into `parallelization` lanes (Lambda's parallelizationFactor keeps
 * each item in one lane, in order), each lane invokes the handler with batches of `batchSize` records one after
 * another, the lanes run at once. Every record is a change of its own id unless `ids` makes fewer, hotter ids.
 * CPU per record is this process's (process.cpuUsage) over the measured part.
 *
 * The series: 0 ms and 50 ms publish latency × batches of 1, 10 and 100, with the configured defaults
 * (parallelizationFactor 4, publishConcurrency 64; 100 is the mapping's batchSize).
 * Target: ≥ 1,000 records/s per shard at 50 ms with the configured defaults.
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { bundleHandler } from '../../components/bundle';
import { DEFAULT_NOTIFIER_TUNING } from '../../config/notifier';
import { STREAM_MAPPING } from '../../components/streamMapping';
import { type Row, type Series, stats, type Stats } from './series';

export interface NotifierOptions {
  latencyMs: number;
  concurrency: number;
  parallelization: number;
  records: number;
  batchSize: number;
  ids: number;
}

export interface NotifierMeasurement {
  options: NotifierOptions;
  bundle: string;
  published: number;
  failed: number;
  seconds: number;
  recordsPerSecond: number;
  /** Each invocation's duration (ms). */
  invocations: Stats;
  cpuMsPerRecord: number;
  maxInFlight: number;
  /** parallelization × concurrency / latency (records/s); Infinity at 0 ms. */
  ceiling: number;
}

type Handler = (e: DynamoDBStreamEvent, ctx: { getRemainingTimeInMillis(): number; awsRequestId: string }) => Promise<DynamoDBBatchResponse>;

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
      dynamodb: {
        ApproximateCreationDateTime: now,
        Keys: { id: { S: id } },
        NewImage: marshall(item),
        SequenceNumber: String(i + 1).padStart(21, '0'),
        SizeBytes: 120,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    } as DynamoDBRecord;
  });
}

/** djb2: a stable lane per id, as the mapping keeps one item in one lane. */
const lane = (id: string, lanes: number): number => [...id].reduce((h, c) => (h * 33 + c.charCodeAt(0)) >>> 0, 5381) % lanes;

/** The publish endpoint in a child process (local/publishSink.ts run as a command). */
export interface Sink {
  url: string;
  reset(): Promise<unknown>;
  stats(): Promise<{ publishes: number; maxInFlight: number }>;
  stop(): void;
}

export async function startSink(latencyMs: number): Promise<Sink> {
  const child = fork(path.join(__dirname, '..', '..', 'local', 'publishSink.ts'), [String(latencyMs)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const ask = <T>(m: string): Promise<T> => new Promise((resolve) => (child.once('message', (x) => resolve(x as T)), child.send(m)));
  const { url } = await new Promise<{ url: string }>((resolve, reject) => (child.once('message', (x) => resolve(x as { url: string })), child.once('error', reject)));
  return { url, reset: () => ask('reset'), stats: () => ask('stats'), stop: () => void child.send('stop') };
}

/** One measurement (see the header); `sink` must answer after `o.latencyMs`. */
export async function measureNotifier(o: NotifierOptions, sink: Sink): Promise<NotifierMeasurement> {
  const saved = { ...process.env };
  const quiet = { log: console.log, warn: console.warn, error: console.error };
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
    // a fresh module per measurement: the bundle reads NOTIFIER_CONCURRENCY and APPSYNC_URL when it loads
    delete require.cache[require.resolve(file)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the deployed bundle is what is measured
    const handler = (require(file) as { handler: Handler }).handler;
    Object.assign(console, { log: () => undefined, warn: () => undefined, error: () => undefined });

    const all = records(o.records, o.ids);
    const lanes: DynamoDBRecord[][] = Array.from({ length: o.parallelization }, () => []);
    for (const r of all) lanes[lane(r.dynamodb!.Keys!.id.S!, o.parallelization)].push(r);
    const invocationMs: number[] = [];
    let failed = 0;
    // warm-up: one small batch (connection set-up, JIT), not counted
    const warm = Math.min(o.concurrency, 50);
    await handler({ Records: records(warm, warm).map((r) => ({ ...r, eventSourceARN: 'warm-up' })) }, { getRemainingTimeInMillis: () => 60_000, awsRequestId: 'warm' });
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
      })
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const sunk = await sink.stats();
    return {
      options: o,
      bundle: file,
      published: sunk.publishes,
      failed,
      seconds,
      recordsPerSecond: sunk.publishes / seconds,
      invocations: stats(invocationMs),
      cpuMsPerRecord: (cpu.user + cpu.system) / 1000 / o.records,
      maxInFlight: sunk.maxInFlight,
      ceiling: o.latencyMs > 0 ? (o.parallelization * Math.min(o.concurrency, o.batchSize) * 1000) / o.latencyMs : Infinity,
    };
  } finally {
    Object.assign(console, quiet);
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const TARGET_RATE = 1000;

export function notifierSeries(): Series {
  return {
    id: 3,
    key: 'notifier',
    name: 'Notifier throughput per shard',
    async finish(ctx) {
      const rows: Row[] = [];
      const { parallelizationFactor, publishConcurrency } = DEFAULT_NOTIFIER_TUNING;
      for (const latencyMs of [0, 50]) {
        const sink = await startSink(latencyMs);
        try {
          for (const batchSize of [1, 10, 100]) {
            // about 1.5 s of work (0.5 s quick) at the rate the settings allow, the CPU permitting
            const expected = Math.min(latencyMs > 0 ? (parallelizationFactor * Math.min(publishConcurrency, batchSize) * 1000) / latencyMs : 4000, 4000);
            const unit = parallelizationFactor * batchSize;
            const n = Math.max(unit, Math.round((expected * (ctx.quick ? 0.5 : 1.5)) / unit) * unit);
            const m = await measureNotifier({ latencyMs, concurrency: publishConcurrency, parallelization: parallelizationFactor, records: n, batchSize, ids: n }, sink);
            ctx.log(`  ${latencyMs} ms, batch ${batchSize}: ${Math.round(m.recordsPerSecond)} records/s`);
            const isDefault = batchSize === STREAM_MAPPING.batchSize;
            const inv = m.invocations;
            const row: Row = {
              case: `${latencyMs} ms publish latency, batches of ${batchSize}${isDefault ? ' (as deployed)' : ''}: one invocation`,
              unit: 'ms',
              stats: { count: inv.count, p50: Math.round(inv.p50), p95: Math.round(inv.p95), p99: Math.round(inv.p99), max: Math.round(inv.max) },
              figure: { label: 'records/s per shard', value: Math.round(m.recordsPerSecond), unit: 'records/s' },
              extra: `${m.cpuMsPerRecord.toFixed(2)} ms CPU/record; ${m.published}/${
                m.options.records
              } published; parallelizationFactor ${parallelizationFactor}, publishConcurrency ${publishConcurrency}`,
              detail: {
                records: m.options.records,
                published: m.published,
                failed: m.failed,
                seconds: Math.round(m.seconds * 1000) / 1000,
                cpuMsPerRecord: Math.round(m.cpuMsPerRecord * 1000) / 1000,
                maxInFlight: m.maxInFlight,
                ceiling: Number.isFinite(m.ceiling) ? Math.round(m.ceiling) : null,
              },
            };
            if (latencyMs === 50 && isDefault) {
              const met = m.recordsPerSecond >= TARGET_RATE && m.failed === 0 && m.published === m.options.records;
              row.target = { text: `≥ ${TARGET_RATE.toLocaleString('en-US')} records/s`, met };
              if (!met) {
                row.why = `ceiling ${Math.round(m.ceiling)} records/s (parallelizationFactor × publishConcurrency / latency); reached ${Math.round(
                  (m.recordsPerSecond / m.ceiling) * 100
                )}%: ${m.cpuMsPerRecord.toFixed(2)} ms of CPU per record on a shared machine, every lane in one process`;
                row.fix = 'raise notifier.parallelizationFactor (lanes are separate sandboxes in Lambda), or spend less CPU per signed publish';
              }
            }
            rows.push(row);
          }
        } finally {
          sink.stop();
        }
      }
      return { available: true, rows };
    },
  };
}

/** The host's load when a measurement ran (for the CLI's print). */
export const loadNote = (): string => `host load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`;
