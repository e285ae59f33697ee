/**
 * Series 1, cross-region notify: a putItem on region A (GraphQL over HTTP), timed until the `data` frame reaches a
 * realtime subscriber on region B and one on A. 300 writes at 10 writes/s and 300 at 100 writes/s (open loop: each
 * write leaves on its schedule, answered or not), on 2 and 3 regions, at replication lag 0 and `realistic`; every
 * write's time split into hops (./hops.ts), after 3 warm-up writes that are not counted. `--quick`: 30 and 60
 * writes, 2 regions, lag 0.
 *
 * Target (lag 0, both rates): p50 ≤ 150 ms and p99 ≤ 500 ms.
 */
import { monotonicMs } from '../../local/trace';
import { type RegionEndpoint, putItem, type Session, subscribe, everySession } from './emulatorSession';
import { firstTimes, heaviestHop, HOP_FIX, hopsOf, hopStats, type Hop } from './hops';
import { type BenchContext, type Row, type Series, sessionName, type SessionSpec, stats, type Stats } from './series';

const P50_MS = 150;
const P99_MS = 500;

interface RunResult {
  session: SessionSpec;
  rate: number;
  writes: number;
  writer: string;
  failedWrites: number;
  /** per subscriber region: end-to-end latencies, the hops, and how many frames never came */
  subscribers: Array<{ region: string; remote: boolean; latencies: number[]; hops: Record<Hop, number>[]; missing: number }>;
}

const sleepUntil = (t: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t - monotonicMs())));

async function run(session: Session, rate: number, writes: number, ctx: BenchContext, results: RunResult[]): Promise<void> {
  const [a, b] = session.regions;
  const A: RegionEndpoint = session.endpoints[a];
  const tag = `n${session.spec.regions}${session.spec.lag[0]}${rate}-${Date.now().toString(36)}`;
  const arrivals = new Map<string, Map<string, number>>([
    [a, new Map()],
    [b, new Map()],
  ]);
  let expected = 0;
  let wake: (() => void) | undefined;
  const arrived = (region: string) => (id: string, at: number) => {
    if (!id.startsWith(tag)) return;
    const m = arrivals.get(region) as Map<string, number>;
    if (!m.has(id)) m.set(id, at);
    if (arrivals.get(a)!.size + arrivals.get(b)!.size >= expected) wake?.();
  };
  // warm-up (not counted): the first writes after a start pay one-off costs — the notifier's sandbox starting
  // (a cold start), the first run of each resolver — that a running deployment has long paid
  const warmTag = `warm-${tag}`;
  const warmSeen = new Map<string, number>();
  let warmWake: (() => void) | undefined;
  const warmed = (id: string): void => {
    if (!id.startsWith(warmTag)) return;
    warmSeen.set(id, (warmSeen.get(id) ?? 0) + 1);
    if (warmSeen.get(id) === 2) warmWake?.();
  };
  const subs = [await subscribe(session.endpoints[b], (id, at) => (warmed(id), arrived(b)(id, at))), await subscribe(A, (id, at) => (warmed(id), arrived(a)(id, at)))];
  try {
    for (let i = 0; i < 3; i += 1) {
      const id = `${warmTag}-${i}`;
      const both = new Promise<void>((resolve) => {
        const guard = setTimeout(resolve, 30_000);
        warmWake = () => (clearTimeout(guard), resolve());
      });
      await putItem(A, id);
      await both;
    }
    await session.trace();
    await session.take(); // nothing from before this run
    const sent = new Map<string, number>();
    let failed = 0;
    const t0 = monotonicMs() + 50;
    const answers: Promise<void>[] = [];
    for (let i = 0; i < writes; i += 1) {
      await sleepUntil(t0 + (i * 1000) / rate);
      const id = `${tag}-${i}`;
      sent.set(id, monotonicMs());
      answers.push(putItem(A, id).catch((err: unknown) => void ((failed += 1), sent.delete(id), ctx.log(`  ${(err as Error).message}`))));
    }
    await Promise.all(answers);
    expected = 2 * sent.size;
    // every frame in, or a generous guard (the backlog drains at hundreds of writes a second) — never a made-up number
    await new Promise<void>((resolve) => {
      const guard = setTimeout(resolve, 60_000 + writes * 100);
      wake = () => (clearTimeout(guard), resolve());
      if (arrivals.get(a)!.size + arrivals.get(b)!.size >= expected) wake();
    });
    await session.idle();
    const first = firstTimes(await session.take());
    const subscribers = [b, a].map((region) => {
      const latencies: number[] = [];
      const hops: Record<Hop, number>[] = [];
      let missing = 0;
      for (const [id, at] of sent) {
        const got = arrivals.get(region)!.get(id);
        if (got === undefined) {
          missing += 1;
          continue;
        }
        latencies.push(got - at);
        const h = hopsOf(first, id, a, region, at, got);
        if (h) hops.push(h);
      }
      return { region, remote: region !== a, latencies, hops, missing };
    });
    results.push({ session: session.spec, rate, writes, writer: a, failedWrites: failed, subscribers });
    const remote = subscribers[0];
    if (remote.latencies.length) ctx.log(`  ${sessionName(session.spec)}, ${rate}/s: ${a} → ${b} p50 ${stats(remote.latencies).p50.toFixed(0)} ms, p99 ${stats(remote.latencies).p99.toFixed(0)} ms`);
  } finally {
    for (const s of subs) s.close();
  }
}

