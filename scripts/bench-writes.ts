/**
 * `npm run bench:writes [-- --quick] [--old-rev <git revision> | --no-old]`: how fast one region takes writes, REST
 * and GraphQL, through the emulator's real servers (API Gateway proxy → the bundled items function; the AppSync
 * executor → the APPSYNC_JS resolvers), for the write path of this tree ("new": one conditional write per item,
 * the app state read before it) and of an older revision ("old", default OLD_REVISION: every write one
 * TransactWriteItems with a ConditionCheck on the region's app-state item). A benchmark, not a test: it prints
 * numbers and passes or fails nothing.
 *
 * What "old" is: the whole older revision (its handlers, resolvers and emulator), extracted with `git archive` into a
 * temporary folder and started in this process against the same DynamoDB Local — behind this tree's contention
 * front (local/contention.ts), which answers transaction conflicts and per-partition throttling as DynamoDB does
 * (DynamoDB Local serialises transactions and never throttles, so without it the old design shows no conflict).
 * "new" is this tree's emulator, which puts the same front in front of the same DynamoDB Local itself.
 *
 * Each design runs the dev stack's two regions and writes to one of them (eu-west-1; the replicator copies every
 * write to the other, as a global table does, on the same DynamoDB Local) and, per API, the series: 1, 8, 32 and 64
 * concurrent writers on distinct ids, then 8 writers on one hot id. Per series: requests, successes, writes/s
 * (successes over the series' wall time), client latency p50/p95/p99/max, and what went wrong: `conflicts` and
 * `throttles` are what the front answered DynamoDB calls with during the series (the handlers retry some of them,
 * so a client may still succeed), `versionRaces` the writes that lost a version race to another writer of the same
 * item (409 VersionConflict; GraphQL VersionConflict or WriteConflict "changed by another write": expected on a hot
 * id), `errors` every other failed request. Both designs run at once and each series runs old and new back to back
 * (see runWriteBench), then the yardstick: DynamoDB Local's own PutItem rate at as many writers (distinct items,
 * straight to DynamoDB Local, no front).
 *
 * `runWriteBench()` returns the same as structured data (another script folds it into `npm run bench`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ROOT } from '../components/bundle';
import { startContentionFront, type ContentionFront } from '../local/contention';
import { ensureDynamoDBLocal, freePort, startDynamoDBLocal } from '../local/dynamodbLocal';
import { Emulator } from '../local/emulator';
import { createTable, LOCAL_CREDENTIALS } from '../local/tables';
import { runMain } from './runMain';

/** The last revision whose writes each were one TransactWriteItems fenced on the shared app-state item. */
export const OLD_REVISION = '9a5a26b';
const REGION = 'eu-west-1';
const CONCURRENCY = [1, 8, 32, 64] as const;
const HOT_WRITERS = 8;

export type Design = 'old' | 'new';
export type Api = 'REST' | 'GraphQL';

export interface SeriesResult {
  design: Design;
  api: Api;
  /** e.g. "distinct ids, 64 writers" or "hot id, 8 writers" */
  series: string;
  writers: number;
  /** requests sent */
  count: number;
  ok: number;
  /** successful writes per second of the series' wall time */
  rate: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  conflicts: number;
  throttles: number;
  versionRaces: number;
  errors: number;
  /** the first few distinct failures, for the reader */
  samples: string[];
}

export interface WriteBenchResult {
  date: string;
  machine: { cpus: number; model: string; memoryGiB: number; loadAverage: number[]; node: string };
  old: { revision: string } | { skipped: string };
  /** DynamoDB Local's own PutItem rate, 64 writers (right after the 64-writer REST series) */
  yardstick: { writers: number; count: number; rate: number; p50: number; p99: number };
  /** the same at every writer count of the REST series, each measured right after it */
  yardsticks: Array<WriteBenchResult['yardstick']>;
  series: SeriesResult[];
}

export interface WriteBenchOptions {
  quick?: boolean;
  /** the old design's git revision; null = skip it */
  oldRevision?: string | null;
  log?: (line: string) => void;
}

interface Target {
  restUrl: string;
  graphqlUrl: string;
  restKey: string;
  graphqlKey: string;
  /** the front's counters now */
  counters(): { conflicts: number; throttles: number };
}

