/**
 * Series 4, fan-out: one write on a region, timed until the first and the last of its 1, 100, 1,000 and 5,000
 * realtime subscribers (all on that region) have the data frame; each count keeps the connections of the one
 * before. Also the emulator's resident memory per idle subscription (after a GC, before and after the 5,000).
 * The subscribers are clients in the benchmark's process; the emulator runs in its own (./emulatorHost.ts), so
 * its memory holds only the server side. `--quick`: up to 1,000 subscribers, fewer writes.
 *
 * Targets: 1,000 subscribers reached in ≤ 250 ms, 5,000 in ≤ 1 s (the last subscriber, p95 over the writes).
 */
import { monotonicMs } from '../../local/trace';
import { putItem, type Session, subscribeMany, type Subscriber } from './emulatorSession';
import { type Row, type Series, stats, type Stats } from './series';

const TARGET_MS: Record<number, number> = { 1000: 250, 5000: 1000 };

interface CountResult {
  subscribers: number;
  first: number[];
  last: number[];
  /** The emulator's own time from the published result to its last frame written (trace). */
  serverSend: number[];
  missing: number;
}

export function fanoutSeries(): Series<Session> {
  const counts: CountResult[] = [];
  let memory: { subscriptions: number; rssMiB: number; heapAndExternalMiB: number; kibPerSubscription: number; rssKibPerSubscription: number } | undefined;
  let region = '';

  return {
    id: 4,
    key: 'fanout',
    name: 'Fan-out',
    sessions: () => [{ regions: 2, lag: 'zero' }],
    async inSession(session, ctx) {
      region = session.regions[0];
      const endpoint = session.endpoints[region];
      const before = await session.rss({ gc: true });
      const subsBefore = await session.subscriptions();
      const seen = new Map<string, { first: number; last: number; n: number }>();
      let want = 0;
      let wake: (() => void) | undefined;
      const onData = (id: string, at: number): void => {
        const s = seen.get(id);
        if (!s) return;
        s.first = Math.min(s.first, at);
        s.last = Math.max(s.last, at);
        s.n += 1;
        if (s.n >= want) wake?.();
      };
      const subscribers: Subscriber[] = [];
      await session.trace();
      try {
        for (const n of ctx.quick ? [1, 100, 1000] : [1, 100, 1000, 5000]) {
          subscribers.push(...(await subscribeMany(endpoint, n - subscribers.length, onData)));
          ctx.log(`  ${n} subscribers on ${region}`);
          const result: CountResult = { subscribers: n, first: [], last: [], serverSend: [], missing: 0 };
          const writes = n >= 1000 ? (ctx.quick ? 3 : 5) : ctx.quick ? 5 : 10;
          await session.take();
          const sentAt = new Map<string, number>();
          for (let w = 0; w < writes; w += 1) {
            const id = `fan-${n}-${w}-${Date.now().toString(36)}`;
            want = n;
            seen.set(id, { first: Infinity, last: -Infinity, n: 0 });
            const arrivedAll = new Promise<void>((resolve) => {
              const guard = setTimeout(resolve, 30_000);
              wake = () => (clearTimeout(guard), resolve());
            });
            const sent = monotonicMs();
            sentAt.set(id, sent);
            await putItem(endpoint, id);
            await arrivedAll;
            const s = seen.get(id)!;
            if (s.n < n) result.missing += n - s.n;
            if (s.n > 0) {
              result.first.push(s.first - sent);
              result.last.push(s.last - sent);
            }
          }
          await session.idle();
          const events = await session.take();
          for (const id of sentAt.keys()) {
            const d = events.find((e) => e.point === 'realtime.deliver' && e.region === region && e.ids.includes(id));
            const f = events.find((e) => e.point === 'realtime.sent' && e.region === region && e.ids.includes(id));
            if (d && f) result.serverSend.push(f.at - d.at);
          }
          counts.push(result);
        }
        const after = await session.rss({ gc: true });
        const subs = (await session.subscriptions()) - subsBefore;
        if (after.node !== null && before.node !== null && subs > 0) {
          const js = after.heapUsedMiB + after.externalMiB - (before.heapUsedMiB + before.externalMiB);
          memory = {
            subscriptions: subs,
            rssMiB: after.node - before.node,
            heapAndExternalMiB: js,
            kibPerSubscription: (js * 1024) / subs,
            rssKibPerSubscription: ((after.node - before.node) * 1024) / subs,
          };
        }
      } finally {
        for (const s of subscribers) s.close();
      }
    },
    async finish() {
      const rows: Row[] = [];
      const r0 = (s: Stats): Stats => ({ count: s.count, p50: Math.round(s.p50), p95: Math.round(s.p95), p99: Math.round(s.p99), max: Math.round(s.max) });
      for (const c of counts) {
        const row: Row = { case: `${c.subscribers.toLocaleString('en-US')} subscriber${c.subscribers > 1 ? 's' : ''} on ${region}: the last has it`, unit: 'ms' };
        if (c.last.length) {
          row.stats = r0(stats(c.last));
          const first = stats(c.first);
          row.extra = `first p50 ${Math.round(first.p50)} ms${c.serverSend.length ? `; the emulator writes every frame in ${Math.round(stats(c.serverSend).p50)} ms (p50)` : ''}`;
          row.detail = { first: r0(first), serverSend: c.serverSend.length ? r0(stats(c.serverSend)) : null, missingFrames: c.missing };
        }
        const target = TARGET_MS[c.subscribers];
        if (target !== undefined) {
          const met = !!row.stats && row.stats.p95 <= target && c.missing === 0;
          row.target = { text: `p95 ≤ ${target} ms`, met };
          if (!met) {
            const send = c.serverSend.length ? stats(c.serverSend).p50 : NaN;
            row.why = `${c.missing ? `${c.missing} frames never arrived; ` : ''}the emulator takes ${Math.round(send)} ms (p50) to write ${c.subscribers} frames; the rest is the clients' side (${
              c.subscribers
            } sockets read by one process here)`;
            row.fix = 'write each frame once for all subscribers with the same selection (serialise once, not per connection), and read the clients from more than one process';
          }
        }
        rows.push(row);
      }
      if (memory) {
        rows.push({
          case: `memory per idle subscription (${memory.subscriptions.toLocaleString('en-US')} on ${region})`,
          unit: 'KiB',
          figure: { label: 'heap + external', value: Math.round(memory.kibPerSubscription * 10) / 10, unit: 'KiB' },
          extra: `V8 heap and external memory of the emulator's main thread after a full GC; resident memory moved ${memory.rssKibPerSubscription.toFixed(
            1
          )} KiB per subscription (RSS keeps freed pages)`,
          detail: memory,
        });
      }
      return { available: true, rows };
    },
  };
}
