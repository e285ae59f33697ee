/**
 * `npm run bench:notifier`: the notifier's throughput on one stream shard with settings of your choice — the
 * measurement of `npm run bench`'s notifier series (scripts/bench/notifier.ts), one run, printed.
 *
 *   npm run bench:notifier -- --latency-ms 50 --concurrency 64 [--parallelization 4] [--records 4000] [--batch-size 100] [--ids N]
 */
import { parseArgs } from 'node:util';
import { loadNote, measureNotifier, startSink } from './bench/notifier';
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

function int(name: string, raw: string | undefined, dflt: number | undefined, lo: number, hi: number): number {
  if (raw === undefined) {
    if (dflt === undefined) throw new Error(`--${name} is required`);
    return dflt;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`--${name} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(raw)}`);
  return n;
}

export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let o: Parameters<typeof measureNotifier>[0];
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
  const sink = await startSink(o.latencyMs);
  try {
    const m = await measureNotifier(o, sink);
    out(`notifier bundle: ${m.bundle}`);
    out(`endpoint latency ${o.latencyMs} ms · concurrency ${o.concurrency} · parallelizationFactor ${o.parallelization} · batch size ${o.batchSize} · ${o.ids} ids`);
    out(`published ${m.published} of ${o.records} records in ${m.seconds.toFixed(2)} s: ${Math.round(m.recordsPerSecond)} records/s per shard (${m.failed} reported failures)`);
    out(`invocations ${m.invocations.count}: p50 ${m.invocations.p50.toFixed(0)} ms, p99 ${m.invocations.p99.toFixed(0)} ms · at most ${m.maxInFlight} publishes in flight`);
    out(`CPU ${m.cpuMsPerRecord.toFixed(2)} ms per record (the notifier's process) · ${loadNote()}`);
    out(`ceiling: parallelizationFactor × min(concurrency, batch size) / latency = ${Number.isFinite(m.ceiling) ? Math.round(m.ceiling) : '∞'} records/s`);
    return m.failed === 0 && m.published === o.records ? 0 : 1;
  } finally {
    sink.stop();
  }
}

runMain(module, main);