interface Outcome {
  ok: boolean;
  kind: 'ok' | 'versionRace' | 'error';
  detail: string;
  ms: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function restPut(t: Target, id: string, value: string): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await fetch(`${t.restUrl}/items/${encodeURIComponent(id)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-api-key': t.restKey },
      body: JSON.stringify({ value }),
    });
    const body = (await res.json().catch(() => ({}))) as { errorType?: string };
    const ms = performance.now() - started;
    if (res.status === 200 || res.status === 201) return { ok: true, kind: 'ok', detail: '', ms };
    const detail = `${res.status} ${body.errorType ?? ''}`.trim();
    return { ok: false, kind: res.status === 409 && body.errorType === 'VersionConflict' ? 'versionRace' : 'error', detail, ms };
  } catch (err) {
    return { ok: false, kind: 'error', detail: (err as Error).message, ms: performance.now() - started };
  }
}

const PUT = 'mutation P($input: PutItemInput!) { putItem(input: $input) { id version } }';

async function graphqlPut(t: Target, id: string, value: string): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': t.graphqlKey },
      body: JSON.stringify({ query: PUT, variables: { input: { id, value } } }),
    });
    const body = (await res.json().catch(() => ({}))) as { data?: { putItem?: unknown }; errors?: Array<{ errorType?: string; message?: string }> };
    const ms = performance.now() - started;
    if (res.ok && body.data?.putItem && !body.errors) return { ok: true, kind: 'ok', detail: '', ms };
    const e = body.errors?.[0];
    const race = e?.errorType === 'VersionConflict' || (e?.errorType === 'WriteConflict' && /changed by another write/.test(e.message ?? ''));
    return { ok: false, kind: race ? 'versionRace' : 'error', detail: `${res.status} ${e?.errorType ?? ''} ${(e?.message ?? '').slice(0, 80)}`.trim(), ms };
  } catch (err) {
    return { ok: false, kind: 'error', detail: (err as Error).message, ms: performance.now() - started };
  }
}

/** `writers` concurrent loops writing `perWriter` items each (distinct ids) or all the same id (hot). */
async function series(t: Target, design: Design, api: Api, writers: number, perWriter: number, hot: boolean, tag: string): Promise<SeriesResult> {
  const put = api === 'REST' ? restPut : graphqlPut;
  const before = t.counters();
  const outcomes: Outcome[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let n = 0; n < perWriter; n += 1) outcomes.push(await put(t, hot ? `${tag}-hot` : `${tag}-${w}-${n}`, `w${w}-${n}`));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = t.counters();
  const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const ok = outcomes.filter((o) => o.ok).length;
  const r = (v: number) => Math.round(v * 10) / 10;
  return {
    design,
    api,
    series: hot ? `hot id, ${writers} writers` : `distinct ids, ${writers} writer${writers === 1 ? '' : 's'}`,
    writers,
    count: outcomes.length,
    ok,
    rate: r(ok / seconds),
    p50: r(pct(ms, 50)),
    p95: r(pct(ms, 95)),
    p99: r(pct(ms, 99)),
    max: r(ms[ms.length - 1] ?? NaN),
    conflicts: after.conflicts - before.conflicts,
    throttles: after.throttles - before.throttles,
    versionRaces: outcomes.filter((o) => o.kind === 'versionRace').length,
    errors: outcomes.filter((o) => o.kind === 'error').length,
    samples: [...new Set(outcomes.filter((o) => o.kind === 'error').map((o) => o.detail))].slice(0, 3),
  };
}

function target(emulator: { region(name: string): { endpoints: { restUrl: string; graphqlUrl: string; apiKey: string } }; globalApiKey: string }, front: ContentionFront): Target {
  const ep = emulator.region(REGION).endpoints;
  return {
    restUrl: ep.restUrl,
    graphqlUrl: ep.graphqlUrl,
    restKey: emulator.globalApiKey,
    graphqlKey: ep.apiKey,
    counters: () => {
      const s = front.stats();
      return { conflicts: s.conflicts, throttles: s.throttles };
    },
  };
}

/** DynamoDB Local's own PutItem: `writers` concurrent loops of `perWriter` distinct items each, no front. */
async function rawPuts(client: DynamoDBClient, table: string, writers: number, perWriter: number, tag: string): Promise<WriteBenchResult['yardstick']> {
  const put = (id: string) => client.send(new PutItemCommand({ TableName: table, Item: { id: { S: id }, value: { S: 'yardstick' }, version: { N: '1' } } }));
  const ms: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let n = 0; n < perWriter; n += 1) {
        const t0 = performance.now();
        await put(`${tag}-${w}-${n}`);
        ms.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  ms.sort((x, y) => x - y);
  const r = (v: number) => Math.round(v * 10) / 10;
  return { writers, count: ms.length, rate: r(ms.length / seconds), p50: r(pct(ms, 50)), p99: r(pct(ms, 99)) };
}

/** The old revision's tree in a temporary folder, sharing this tree's node_modules. */
function extractRevision(revision: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-writes-old-'));
  execFileSync('sh', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'sh', ROOT, revision, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(dir, 'node_modules'));
  return dir;
}

/**
 * Both designs run side by side, series by series (old and new back to back, alternating which goes first, then the
 * raw PutItem yardstick at the same number of writers), so that a machine whose load changes during the run gives
 * every design of a series the same conditions.
 */
export async function runWriteBench(opts: WriteBenchOptions = {}): Promise<WriteBenchResult> {
  const log = opts.log ?? (() => {});
  const quick = opts.quick === true;
  const oldRevision = opts.oldRevision === undefined ? OLD_REVISION : opts.oldRevision;
  ensureDynamoDBLocal();
  const ddb = await startDynamoDBLocal({ port: await freePort() });
  const cpus = os.cpus();
  const result: WriteBenchResult = {
    date: new Date().toISOString(),
    machine: { cpus: cpus.length, model: cpus[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100), node: process.version },
    old: oldRevision === null ? { skipped: '--no-old' } : { revision: oldRevision },
    yardstick: { writers: 0, count: 0, rate: 0, p50: 0, p99: 0 },
    yardsticks: [],
    series: [],
  };
  const dirs: string[] = [];
  const stops: Array<() => Promise<void>> = [async () => ddb.stop()];
  const raw = new DynamoDBClient({
    region: REGION,
    endpoint: ddb.endpoint,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }) },
  });
  try {
    log(`DynamoDB Local on ${ddb.endpoint}`);
    const targets: Array<{ design: Design; t: Target }> = [];
    if (oldRevision !== null) {
      const dir = extractRevision(oldRevision);
      dirs.push(dir);
      log(`old: ${oldRevision} extracted to ${dir}; its emulator behind this tree's contention front`);
      const front = await startContentionFront({ endpoint: ddb.endpoint });
      stops.unshift(() => front.stop());
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const old = require(path.join(dir, 'local', 'emulator.ts')) as typeof import('../local/emulator');
      const emulator = await old.Emulator.start({ stack: 'dev', basePort: 0, endpointsFile: null, logDir: null, dynamodbEndpoint: front.url, configOverrides: { tableName: 'bench-old-items' }, projectDir: dir });
      stops.unshift(() => emulator.stop());
      targets.push({ design: 'old', t: target(emulator, front) });
    }
    log("new: this tree's emulator (its own contention front)");
    const emulator = await Emulator.start({ stack: 'dev', basePort: 0, endpointsFile: null, logDir: null, dynamodbEndpoint: ddb.endpoint, configOverrides: { tableName: 'bench-new-items' } });
    stops.unshift(() => emulator.stop());
    if (!emulator.contention) throw new Error('the emulator started without its contention front');
    targets.push({ design: 'new', t: target(emulator, emulator.contention) });
    // the yardstick writes to a table of its own, straight to DynamoDB Local
    await createTable(raw, 'bench-raw');

