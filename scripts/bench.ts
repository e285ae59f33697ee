/**
 * `npm run bench [-- --quick] [--only <series>] [--out <file>]`: every speed claim of the project, measured on this
 * machine by one command, printed as one table (each row's count, p50, p95, p99 and max, where it stands against
 * its target, and for a miss why and what would fix it), and written to bench/results.json with the machine
 * (cores, memory, load average before and after), the date and the git revision.
 *
 * The series (scripts/bench/*.ts), in order:
 *   1 notify    cross-region notify latency, split into hops        5 plan      plan wall time 1 → all regions
 *   2 writes    writes/s per region (the writes work's series)      6 emulator  start time and resident memory
 *   3 notifier  notifier records/s per shard, CPU per record        7 bundles   bundle sizes, module init time
 *   4 fanout    one write to 1 … 5,000 subscribers                  8 aws       the same path on AWS, on paper
 * Series 1, 4 and 6 share emulator sessions (each in a child process, started as `npm start` starts it).
 * A benchmark, not a test: a missed target is a row that says so, not a failure. Exit status: 0 ran, 1 a series
 * failed to run, 2 bad arguments (nothing is run or written).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { awsSeries } from './bench/aws';
import { bundlesSeries } from './bench/bundles';
import { emulatorSeries } from './bench/emulator';
import { type Session, startSession } from './bench/emulatorSession';
import { fanoutSeries } from './bench/fanout';
import { notifierSeries } from './bench/notifier';
import { notifySeries } from './bench/notify';
import { planSeries } from './bench/planScaling';
import { type BenchContext, type Row, type Series, type SeriesResult, sessionName, type SessionSpec } from './bench/series';
import { writesSeries } from './bench/writes';
import { runMain } from './runMain';

const ROOT = path.resolve(__dirname, '..');
export const DEFAULT_OUT = path.join(ROOT, 'bench', 'results.json');

/** Every series, in the order they run and print; a factory each, so a run starts from nothing. */
export const SERIES: ReadonlyArray<{ id: number; key: string; create: () => Series }> = [
  { id: 1, key: 'notify', create: notifySeries },
  { id: 2, key: 'writes', create: writesSeries },
  { id: 3, key: 'notifier', create: notifierSeries },
  { id: 4, key: 'fanout', create: fanoutSeries },
  { id: 5, key: 'plan', create: planSeries },
  { id: 6, key: 'emulator', create: emulatorSeries },
  { id: 7, key: 'bundles', create: bundlesSeries },
  { id: 8, key: 'aws', create: awsSeries },
];

export const USAGE = `usage: npm run bench [-- --quick] [--only <series,...>] [--out <file>]

  Runs the benchmark series, prints one table and writes the results file.

  --quick           fewer samples (under a minute): notify 2 regions at lag 0 only, fan-out up to 1,000
                    subscribers, plan at 1 and 16 regions
  --only <list>     series by number or name, comma-separated: ${SERIES.map((s) => `${s.id} ${s.key}`).join(', ')}
  --out <file>      where to write the results (default bench/results.json)
  --help, -h        this text`;

export class BenchUsageError extends Error {}

export interface BenchArgs {
  help: boolean;
  quick: boolean;
  /** Series ids to run, in run order. */
  only: number[];
  out: string;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  let values: { quick?: boolean; only?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    }));
  } catch (e) {
    throw new BenchUsageError((e as Error).message);
  }
  let only = SERIES.map((s) => s.id);
  if (values.only !== undefined) {
    const wanted = values.only
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (wanted.length === 0) throw new BenchUsageError('--only needs at least one series');
    const ids = new Set<number>();
    for (const w of wanted) {
      const s = SERIES.find((x) => String(x.id) === w || x.key === w.toLowerCase());
      if (!s) throw new BenchUsageError(`--only: no series ${JSON.stringify(w)}; the series are ${SERIES.map((x) => `${x.id} ${x.key}`).join(', ')}`);
      ids.add(s.id);
    }
    only = SERIES.map((s) => s.id).filter((id) => ids.has(id));
  }
  if (values.out === '') throw new BenchUsageError('--out needs a file name');
  return { help: values.help === true, quick: values.quick === true, only, out: path.resolve(values.out ?? DEFAULT_OUT) };
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  platform: string;
  node: string;
  /** 1, 5 and 15-minute load averages when the run started and when it ended. */
  loadAverage: { before: number[]; after: number[] };
}

export interface BenchResults {
  command: string;
  mode: 'full' | 'quick';
  date: string;
  revision: { commit: string | null; dirty: boolean | null };
  machine: Machine;
  durationSeconds: number;
  series: SeriesResult[];
}

function revision(): BenchResults['revision'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    // the results file itself is what a run changes
    const dirty = status.split('\n').filter((l) => l.trim() && !l.endsWith('bench/results.json')).length > 0;
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

const loadavg = (): number[] => os.loadavg().map((x) => Math.round(x * 100) / 100);

// ---- the table ---------------------------------------------------------------------------------------------------

const num = (v: number): string => (Number.isNaN(v) ? '?' : Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1));

/** The verdict of a row: met, MISS, or blank when the row has no target. */
export const verdict = (r: Row): string => (r.target ? (r.target.met ? 'met' : 'MISS') : '');

