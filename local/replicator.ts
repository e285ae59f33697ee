/**
 * What a DynamoDB global table (version 2019.11.21, multi-Region eventual consistency) does between regions, for
 * the local emulator: every region's writes to each replicated table (items and app-config) are applied to the same
 * table in every other region after that pair's lag, with last-writer-wins conflict resolution, no echo, and
 * pause/resume per region pair (the emulator's stand-in for AWS FIS aws:dynamodb:global-table-pause-replication).
 * AWS behaviour followed: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html
 * (asynchronous replication, conflicts resolved last writer wins, no attributes added to items).
 *
 * How:
 *   - one stream poller (./dynamodbStreams.ts) per region × table; each record that is not an echo is queued on every
 *     pair (from → to) in stream order, due at (first read time + lag(from, to)); a pair applies its queue strictly in
 *     order, one write at a time, to the destination's table in DynamoDB Local.
 *   - last writer wins, decided by DynamoDB itself with a conditional write, so a newer local item is never
 *     overwritten even if it lands between our read and write: an INSERT/MODIFY image is written only if the
 *     destination has no such item, or its item has no `updatedAt`, or an older one, or the same one and a lower
 *     region (its `updatedRegion`, else the destination region, against the image's `updatedRegion`, else the source
 *     region). updatedAt is compared as a string: the project writes ISO-8601 UTC from toISOString(), whose string
 *     order is time order. Images without a string `updatedAt` (e.g. drain flags) are applied unconditionally.
 *   - deletes: a REMOVE is timestamped with the later of (a) when the REMOVE was first read from the source stream
 *     (sub-ms resolution, ≤ one poll pause after the delete: see "Polling" below) and (b) the deleted image's updatedAt. (a) because a
 *     delete is a write that happened when it happened, so it beats every write with an earlier updatedAt and loses
 *     to later ones; (b) because the source accepted the delete after that write, so the delete must beat it (and
 *     every copy of it) even when the writer's clock ran ahead of ours — otherwise the other replicas would keep an
 *     item their source no longer has. Ties go to the delete. It is applied with
 *     `attribute_not_exists(updatedAt) OR updatedAt <= :deleteTime`. The replicator keeps a tombstone (region, table,
 *     key → latest delete time) so that an older write that arrives after the delete does not resurrect the item
 *     (DynamoDB keeps tombstones too); tombstones live in memory for the replicator's lifetime.
 *   - no echo, with no bookkeeping attribute on items: before each replicated write the replicator remembers
 *     (destination, table, key, canonical hash of the written image | "REMOVE"); the destination's stream record
 *     matching it is consumed and not replicated again. A write that changes nothing (condition failed, identical
 *     image, delete of an absent item) produces no stream record, so its expectation is dropped at once; expectations
 *     left over for a minute are dropped too.
 *   - lag per pair: a number (all pairs), 'realistic' (./latency.ts), or a function (from, to) → ms; default 0.
 *     Measured lag (stats) = apply time − the source record's first read time, both high-resolution clocks.
 *   - DynamoDB Local errors while applying are remembered per pair (lastError) and retried with backoff; the record
 *     stays at the head of its pair's queue, so order is kept (and idle() waits for it).
 * Where this differs from DynamoDB: DynamoDB orders conflicting writes by its own internal per-item write time, never
 * by an attribute. Here the writer's `updatedAt` stands in for it — every write path of this project (resolvers,
 * items λ, state updater) sets it at write time from the machine's one clock, so locally the two orders agree; an
 * item written by something else without `updatedAt` falls back to arrival order (unconditional apply), and the
 * tie-break on region name is this emulator's own rule (DynamoDB documents none).
 * After a pause, a pair resumes only once the destination's own streams are read up to date, so deletes made there
 * during the pause are tombstones before the queued writes arrive.
 * Adding and removing a region (the emulator's add-region / remove-region), as DynamoDB adds a replica to a live table —
 * replication to the new replica starts first, then the existing data is copied, writes never stop:
 *   - addRegion: the pairs into and out of the region exist from one instant on (created synchronously, between two
 *     stream batches), so every record read after it is queued for the new region as well; its streams are read
 *     from their first record.
 *   - backfill: first waits until every record the other regions' streams held has been applied among them (so the
 *     source holds every write acknowledged before the pairs existed, or something newer), then scans the source's
 *     tables (strongly consistent) and writes each item with the replicated writes' last-writer-wins condition and
 *     the tombstones: a copied old image never overwrites a newer replicated one or resurrects a replicated delete;
 *     an image without `updatedAt` only fills an absent item. Its writes are expected echoes, never replicated back.
 *   - catchUp: resolves once everything the other streams held when it was called is applied to the new region.
 *   - drainOut / removeRegion: every write the region accepted is applied everywhere, then its pairs and pollers go.
 * Known limit: a client's own delete in the destination is known to the replicator only once that region's stream
 * has been read (≤ one poll pause later); an older replicated write landing inside that window can recreate the
 * item there. Replicated writes to one item are serialised, so deletes that come through the replicator have no
 * such window.
 * Polling: the streams are read every 2 × intervalMs (≤ 50 ms) while records come; a quiet stream's pause grows to
 * idleMaxMs (./dynamodbStreams.ts, "Pacing"). poke() wakes every poller (the emulator calls it for each write its
 * DynamoDB front accepted), and each replicated write wakes its destination's pollers, so a poll pause after a
 * write is 2 × intervalMs; a write nothing signals is read within idleMaxMs.
 */
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { performance } from 'node:perf_hooks';
import { DynamoDBLocalError, jsonCall, MAX_IDLE_MS, recordSeenAt, type StreamPoller, startStreamPoller } from './dynamodbStreams';
import { realisticLagMs } from './latency';
import { HASH_KEY } from '../schema/tables';
import { recordIds, trace, tracing } from './trace';

