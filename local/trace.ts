/**
 * Opt-in timing probes: where a change passes through the emulator's pieces, so a benchmark (scripts/bench) can
 * split one write's way to a subscriber into hops (replication, stream poll, notifier, publish, fan-out). Nothing
 * listens unless a benchmark calls onTrace; the probes then cost one Set size check (`tracing()`), and callers
 * build an event only when it is true.
 *
 * Times are milliseconds on the machine's monotonic clock (process.hrtime), the same clock in every process of
 * the machine, so a client in another process can be compared with them.
 */
export type TracePoint =
  /** The replicator read a (non-echo) record from its source region's stream. */
  | 'replicator.read'
  /** The replicator applied it to a destination region's table. */
  | 'replicator.applied'
  /** A region's event source mapping hands a batch to the notifier function. */
  | 'notifier.invoke'
  /** The notifier function answered that batch. */
  | 'notifier.done'
  /** A region's AppSync endpoint received a GraphQL request (after auth), e.g. the notifier's publishItemChange. */
  | 'appsync.request'
  /** A published mutation result reaches the realtime endpoint (before any data frame is sent). */
  | 'realtime.deliver'
  /** The realtime endpoint has written the data frames of that result to every matching subscriber. */
  | 'realtime.sent';

export interface TraceEvent {
  point: TracePoint;
  /** monotonicMs() when the probe fired. */
  at: number;
  /** The region it happened in (for the replicator: the destination when applied, the source when read). */
  region?: string;
  /** What names the region when the piece does not know its name (an AppSync executor). */
  scope?: object;
  /** Item ids concerned. */
  ids?: readonly string[];
  /** Point-specific facts (source region, frames sent, the GraphQL query...). */
  detail?: Record<string, unknown>;
}

const listeners = new Set<(event: TraceEvent) => void>();

/** The monotonic clock in ms (fractional). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** True while someone listens: callers check it before building an event. */
export function tracing(): boolean {
  return listeners.size > 0;
}

export function trace(event: Omit<TraceEvent, 'at'>): void {
  const e = { ...event, at: monotonicMs() };
  for (const l of listeners) l(e);
}

/** Starts listening; returns the function that stops. */
export function onTrace(listener: (event: TraceEvent) => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

/** The string key values of stream records (the items table's `id`), for `ids`. */
export function recordIds(records: readonly { dynamodb?: { Keys?: Record<string, { S?: string }> } }[]): string[] {
  const ids: string[] = [];
  for (const r of records) for (const v of Object.values(r.dynamodb?.Keys ?? {})) if (typeof v?.S === 'string') ids.push(v.S);
  return ids;
}