/** The printed table (see the header): one line per row, a note line under rows with `extra`, then the misses. */
export function formatTable(results: BenchResults): string[] {
  const head = ['#', 'case', 'n', 'p50', 'p95', 'p99', 'max', 'unit', 'result', 'target', ''];
  const lines: string[][] = [];
  const notes: Array<string | null> = [];
  for (const s of results.series) {
    lines.push([String(s.id), s.name, '', '', '', '', '', '', '', '', s.available ? '' : 'n/a']);
    notes.push(s.available ? null : `   ${s.reason ?? 'not available'}`);
    for (const r of s.rows) {
      const st = r.stats;
      lines.push([
        '',
        `  ${r.case}`,
        st ? String(st.count) : '',
        st ? num(st.p50) : '',
        st ? num(st.p95) : '',
        st ? num(st.p99) : '',
        st ? num(st.max) : '',
        st ? r.unit : '',
        r.figure ? `${num(r.figure.value)} ${r.figure.unit}` : '',
        r.target?.text ?? '',
        verdict(r),
      ]);
      notes.push(r.extra ? `      ${r.extra}` : null);
    }
  }
  const all = [head, ...lines];
  const widths = head.map((_, i) => Math.max(...all.map((l) => l[i].length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const fmt = (l: string[]): string =>
    l
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const m = results.machine;
  const out = [
    `npm run bench${results.mode === 'quick' ? ' -- --quick' : ''} · ${results.date} · ${results.revision.commit?.slice(0, 10) ?? 'no git revision'}${
      results.revision.dirty ? ' (uncommitted changes)' : ''
    } · ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB · load average ${m.loadAverage.before[0]} → ${m.loadAverage.after[0]} · ${Math.round(results.durationSeconds)} s`,
    fmt(head),
  ];
  lines.forEach((l, i) => {
    out.push(fmt(l));
    if (notes[i]) out.push(notes[i] as string);
  });
  const misses = results.series.flatMap((s) => s.rows.filter((r) => r.target && !r.target.met).map((r) => ({ s, r })));
  if (misses.length) {
    out.push('', 'Misses: why, and what would fix them');
    for (const { s, r } of misses) out.push(`  [${s.id}] ${r.case} (${r.target!.text}): ${r.why ?? 'no explanation recorded'}${r.fix ? `. Fix: ${r.fix}` : ''}`);
  }
  if (m.loadAverage.before[0] > m.cpus || m.loadAverage.after[0] > m.cpus)
    out.push('', `The machine was loaded (load average above its ${m.cpus} cores): latencies and rates are worse than on a quiet machine.`);
  return out;
}

// ---- the run -----------------------------------------------------------------------------------------------------

const sameSpec = (a: SessionSpec, b: SessionSpec): boolean => a.regions === b.regions && a.lag === b.lag;

export async function runBench(args: BenchArgs, log: (line: string) => void): Promise<{ results: BenchResults; failed: boolean }> {
  const ctx: BenchContext = { quick: args.quick, log };
  const started = performance.now();
  const before = loadavg();
  const date = new Date().toISOString();
  const chosen = SERIES.filter((s) => args.only.includes(s.id)).map((s) => ({ def: s, series: s.create(), seconds: 0, error: undefined as string | undefined }));

  // the emulator sessions the chosen series need, each started once, in a fixed order
  const specs: SessionSpec[] = [];
  for (const c of chosen) for (const spec of c.series.sessions?.(ctx) ?? []) if (!specs.some((x) => sameSpec(x, spec))) specs.push(spec);
  specs.sort((a, b) => a.regions - b.regions || (a.lag === 'zero' ? 0 : 1) - (b.lag === 'zero' ? 0 : 1));
  for (const spec of specs) {
    log(`emulator session: ${sessionName(spec)}`);
    let session: Session | undefined;
    try {
      session = await startSession(spec);
      log(`  ready in ${(session.readyMs / 1000).toFixed(2)} s`);
      for (const c of chosen) {
        if (c.error || !c.series.inSession || !(c.series.sessions?.(ctx) ?? []).some((x) => sameSpec(x, spec))) continue;
        log(`  ${c.def.id} ${c.def.key}`);
        const t = performance.now();
        try {
          await c.series.inSession(session, ctx);
        } catch (e) {
          c.error = e instanceof Error ? e.message : String(e);
          log(`  ${c.def.key} failed: ${c.error}`);
        }
        c.seconds += (performance.now() - t) / 1000;
      }
    } catch (e) {
      for (const c of chosen) if ((c.series.sessions?.(ctx) ?? []).some((x) => sameSpec(x, spec))) c.error ??= `the emulator session (${sessionName(spec)}) did not start: ${(e as Error).message}`;
    } finally {
      await session?.stop();
    }
  }
  const series: SeriesResult[] = [];
  for (const c of chosen) {
    const base = { id: c.def.id, key: c.def.key, name: c.series.name };
    if (c.error) {
      series.push({ ...base, available: false, reason: `failed: ${c.error}`, rows: [], seconds: c.seconds });
      continue;
    }
    log(`${c.def.id} ${c.def.key}`);
    const t = performance.now();
    try {
      const r = await c.series.finish(ctx);
      series.push({ ...base, ...r, seconds: Math.round((c.seconds + (performance.now() - t) / 1000) * 10) / 10 });
    } catch (e) {
      c.error = e instanceof Error ? e.message : String(e);
      log(`  ${c.def.key} failed: ${c.error}`);
      series.push({ ...base, available: false, reason: `failed: ${c.error}`, rows: [], seconds: c.seconds });
    }
  }
  const results: BenchResults = {
    command: `npm run bench${args.quick ? ' -- --quick' : ''}`,
    mode: args.quick ? 'quick' : 'full',
    date,
    revision: revision(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      loadAverage: { before, after: loadavg() },
    },
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
    series,
  };
  return { results, failed: chosen.some((c) => c.error !== undefined) };
}

export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    out(USAGE);
    return 0;
  }
  const { results, failed } = await runBench(args, err);
  for (const line of formatTable(results)) out(line);
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
  const shown = path.relative(process.cwd(), args.out);
  out(`\nresults: ${shown && !shown.startsWith('..') ? shown : args.out}`);
  return failed ? 1 : 0;
}

runMain(module, main);