export interface ReplicatorOptions {
  endpoint: string;
  regions: string[];
  /** Every replicated table (both the items and app-config tables); same name in every region. */
  tables: string[];
  lagMs?: number | 'realistic' | ((from: string, to: string) => number);
  /** Milliseconds between scheduler passes and stream polls; ≤ 50, default 10. */
  intervalMs?: number;
  /**
   * The longest pause between polls of a quiet stream (startStreamPoller's idleMaxMs, ./dynamodbStreams.ts);
   * default: the poll interval (no backoff). poke() and every replicated write wake the pollers.
   */
  idleMaxMs?: number;
  /** Called with the destination region after each replicated write that changed it (the emulator pokes that region's notifier). */
  onWrite?: (region: string) => void;
  from?: 'TRIM_HORIZON' | 'LATEST';
  log?: (line: string) => void;
}

export interface PairStats {
  from: string;
  to: string;
  paused: boolean;
  configuredLagMs: number;
  pending: number;
  lastLagMs: number | null;
  maxLagMs: number | null;
  /** Replicated writes that changed the destination. */
  applied: number;
  /** Replicated writes the destination refused because it held a newer item (last writer wins) or a newer delete. */
  superseded: number;
  lastError: string | null;
}

export interface ReplicatorTotals {
  /** Stream records read in any region and replicated (not echoes). */
  sourceRecords: number;
  /** Stream records recognised as the echo of a replicated write and not replicated again. */
  echoesSkipped: number;
}