    const total = quick ? 64 : 384;
    let flip = false;
    for (const api of ['REST', 'GraphQL'] as const) {
      // warm-up: connections, the functions' first requests, the resolvers' first runs
      for (const { design, t } of targets) await series(t, design, api, 8, quick ? 2 : 8, false, `${design}-${api}-warm`);
      const runs: Array<{ writers: number; perWriter: number; hot: boolean }> = [
        ...CONCURRENCY.map((writers) => ({ writers, perWriter: writers === 1 ? (quick ? 32 : 128) : Math.round(total / writers), hot: false })),
        { writers: HOT_WRITERS, perWriter: quick ? 8 : 24, hot: true },
      ];
      for (const run of runs) {
        flip = !flip;
        for (const { design, t } of flip ? targets : [...targets].reverse()) {
          const s = await series(t, design, api, run.writers, run.perWriter, run.hot, run.hot ? `${design}-${api}` : `${design}-${api}-${run.writers}`);
          log(`  ${design} ${api} ${s.series}: ${s.rate}/s p50 ${s.p50} ms p99 ${s.p99} ms, conflicts ${s.conflicts}, throttles ${s.throttles}, version races ${s.versionRaces}, errors ${s.errors}`);
          result.series.push(s);
        }
        if (api === 'REST' && !run.hot) {
          const y = await rawPuts(raw, 'bench-raw', run.writers, run.perWriter, `raw-${run.writers}`);
          log(`  raw PutItem, ${run.writers} writers: ${y.rate}/s`);
          result.yardsticks.push(y);
          if (run.writers === 64) result.yardstick = y;
        }
      }
    }
  } finally {
    raw.destroy();
    for (const stop of stops) await stop().catch((e: unknown) => log(`stopping: ${(e as Error).message}`));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
  return result;
}

