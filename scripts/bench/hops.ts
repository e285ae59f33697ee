/**
 * One write's way to a subscriber, split into hops from the emulator's trace events (local/trace.ts) and the
 * client's own send and arrival times, all on the machine's monotonic clock:
 *
 *   replication  the write sent → the replicator applied it in the subscriber's region (0 for a subscriber in the
 *                writer's region; includes the write itself and the replicator's read of the writer's stream)
 *   stream poll  → that region's event source mapping hands the record to the notifier (from the write sent, for
 *                a subscriber in the writer's region)
 *   notifier     → the notifier's publishItemChange reaches the region's AppSync endpoint (the function's work,
 *                SigV4 signing, the HTTP call)
 *   publish      → AppSync hands the published result to its realtime endpoint (auth, the resolver)
 *   fan-out      → the subscriber's client has the data frame
 *
 * The hops add up to the end-to-end time exactly.
 */
import type { HopEvent } from './emulatorHost';
import { stats, type Stats } from './series';

export const HOPS = ['replication', 'stream poll', 'notifier', 'publish', 'fan-out'] as const;
export type Hop = (typeof HOPS)[number];

/** The first time each (point, region, id) happened. */
export function firstTimes(events: readonly HopEvent[]): Map<string, number> {
  const first = new Map<string, number>();
  for (const e of events) {
    for (const id of e.ids) {
      const k = `${e.point}|${e.region}|${id}`;
      if (!first.has(k)) first.set(k, e.at);
    }
  }
  return first;
}

/**
 * The hops of one write (id) to a subscriber in `region`, written in `writer`; undefined when a probe is missing
 * (the write was not traced, e.g. it failed).
 */
export function hopsOf(first: Map<string, number>, id: string, writer: string, region: string, sent: number, arrived: number): Record<Hop, number> | undefined {
  const t = (point: string): number | undefined => first.get(`${point}|${region}|${id}`);
  const applied = region === writer ? sent : t('replicator.applied');
  const invoke = t('notifier.invoke');
  const request = t('appsync.request');
  const deliver = t('realtime.deliver');
  if (applied === undefined || invoke === undefined || request === undefined || deliver === undefined) return undefined;
  return { replication: applied - sent, 'stream poll': invoke - applied, notifier: request - invoke, publish: deliver - request, 'fan-out': arrived - deliver };
}

/** Per hop, the distribution over many writes. */
export function hopStats(all: readonly Record<Hop, number>[]): Record<Hop, Stats> | undefined {
  if (all.length === 0) return undefined;
  return Object.fromEntries(HOPS.map((h) => [h, stats(all.map((x) => x[h]))])) as Record<Hop, Stats>;
}

/** What would shorten each hop in the emulator (for a row that misses its target). */
export const HOP_FIX: Record<Hop, string> = {
  replication: 'the replicator reads each source stream every 25 ms and applies one write at a time per region pair (local/replicator.ts): read more often, or apply different items in parallel',
  'stream poll': 'each notifier loop is woken by every write the replicator or the contention front passes, then polls every 50 ms while records come (EMULATOR_POLL_MS, local/dynamodbStreams.ts): poll more often',
  notifier:
    "the notifier runs in a worker thread sharing the machine's cores with everything else; one batch is in flight per stream (Lambda's own rule): more lanes (parallelizationFactor) or less CPU per publish",
  publish: "AppSync's executor runs publishItemChange's resolver in the emulator's event loop: a lighter resolver path, or fewer concurrent requests",
  'fan-out': 'frames are written one connection after another on one event loop: a cheaper projection per subscriber, or batching frames',
};

/** The hop that weighs most at p99 (where a miss comes from). */
export function heaviestHop(h: Record<Hop, Stats>): Hop {
  return HOPS.reduce((a, b) => (h[b].p99 > h[a].p99 ? b : a));
}