export interface Replicator {
  /** No args: every pair; `from` only: every pair out of it; `to` only (from undefined): every pair into it. */
  pause(from?: string, to?: string): void;
  resume(from?: string, to?: string): void;
  /**
   * The pause drill's target (FIS pauses ONE replica): consistency strong only (./syncReplication.ts), where the
   * targeted replica refuses writes and strongly consistent reads while the others keep a majority. Absent here.
   */
  isolate?(region: string, isolated: boolean): void;
  stats(): PairStats[];
  totals(): ReplicatorTotals;
  /** Resolves when every stream has been read up to date and nothing is pending on unpaused pairs. */
  idle(): Promise<void>;
  /**
   * Something may have been written to a replicated table: the stream pollers read soon (StreamPoller.poke). The
   * replicator pokes a destination's pollers itself after its own writes. Absent under strong consistency.
   */
  poke?(): void;
  /**
   * Adding a region, as DynamoDB adds a replica to a live table (see "Adding and removing a region" in the header):
   * `addRegion` starts replicating to and from `region` (its tables must exist, empty), at once; `backfill` then
   * copies every item from `source` without overwriting a newer one; `catchUp` resolves once every write other
   * regions' streams held when it was called has been applied to `region`. Absent under strong consistency.
   */
  addRegion?(region: string): Promise<void>;
  backfill?(region: string, source: string): Promise<BackfillStats>;
  catchUp?(region: string): Promise<void>;
  /** Removing one: `drainOut` resolves once every write `region` had accepted is applied everywhere; then `removeRegion`. */
  drainOut?(region: string): Promise<void>;
  removeRegion?(region: string): Promise<void>;
  stop(): Promise<void>;
}

export interface BackfillStats {
  /** items read from the source's tables */
  scanned: number;
  /** items written to the new region */
  copied: number;
  /** items not written: the new region already held a newer image (replicated meanwhile) or a newer delete */
  newerThere: number;
}

interface Pending {
  table: string;
  record: DynamoDBRecord;
  /** First read of the source record (epoch ms, fractional). */
  seenAt: number;
  /** For a REMOVE: its last-writer-wins time (see header). */
  deleteAt: number;
  dueAt: number;
  /** Order of enqueueing over every pair (a pair's queue is in seq order): what catchUp waits for. */
  seq: number;
}

interface Pair {
  from: string;
  to: string;
  paused: boolean;
  lagMs: number;
  queue: Pending[];
  busy: boolean;
  notBefore: number;
  /** Set on resume until the destination's own streams are read up to date (see resume). */
  catchingUp?: boolean;
  failures: number;
  lastLagMs: number | null;
  maxLagMs: number | null;
  applied: number;
  superseded: number;
  lastError: string | null;
}

const ECHO_TTL_MS = 60_000;

const now = (): number => performance.timeOrigin + performance.now();

/** Canonical JSON of DynamoDB attribute values: map keys sorted, set members sorted (lists keep their order). */
export function canonicalImage(value: unknown): string {
  const norm = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) {
      const items = v.map((x) => norm(x));
      return key === 'SS' || key === 'NS' || key === 'BS' ? items.map((x) => JSON.stringify(x)).sort() : items;
    }
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, norm((v as Record<string, unknown>)[k], k)]),
      );
    }
    return v;
  };
  return JSON.stringify(norm(value));
}

function resolveLag(lag: ReplicatorOptions['lagMs']): (from: string, to: string) => number {
  const check = (from: string, to: string, ms: unknown): number => {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new Error(`replicator lagMs for ${from} → ${to} must be a finite number ≥ 0, got ${String(ms)}`);
    return ms;
  };
  if (lag === undefined) return () => 0;
  if (lag === 'realistic') return realisticLagMs;
  if (typeof lag === 'number') {
    check('every pair', '', lag);
    return () => lag;
  }
  if (typeof lag === 'function') return (from, to) => check(from, to, lag(from, to));
  throw new Error(`replicator lagMs must be a number, 'realistic' or a function (from, to) → ms, got ${JSON.stringify(lag)}`);
}

