/**
 * Series 2, writes: writes/s per region through REST and GraphQL at 1, 8, 32 and 64 writers on distinct ids and 8
 * on one hot id, with conflicts and throttles from the emulator's contention front, the old design (every write a
 * transaction fenced on the one app-state item, revision OLD_REVISION) beside the new one, and DynamoDB Local's own
 * PutItem rate as the yardstick. The measurement is scripts/bench-writes.ts (`npm run bench:writes` prints the same
 * run on its own); this turns its result into the runner's rows. `--quick` skips the old design.
 */
import { OLD_REVISION, runWriteBench, type SeriesResult as WriteSeries } from '../bench-writes';
import type { Row, Series } from './series';

const rateOf = (all: WriteSeries[], design: string, api: string, writers: number): WriteSeries | undefined =>
  all.find((s) => s.design === design && s.api === api && s.writers === writers && !s.series.startsWith('hot'));

export function writesSeries(): Series {
  return {
    id: 2,
    key: 'writes',
    name: 'Writes',
    async finish(ctx) {
      const r = await runWriteBench({ quick: ctx.quick, oldRevision: ctx.quick ? null : OLD_REVISION, log: ctx.log });
      const rows: Row[] = r.series.map((s) => {
        const row: Row = {
          case: `${s.design} design, ${s.api}, ${s.series}`,
          unit: 'ms',
          stats: { count: s.count, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max },
          figure: { label: 'rate', value: Math.round(s.rate * 10) / 10, unit: 'writes/s' },
          extra: `${s.ok}/${s.count} ok, conflicts ${s.conflicts}, throttles ${s.throttles}, errors ${s.errors}`,
        };
        if (s.design === 'new' && s.writers === 64 && !s.series.startsWith('hot')) {
          const clean = s.conflicts === 0 && s.throttles === 0 && s.errors === 0;
          row.target = { text: '64 writers, distinct ids: 0 conflicts, 0 throttles, 0 errors', met: clean };
          if (!clean) row.why = `conflicts ${s.conflicts}, throttles ${s.throttles}, errors ${s.errors}: ${s.samples.slice(0, 2).join('; ')}`;
        }
        return row;
      });
      for (const api of ['REST', 'GraphQL']) {
        const one = rateOf(r.series, 'new', api, 1);
        const many = rateOf(r.series, 'new', api, 64);
        if (!one || !many || one.rate === 0) continue;
        const ratio = many.rate / one.rate;
        rows.push({
          case: `new design, ${api}: 64 writers ÷ 1 writer`,
          unit: '×',
          figure: { label: 'ratio', value: Math.round(ratio * 100) / 100, unit: '×' },
          target: { text: '≥ 3×', met: ratio >= 3 },
          ...(ratio >= 3 ? {} : { why: 'on 2 cores the emulator, its workers and the DynamoDB Local JVM share the CPU the writers would scale into', fix: 'measure on an idle machine or with more cores' }),
        });
      }
      const y = r.yardstick;
      rows.push({ case: `DynamoDB Local raw PutItem, ${y.writers} writers (yardstick)`, unit: 'ms', figure: { label: 'rate', value: Math.round(y.rate * 10) / 10, unit: 'writes/s' }, extra: `${y.count} puts, p50 ${Math.round(y.p50)} ms, p99 ${Math.round(y.p99)} ms` });
      const rest64 = rateOf(r.series, 'new', 'REST', 64);
      if (rest64 && y.rate > 0) {
        const share = rest64.rate / y.rate;
        rows.push({
          case: 'emulator REST writes/s ÷ raw PutItem writes/s (64 writers)',
          unit: '',
          figure: { label: 'share', value: Math.round(share * 100) / 100, unit: '' },
          target: { text: '≥ 0.33', met: share >= 1 / 3 },
          ...(share >= 1 / 3 ? {} : { why: 'each emulated write passes API Gateway, a Lambda worker, the state read and the contention front on the same 2 cores as the JVM', fix: 'an idle machine; fewer hops per write in the emulator (one worker per bundle)' }),
        });
      }
      return { available: true, rows };
    },
  };
}
