/**
 * `npm run bench`'s arguments, its results file and its printed table (scripts/bench.ts). npm test does not run
 * the benchmark: the one series run here is the AWS-on-paper one, which measures nothing and takes no time.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BenchResults, DEFAULT_OUT, formatTable, main, parseBenchArgs, SERIES } from '../../scripts/bench';
import { paperPath } from '../../scripts/bench/aws';
import { stats } from '../../scripts/bench/series';

async function bench(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(...l.split('\n')), (l) => err.push(...l.split('\n')));
  return { code, out, err };
}

describe('npm run bench: arguments, results file, table', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ga-bench-test-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses --quick and --only (numbers or names, any order, run in series order); defaults: every series, bench/results.json', () => {
    assert.deepEqual(parseBenchArgs([]), { help: false, quick: false, only: SERIES.map((s) => s.id), out: DEFAULT_OUT });
    assert.deepEqual(SERIES.map((s) => s.id), [1, 2, 3, 4, 5, 6, 7, 8]);
    const a = parseBenchArgs(['--quick', '--only', 'aws, 5,notify', '--out', 'x/r.json']);
    assert.deepEqual(a.only, [1, 5, 8]);
    assert.equal(a.quick, true);
    assert.equal(a.out, path.resolve('x/r.json'));
  });

  it('refuses an unknown series, an empty list and an unknown flag, naming what was wrong; exit 2 and nothing written', async () => {
    assert.throws(() => parseBenchArgs(['--only', 'notify,9']), /--only: no series "9"; the series are 1 notify, 2 writes, 3 notifier, 4 fanout, 5 plan, 6 emulator, 7 bundles, 8 aws/);
    assert.throws(() => parseBenchArgs(['--only', ' , ']), /--only needs at least one series/);
    const out = path.join(dir, 'r.json');
    const bad = await bench(['--quik', '--out', out]);
    assert.equal(bad.code, 2);
    assert.match(bad.err.join('\n'), /Unknown option '--quik'[\s\S]*usage: npm run bench/);
    assert.deepEqual(bad.out, []);
    assert.equal(fs.existsSync(out), false);
  });

  it('a run writes the results file (machine, date, revision, each row) and prints the table', async () => {
    const out = path.join(dir, 'results.json');
    const { code, out: lines } = await bench(['--only', 'aws', '--out', out]);
    assert.equal(code, 0);
    const r = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResults;
    assert.equal(r.mode, 'full');
    assert.ok(Math.abs(Date.parse(r.date) - Date.now()) < 60_000, r.date);
    assert.match(r.revision.commit ?? '', /^[0-9a-f]{40}$/);
    assert.equal(r.machine.cpus, os.cpus().length);
    assert.equal(r.machine.loadAverage.before.length, 3);
    assert.equal(r.machine.loadAverage.after.length, 3);
    assert.deepEqual(r.series.map((s) => [s.id, s.key, s.available]), [[8, 'aws', true]]);
    const remote = paperPath(true);
    assert.equal(r.series[0].rows[0].figure?.value, remote.p50);
    assert.equal(remote.p50, remote.hops.reduce((n, h) => n + h.p50, 0));
    assert.ok(remote.hops.every((h) => h.basis === 'assumption' || /^https:\/\//.test(h.source ?? '')), 'every published or modelled figure names its source');
    // the table: the header line, the column heads, the series, its rows with their figure, the results path
    assert.match(lines[0], new RegExp(`^npm run bench · ${r.date.replace(/[.]/g, '\\.')} · [0-9a-f]{10}`));
    assert.match(lines[1], /^#\s+case\s+n\s+p50\s+p95\s+p99\s+max\s+unit\s+result\s+target$/);
    assert.match(lines[2], /^8\s+On AWS, on paper$/);
    assert.ok(lines.some((l) => l.includes('subscriber on ap-southeast-2') && l.includes(`${remote.p50} ms`)));
    assert.equal(lines.at(-1), `results: ${out}`);
  });

  it('the table gives each row its count and percentiles, met or MISS against its target, and under it why and the fix of each miss', () => {
    const fast = stats(Array.from({ length: 300 }, (_, i) => 80 + (i % 50)));
    const slow = stats(Array.from({ length: 300 }, (_, i) => 100 + i * 2));
    assert.deepEqual(stats([5, 1, 4, 2, 3]), { count: 5, p50: 3, p95: 5, p99: 5, max: 5 });
    assert.deepEqual([slow.p50, slow.p95, slow.p99, slow.max], [398, 668, 692, 698]);
    assert.throws(() => stats([]), /no samples/);
    const results: BenchResults = {
      command: 'npm run bench',
      mode: 'quick',
      date: '2026-12-06T10:00:00.000Z',
      revision: { commit: 'abcdef0123456789abcdef0123456789abcdef01', dirty: true },
      machine: { cpus: 2, cpuModel: 'test CPU', memoryGiB: 4, platform: 'linux', node: 'v20', loadAverage: { before: [3.5, 2, 1], after: [1, 1, 1] } },
      durationSeconds: 42,
      series: [
        {
          id: 1,
          key: 'notify',
          name: 'Cross-region notify',
          available: true,
          seconds: 30,
          rows: [
            { case: 'at 10/s', unit: 'ms', stats: fast, target: { text: 'p99 ≤ 500 ms', met: true }, extra: 'p50 hops: stream poll 25' },
            { case: 'at 100/s', unit: 'ms', stats: slow, target: { text: 'p99 ≤ 500 ms', met: false }, why: 'the stream poll waits', fix: 'poll more often' },
          ],
        },
        { id: 2, key: 'writes', name: 'Writes', available: false, reason: 'not available in this revision', rows: [], seconds: 0 },
      ],
    };
    const t = formatTable(results);
    assert.match(t[0], /^npm run bench -- --quick · 2026-12-06T10:00:00\.000Z · abcdef0123 \(uncommitted changes\) · 2 × test CPU, 4 GiB · load average 3\.5 → 1 · 42 s$/);
    const row = (text: string): string[] => (t.find((l) => l.includes(text)) ?? '').trim().split(/\s{2,}/);
    assert.deepEqual(row('at 10/s'), ['at 10/s', '300', String(fast.p50), String(fast.p95), String(fast.p99), String(fast.max), 'ms', 'p99 ≤ 500 ms', 'met']);
    assert.deepEqual(row('at 100/s'), ['at 100/s', '300', '398', '668', '692', '698', 'ms', 'p99 ≤ 500 ms', 'MISS']);
    assert.equal(t[t.indexOf(t.find((l) => l.includes('at 10/s'))!) + 1].trim(), 'p50 hops: stream poll 25');
    assert.deepEqual(row('Writes'), ['2', 'Writes', 'n/a']);
    assert.ok(t.includes('   not available in this revision'));
    const misses = t.indexOf('Misses: why, and what would fix them');
    assert.ok(misses > 0);
    assert.equal(t[misses + 1], '  [1] at 100/s (p99 ≤ 500 ms): the stream poll waits. Fix: poll more often');
    assert.match(t.at(-1)!, /The machine was loaded \(load average above its 2 cores\)/);
  });
});