export async function startReplicator(o: ReplicatorOptions): Promise<Replicator> {
  const given = o?.regions;
  if (!Array.isArray(given) || given.length < 2 || new Set(given).size !== given.length || given.some((r) => typeof r !== 'string' || !r)) {
    throw new Error(`replicator regions must be at least two distinct region names, got ${JSON.stringify(given)}`);
  }
  if (!Array.isArray(o.tables) || o.tables.length === 0 || o.tables.some((t) => typeof t !== 'string' || !t)) {
    throw new Error(`replicator tables must be a non-empty list of table names, got ${JSON.stringify(o.tables)}`);
  }
  const regions = [...o.regions];
  const intervalMs = o.intervalMs ?? 10;
  if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 50) throw new Error(`replicator intervalMs must be an integer from 1 to 50, got ${intervalMs}`);
  const pollMs = Math.min(intervalMs * 2, 50);
  const idleMaxMs = o.idleMaxMs ?? pollMs;
  if (!Number.isInteger(idleMaxMs) || idleMaxMs < pollMs || idleMaxMs > MAX_IDLE_MS) {
    throw new Error(`replicator idleMaxMs must be an integer from the stream poll interval (${pollMs} ms) to ${MAX_IDLE_MS}, got ${String(o.idleMaxMs)}`);
  }
  const lagOf = resolveLag(o.lagMs);
  const log = o.log ?? ((line: string) => console.warn(line));
  const { endpoint } = o;

  const pairs = new Map<string, Pair>();
  const addPair = (from: string, to: string): void => {
    pairs.set(`${from}\u0000${to}`, {
      from,
      to,
      paused: false,
      lagMs: lagOf(from, to),
      queue: [],
      busy: false,
      notBefore: 0,
      failures: 0,
      lastLagMs: null,
      maxLagMs: null,
      applied: 0,
      superseded: 0,
      lastError: null,
    });
  };
  for (const from of regions) for (const to of regions) if (from !== to) addPair(from, to);
  const totals: ReplicatorTotals = { sourceRecords: 0, echoesSkipped: 0 };
  let enqueued = 0;
  /** (region, table, key) → expected echoes of our own writes. */
  const echoes = new Map<string, { hash: string; at: number }[]>();
  /** (region, table, key) → latest delete time (epoch ms). */
  const tombstones = new Map<string, number>();
  const slot = (region: string, table: string, keys: unknown): string => `${region}\u0000${table}\u0000${canonicalImage(keys)}`;

  const expectEcho = (k: string, hash: string): { hash: string; at: number } => {
    const entry = { hash, at: now() };
    const list = echoes.get(k) ?? [];
    list.push(entry);
    echoes.set(k, list);
    return entry;
  };
  const forgetEcho = (k: string, entry: { hash: string; at: number }): void => {
    const list = echoes.get(k);
    if (!list) return;
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) echoes.delete(k);
  };
  const consumeEcho = (k: string, hash: string): boolean => {
    const list = echoes.get(k);
    if (!list) return false;
    const t = now();
    const live = list.filter((e) => t - e.at < ECHO_TTL_MS);
    const i = live.findIndex((e) => e.hash === hash);
    if (i >= 0) live.splice(i, 1);
    if (live.length === 0) echoes.delete(k);
    else echoes.set(k, live);
    return i >= 0;
  };

  const recordHash = (r: DynamoDBRecord): string => (r.eventName === 'REMOVE' ? 'REMOVE' : canonicalImage(r.dynamodb?.NewImage));
  const recordTime = (r: DynamoDBRecord): number => recordSeenAt(r) ?? Number(r.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000;
  /** A delete's LWW time (see header): when it was read, but never before the write it deleted. */
  const deleteTime = (r: DynamoDBRecord, seenAt: number): number => {
    const deleted = Date.parse(r.dynamodb?.OldImage?.updatedAt?.S ?? '');
    return Number.isNaN(deleted) ? seenAt : Math.max(seenAt, deleted);
  };

  const handleFrom = (region: string, table: string) => async (records: DynamoDBRecord[]): Promise<number> => {
    for (const r of records) {
      const k = slot(region, table, r.dynamodb?.Keys);
      if (consumeEcho(k, recordHash(r))) {
        totals.echoesSkipped += 1;
        continue;
      }
      const seenAt = recordTime(r);
      const lwwAt = r.eventName === 'REMOVE' ? deleteTime(r, seenAt) : seenAt;
      if (r.eventName === 'REMOVE') tombstones.set(k, Math.max(tombstones.get(k) ?? 0, lwwAt));
      totals.sourceRecords += 1;
      if (tracing()) trace({ point: 'replicator.read', region, ids: recordIds([r]), detail: { table } });
      for (const pair of pairs.values()) {
        if (pair.from !== region) continue;
        enqueued += 1;
        pair.queue.push({ table, record: r, seenAt, deleteAt: lwwAt, dueAt: seenAt + pair.lagMs, seq: enqueued });
      }
    }
    return records.length;
  };

  const call = <T>(region: string, target: string, payload: unknown): Promise<T> => jsonCall<T>(endpoint, region, 'DynamoDB_20120810', target, payload);
  const conditionFailed = (err: unknown): boolean => err instanceof DynamoDBLocalError && err.code === 'ConditionalCheckFailedException';

  /** Tail of the chain of replicated writes per (destination, table, key): one at a time per item. */
  const keyLocks = new Map<string, Promise<void>>();

  /**
   * Applies one record to the pair's destination; answers whether it changed the destination. Writes to one item
   * from different source regions run one after another, so a write's tombstone check never races a delete of the
   * same item still in flight (DynamoDB evaluates each condition atomically; the tombstone is ours).
   */
  const apply = async (pair: Pair, p: Pending, backfill = false): Promise<boolean> => {
    const keys = p.record.dynamodb?.Keys ?? {};
    const k = slot(pair.to, p.table, keys);
    const previous = keyLocks.get(k) ?? Promise.resolve();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => gate);
    keyLocks.set(k, tail);
    await previous;
    try {
      const changed = await applyNow(pair, p, k, backfill);
      // the write is a stream record in the destination: its echo for our pollers, a change for its notifier
      if (changed) {
        for (const q of pollersOf.get(pair.to) ?? []) q.poke();
        o.onWrite?.(pair.to);
      }
      return changed;
    } finally {
      release();
      if (keyLocks.get(k) === tail) keyLocks.delete(k);
    }
  };

  /** backfill: a copied old image, never a change — without `updatedAt` it only fills an absent item. */
  const applyNow = async (pair: Pair, p: Pending, k: string, backfill: boolean): Promise<boolean> => {
    const { record, table } = p;
    const keys = record.dynamodb?.Keys ?? {};
    const keyName = Object.keys(keys)[0];
    if (!keyName) throw new Error(`stream record ${record.dynamodb?.SequenceNumber} of ${pair.from}/${table} has no Keys`);

    if (record.eventName === 'REMOVE') {
      const deleteIso = new Date(p.deleteAt).toISOString();
      const entry = expectEcho(k, 'REMOVE');
      try {
        const out = await call<{ Attributes?: Record<string, AttributeValue> }>(pair.to, 'DeleteItem', {
          TableName: table,
          Key: keys,
          ReturnValues: 'ALL_OLD',
          ConditionExpression: 'attribute_not_exists(#u) OR #u <= :t',
          ExpressionAttributeNames: { '#u': 'updatedAt' },
          ExpressionAttributeValues: { ':t': { S: deleteIso } },
        });
        tombstones.set(k, Math.max(tombstones.get(k) ?? 0, p.deleteAt));
        if (!out.Attributes) forgetEcho(k, entry); // nothing was there: no stream record
        return out.Attributes !== undefined;
      } catch (err) {
        forgetEcho(k, entry);
        if (conditionFailed(err)) return false;
        throw err;
      }
    }

    const image = record.dynamodb?.NewImage;
    if (!image) throw new Error(`${record.eventName} record ${record.dynamodb?.SequenceNumber} of ${pair.from}/${table} has no NewImage (the stream must be NEW_AND_OLD_IMAGES)`);
    const updatedAt = image.updatedAt?.S;
    let condition: Record<string, unknown> = {};
    if (typeof updatedAt === 'string') {
      const region = image.updatedRegion?.S ?? pair.from;
      const tomb = tombstones.get(k);
      const incoming = Date.parse(updatedAt);
      // An absent item may be absent because of a newer delete: then only an existing older item may be replaced.
      const absentOk = tomb === undefined || Number.isNaN(incoming) || incoming > tomb;
      // A local item without updatedRegion counts as written in the destination region.
      const localUnnamedLoses = pair.to < region;
      const newer = `attribute_not_exists(#u) OR #u < :u OR (#u = :u AND (#r < :r${localUnnamedLoses ? ' OR attribute_not_exists(#r)' : ''}))`;
      condition = {
        ConditionExpression: absentOk ? `attribute_not_exists(#k) OR (${newer})` : `attribute_exists(#k) AND (${newer})`,
        ExpressionAttributeNames: { '#k': keyName, '#u': 'updatedAt', '#r': 'updatedRegion' },
        ExpressionAttributeValues: { ':u': { S: updatedAt }, ':r': { S: region } },
      };
    } else if (backfill) {
      condition = { ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': keyName } };
    }
    const hash = canonicalImage(image);
    const entry = expectEcho(k, hash);
    try {
      const out = await call<{ Attributes?: Record<string, AttributeValue> }>(pair.to, 'PutItem', { TableName: table, Item: image, ReturnValues: 'ALL_OLD', ...condition });
      const unchanged = out.Attributes !== undefined && canonicalImage(out.Attributes) === hash;
      if (unchanged) forgetEcho(k, entry); // DynamoDB writes no stream record for a write that changes nothing
      return !unchanged;
    } catch (err) {
      forgetEcho(k, entry);
      if (conditionFailed(err)) return false;
      throw err;
    }
  };

  const drain = async (pair: Pair): Promise<void> => {
    pair.busy = true;
    try {
      while (!stopped && !pair.paused && pair.queue.length > 0) {
        const head = pair.queue[0];
        if (head.dueAt > now() || Date.now() < pair.notBefore) break;
        try {
          const changed = await apply(pair, head);
          const lag = now() - head.seenAt;
          pair.lastLagMs = lag;
          pair.maxLagMs = Math.max(pair.maxLagMs ?? 0, lag);
          if (changed) pair.applied += 1;
          else pair.superseded += 1;
          if (tracing()) trace({ point: 'replicator.applied', region: pair.to, ids: recordIds([head.record]), detail: { from: pair.from, table: head.table, changed } });
          pair.queue.shift();
          pair.failures = 0;
        } catch (err) {
          pair.failures += 1;
          const message = err instanceof Error ? err.message : String(err);
          if (pair.lastError !== message) log(`replicator ${pair.from} → ${pair.to}: ${message}; retrying`);
          pair.lastError = message;
          pair.notBefore = Date.now() + Math.min(intervalMs * 2 ** pair.failures, 2000);
          break;
        }
      }
    } finally {
      pair.busy = false;
    }
  };

  let stopped = false;
  const pollers: StreamPoller[] = [];
  const pollersOf = new Map<string, StreamPoller[]>();
  const startPollers = async (region: string, from: 'TRIM_HORIZON' | 'LATEST'): Promise<void> => {
    for (const table of o.tables) {
      const poller = await startStreamPoller({ endpoint, region, table, intervalMs: pollMs, idleMaxMs, batchSize: 1000, from, handle: handleFrom(region, table), log });
      pollers.push(poller);
      pollersOf.set(region, [...(pollersOf.get(region) ?? []), poller]);
    }
  };
  try {
    for (const region of regions) await startPollers(region, o.from ?? 'TRIM_HORIZON');
  } catch (err) {
    await Promise.all(pollers.map((p) => p.stop()));
    throw err;
  }

  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    for (const pair of pairs.values()) {
      if (pair.busy || pair.paused || pair.catchingUp || pair.queue.length === 0) continue;
      const head = pair.queue[0];
      if (head.dueAt > now() || Date.now() < pair.notBefore) continue;
      const run = drain(pair).finally(() => inFlight.delete(run));
      inFlight.add(run);
    }
  }, intervalMs);

  const select = (from: string | undefined, to: string | undefined): Pair[] => {
    for (const [name, r] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (r !== undefined && !regions.includes(r)) throw new Error(`replicator: ${name} ${JSON.stringify(r)} is not one of the regions ${regions.join(', ')}`);
    }
    if (from !== undefined && from === to) throw new Error(`replicator: ${from} → ${to} is not a region pair`);
    return [...pairs.values()].filter((p) => (from === undefined || p.from === from) && (to === undefined || p.to === to));
  };

  /** Has the pair applied every record enqueued up to `seq` (its queue is in seq order; the head leaves once applied)? */
  const appliedThrough = (p: Pair, seq: number): boolean => p.queue.length === 0 || p.queue[0].seq > seq;
  const waitUntil = async (what: string, done: () => boolean): Promise<void> => {
    while (!done()) {
      if (stopped) throw new Error(`replicator stopped while waiting for ${what}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  };
  const caughtUpOf = (which: (region: string) => boolean): Promise<void[]> => Promise.all([...pollersOf].filter(([r]) => which(r)).flatMap(([, ps]) => ps.map((q) => q.caughtUp())));
  /** Every record the streams of `sources` held when called is applied by the pairs `selected` picks (none may be paused). */
  const barrier = async (what: string, sources: (region: string) => boolean, selected: (p: Pair) => boolean): Promise<void> => {
    const paused = [...pairs.values()].filter((p) => selected(p) && p.paused);
    if (paused.length > 0) throw new Error(`${what}: replication ${paused.map((p) => `${p.from} → ${p.to}`).join(', ')} is paused; resume it first`);
    await caughtUpOf(sources);
    const marker = enqueued;
    await waitUntil(what, () => [...pairs.values()].filter(selected).every((p) => appliedThrough(p, marker)));
  };
  const known = (region: string, what: string): void => {
    if (!regions.includes(region)) throw new Error(`replicator ${what}: ${JSON.stringify(region)} is not one of the regions ${regions.join(', ')}`);
  };

  const quiet = (): boolean => [...pairs.values()].every((p) => p.paused || (p.queue.length === 0 && !p.busy && !p.catchingUp));
  const waitQuiet = async (): Promise<void> => {
    while (!stopped && !quiet()) await new Promise((r) => setTimeout(r, intervalMs));
  };

  return {
    pause(from, to) {
      for (const p of select(from, to)) p.paused = true;
    },
    resume(from, to) {
      for (const p of select(from, to)) {
        if (!p.paused) continue;
        p.paused = false;
        // Writes made in the destination during the pause (a client's own delete, say) must be known — as tombstones —
        // before the queued writes land there, or an older queued write could recreate a deleted item: the queue waits
        // until the destination's streams have been read up to now.
        p.catchingUp = true;
        void Promise.all((pollersOf.get(p.to) ?? []).map((q) => q.settled()))
          .catch(() => {})
          .finally(() => (p.catchingUp = false));
      }
    },
    stats: () =>
      [...pairs.values()].map((p) => ({
        from: p.from,
        to: p.to,
        paused: p.paused,
        configuredLagMs: p.lagMs,
        pending: p.queue.length,
        lastLagMs: p.lastLagMs,
        maxLagMs: p.maxLagMs,
        applied: p.applied,
        superseded: p.superseded,
        lastError: p.lastError,
      })),
    totals: () => ({ ...totals }),
    poke() {
      for (const q of pollers) q.poke();
    },
    async addRegion(region) {
      if (typeof region !== 'string' || !region || regions.includes(region)) throw new Error(`replicator addRegion: ${JSON.stringify(region)} is empty or already one of the regions ${regions.join(', ')}`);
      const paused = [...pairs.values()].filter((p) => p.paused);
      if (paused.length > 0) throw new Error(`replicator addRegion ${region}: replication ${paused.map((p) => `${p.from} → ${p.to}`).join(', ')} is paused; resume it first (the copy must see every write)`);
      // synchronously, between two stream batches: every record read from now on is queued for the new region too
      for (const other of regions) {
        addPair(other, region);
        addPair(region, other);
      }
      regions.push(region);
      // its tables are new and empty: from their first record (the copy's own writes are expected echoes)
      await startPollers(region, 'TRIM_HORIZON');
    },
    async backfill(region, source) {
      known(region, 'backfill');
      known(source, 'backfill source');
      if (region === source) throw new Error(`replicator backfill: ${region} cannot be filled from itself`);
      // Writes read before the new pairs existed were queued only between the old regions: once they are applied,
      // `source` holds every write acknowledged before that moment (or something newer), and everything later is
      // queued for `region` as well.
      await barrier(`backfill of ${region}`, (r) => r !== region, (p) => p.to !== region && p.from !== region);
      const pair = pairs.get(`${source}\u0000${region}`) as Pair;
      const stats: BackfillStats = { scanned: 0, copied: 0, newerThere: 0 };
      for (const table of o.tables) {
        let start: Record<string, AttributeValue> | undefined;
        do {
          const page: { Items?: Record<string, AttributeValue>[]; LastEvaluatedKey?: Record<string, AttributeValue> } = await call(source, 'Scan', { TableName: table, ConsistentRead: true, Limit: 500, ...(start ? { ExclusiveStartKey: start } : {}) });
          const items = page.Items ?? [];
          stats.scanned += items.length;
          // a few writes at a time: one item's writes are serialised by its key lock either way
          for (let i = 0; i < items.length; i += 16) {
            const done = await Promise.all(
              items.slice(i, i + 16).map((item) => {
                const keys = { [HASH_KEY]: item[HASH_KEY] }; // both tables' key (schema/tables.ts)
                const record = { eventName: 'INSERT', dynamodb: { Keys: keys, NewImage: item } } as DynamoDBRecord;
                const t = now();
                return apply(pair, { table, record, seenAt: t, deleteAt: t, dueAt: t, seq: 0 }, true);
              }),
            );
            for (const changed of done) if (changed) stats.copied += 1;
            else stats.newerThere += 1;
          }
          start = page.LastEvaluatedKey;
        } while (start);
      }
      return stats;
    },
    async catchUp(region) {
      known(region, 'catchUp');
      await barrier(`catch-up of ${region}`, (r) => r !== region, (p) => p.to === region);
    },
    async drainOut(region) {
      known(region, 'drainOut');
      await barrier(`replication out of ${region}`, (r) => r === region, (p) => p.from === region);
    },
    async removeRegion(region) {
      known(region, 'removeRegion');
      const gone = [...pairs.entries()].filter(([, p]) => p.from === region || p.to === region);
      for (const [, p] of gone) p.paused = true; // a pair being drained stops after its current write
      await waitUntil(`the pairs of ${region} to finish their current write`, () => gone.every(([, p]) => !p.busy));
      for (const [k] of gone) pairs.delete(k);
      const own = pollersOf.get(region) ?? [];
      pollersOf.delete(region);
      await Promise.all(own.map((q) => q.stop()));
      for (const q of own) pollers.splice(pollers.indexOf(q), 1);
      regions.splice(regions.indexOf(region), 1);
      for (const k of [...tombstones.keys(), ...echoes.keys()]) if (k.startsWith(`${region}\u0000`)) {
        tombstones.delete(k);
        echoes.delete(k);
      }
    },
    async idle() {
      for (;;) {
        const before = enqueued;
        await Promise.all(pollers.map((p) => p.settled()));
        await waitQuiet();
        // Replicated writes come back as stream records in their destinations: read them too (they are echoes).
        await Promise.all(pollers.map((p) => p.settled()));
        if (stopped || (enqueued === before && quiet())) return;
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inFlight]);
      await Promise.all(pollers.map((p) => p.stop()));
    },
  };
}