const round = (s: Stats): Stats => ({ count: s.count, p50: Math.round(s.p50), p95: Math.round(s.p95), p99: Math.round(s.p99), max: Math.round(s.max) });

export function notifySeries(): Series<Session> {
  const results: RunResult[] = [];
  return {
    id: 1,
    key: 'notify',
    name: 'Cross-region notify',
    sessions: (ctx) => everySession(ctx.quick),
    async inSession(session, ctx) {
      for (const [rate, writes] of ctx.quick
        ? [
            [10, 30],
            [100, 60],
          ]
        : [
            [10, 300],
            [100, 300],
          ])
        await run(session, rate, writes, ctx, results);
    },
    async finish() {
      const rows: Row[] = [];
      for (const r of results) {
        for (const s of r.subscribers) {
          const where = `${sessionName(r.session)}, ${r.rate} writes/s on ${r.writer} → subscriber on ${s.region}${s.remote ? '' : ' (same region)'}`;
          if (s.latencies.length === 0) {
            rows.push({
              case: where,
              unit: 'ms',
              why: `no data frame arrived (${s.missing} missing, ${r.failedWrites} writes failed)`,
              target: r.session.lag === 'zero' ? { text: `p50 ≤ ${P50_MS} ms, p99 ≤ ${P99_MS} ms`, met: false } : undefined,
            });
            continue;
          }
          const st = round(stats(s.latencies));
          const hops = hopStats(s.hops);
          const hopDetail = hops ? Object.fromEntries(Object.entries(hops).map(([k, v]) => [k, round(v)])) : undefined;
          const row: Row = {
            case: where,
            unit: 'ms',
            stats: st,
            detail: { writes: r.writes, failedWrites: r.failedWrites, missingFrames: s.missing, tracedWrites: s.hops.length, hops: hopDetail },
          };
          if (hops)
            row.extra = `p50 hops: ${Object.entries(hops)
              .map(([k, v]) => `${k} ${Math.round(v.p50)}`)
              .join(' · ')}`;
          if (r.session.lag === 'zero') {
            const met = st.p50 <= P50_MS && st.p99 <= P99_MS && s.missing === 0 && r.failedWrites === 0;
            row.target = { text: `p50 ≤ ${P50_MS} ms, p99 ≤ ${P99_MS} ms`, met };
            if (!met && hops) {
              const worst = heaviestHop(hops);
              row.why = `heaviest hop at p99: ${worst} (${Math.round(hops[worst].p99)} ms)${s.missing ? `; ${s.missing} frames never arrived` : ''}`;
              row.fix = HOP_FIX[worst];
            } else if (!met) row.why = `${s.missing} frames missing, ${r.failedWrites} writes failed`;
          } else {
            row.why = 'lag realistic: the modelled inter-region replication delay (local/latency.ts) is in the replication hop; no local target (compare the AWS column)';
          }
          rows.push(row);
        }
      }
      return { available: true, rows };
    },
  };
}