/** The table, then the targets this tree sets itself (README, "What it costs"). */
export function formatWriteBench(r: WriteBenchResult): string[] {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(`${r.date.slice(0, 10)}, ${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, Node ${m.node}, load average ${m.loadAverage.join(' ')}`);
  lines.push(`old = ${'revision' in r.old ? `revision ${r.old.revision} (transactional fence)` : `skipped (${r.old.skipped})`}; new = this tree; dev stack (2 regions), writes to ${REGION}, both through the contention front`);
  lines.push(`yardstick, DynamoDB Local's own PutItem (no front), each right after the REST series of as many writers: ${r.yardsticks.map((y) => `${y.writers} writers ${y.rate}/s`).join(', ')}`);
  lines.push('');
  lines.push('| design | API | series | requests | writes/s | p50 ms | p95 ms | p99 ms | max ms | conflicts | throttles | version races | errors |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of r.series) {
    lines.push(`| ${s.design} | ${s.api} | ${s.series} | ${s.count} | ${s.rate} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.max} | ${s.conflicts} | ${s.throttles} | ${s.versionRaces} | ${s.errors} |`);
  }
  const errs = r.series.filter((s) => s.samples.length > 0);
  if (errs.length) {
    lines.push('');
    for (const s of errs) lines.push(`errors, ${s.design} ${s.api} ${s.series}: ${s.samples.join('; ')}`);
  }
  lines.push('');
  for (const api of ['REST', 'GraphQL'] as const) {
    const get = (w: number) => r.series.find((s) => s.design === 'new' && s.api === api && s.series.startsWith('distinct') && s.writers === w);
    const one = get(1);
    const many = get(64);
    if (!one || !many) continue;
    const clean = many.conflicts === 0 && many.throttles === 0 && many.errors === 0;
    lines.push(`new ${api}, 64 writers: ${many.conflicts} conflicts, ${many.throttles} throttles, ${many.errors} errors — ${clean ? 'met' : 'NOT met'} (target 0 / 0 / 0)`);
    const x = many.rate / one.rate;
    lines.push(`new ${api}: 64 writers ${many.rate}/s = ${x.toFixed(1)} × 1 writer ${one.rate}/s — ${x >= 3 ? 'met' : 'NOT met'} (target ≥ 3 ×)`);
    if (api === 'REST' && r.yardstick.rate > 0) {
      const f = many.rate / r.yardstick.rate;
      lines.push(`new REST, 64 writers: ${(f * 100).toFixed(0)} % of DynamoDB Local's raw PutItem rate — ${f >= 1 / 3 ? 'met' : 'NOT met'} (target ≥ 33 %)`);
    }
  }
  return lines;
}

export const USAGE = `usage: npm run bench:writes [-- --quick] [--old-rev <revision> | --no-old]

  Writes/s of one emulated region, REST and GraphQL, at 1, 8, 32, 64 writers on distinct ids and 8 on one id, for
  this tree ("new") and revision ${OLD_REVISION} ("old": the transactional fence), through the contention front;
  DynamoDB Local's raw PutItem rate as the yardstick. --quick: fewer writes per series.`;

export async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, options: { quick: { type: 'boolean' }, 'old-rev': { type: 'string' }, 'no-old': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values['old-rev'] !== undefined && values['no-old']) {
    console.error(`error: --old-rev and --no-old exclude each other\n${USAGE}`);
    return 2;
  }
  const oldRevision = values['no-old'] ? null : (values['old-rev'] ?? OLD_REVISION);
  if (oldRevision !== null) {
    try {
      execFileSync('git', ['-C', ROOT, 'cat-file', '-e', `${oldRevision}^{commit}`], { stdio: 'ignore' });
    } catch {
      console.error(`error: --old-rev ${JSON.stringify(oldRevision)} is not a commit of this repository (a shallow clone may lack ${OLD_REVISION}: pass --no-old)`);
      return 2;
    }
  }
  const result = await runWriteBench({ quick: values.quick === true, oldRevision, log: (l) => console.error(l) });
  for (const line of formatWriteBench(result)) console.log(line);
  return 0;
}

runMain(module, main);
