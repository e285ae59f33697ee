/**
 * What a multi-Region strongly consistent (MRSC) global table does between regions, for the emulator in
 * `consistency: strong`: a write is in every region's table before it is acknowledged, so a read in any region
 * right after the ack sees it (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html).
 *
 * How: a small DynamoDB front on 127.0.0.1 that every emulated region's functions and resolvers use as their
 * DynamoDB endpoint (instead of DynamoDB Local directly). It forwards every request unchanged; for a write to a
 * replicated table (PutItem, UpdateItem, DeleteItem, BatchWriteItem) it holds the item's lock across all regions,
 * forwards the write to the caller's region, and when DynamoDB Local accepted it, reads the item back there
 * (consistent read) and writes that image — or the delete — to the same table in every other region, and only then
 * answers the caller. Conditions are evaluated by DynamoDB Local in the caller's region, which holds every
 * acknowledged write (writes to one item are serialised), so a conditional write sees the latest version in every
 * region, as MRSC promises. Every region's table gets each change as an ordinary write, so every region's stream
 * carries every change and each region's notifier publishes it, as with MRSC streams (identical on every replica).
 * The asynchronous replicator (./replicator.ts) does not run in this mode.
 *
 * Concurrent writes to one item: from one region they are serialised (the later waits for the earlier, as one
 * replica's table orders them); from two regions the later is refused with ReplicatedWriteConflictException, "one or
 * more items in the request are being modified by a request in another Region"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#API_PutItem_Errors). The item is
 * in flight from the moment this front has the request until it answers (the write and its copies to every region),
 * no longer. The exception is modelled retryable, so the AWS SDK's standard strategy retries it (up to 3 attempts in
 * all) as it would against AWS; a BatchWriteItem with any such item is refused whole. TransactWriteItems/
 * TransactGetItems and PartiQL are refused, as MRSC refuses transactions (PartiQL would bypass the replication here).
 * The contention front (./contention.ts) sits in front of this one: the regions' requests meet transaction
 * conflicts and per-partition throughput there, and the copies made here go straight to DynamoDB Local, as a global
 * table's replication is the service's own traffic.
 *
 * Pause (the drill, ./drills.ts): the region the pause targets (FIS pauses one replica) is cut off. MRSC answers
 * AccessDeniedException to writes and strongly consistent reads on a replica whose replication is not authorized
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-security.html), so this front does
 * the same for requests from that region; writes elsewhere still succeed (two of three MRSC regions) and their copies
 * to the cut-off region wait in order until it is resumed.
 * Each write that lands in a region — the caller's, once DynamoDB Local accepted it, and every copy, late ones on
 * resume included — is reported to `onWrite(region)`: the emulator wakes that region's notifier loop with it.
 *
 * A caller that has gone: a request whose caller closed its connection before this front forwards it is dropped,
 * never forwarded, and `dropped` ({region, target}) is emitted on `events`. On AWS a write cannot take effect
 * before DynamoDB has received it, and MRSC refuses a conflicting write from another region rather than queueing
 * it; here a write from the same region waits for the item's lock as long as the write ahead of it takes, so
 * forwarding it whenever the lock frees could land it after its caller gave up (an AppSync request past its limit,
 * local/appsync/requestLimit.ts; an items function past its time budget), which the write bound (schema/rules.ts
 * writeBoundMs) rules out. A request already forwarded to DynamoDB Local is left to complete, copies included, as
 * DynamoDB completes a request it has received.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AttributeValue } from 'aws-lambda';
import { canonicalImage, type PairStats, type Replicator, type ReplicatorTotals } from './replicator';
import { jsonCall } from './dynamodbStreams';
import { listen, readBody } from './listen';

export interface SyncReplicationOptions {
  /** DynamoDB Local */
  endpoint: string;
  regions: string[];
  /** the replicated tables (items and app-config) */
  tables: string[];
  log?: (line: string) => void;
  /**
   * Called for every write to a replicated table once it holds its items, before it is forwarded: tests hold one
   * write here to make a write from another region overlap it (never set in the emulator). `signal` is aborted when
   * the write's caller closes its connection before its answer (the write is then not forwarded).
   */
  beforeForward?: (region: string, items: Array<{ table: string; key: Item }>, signal: AbortSignal) => Promise<void> | void;
  /**
   * Called with the region after each write to a replicated table lands there: the caller's (answered 200) and each
   * copy, including copies applied late, on resume. The emulator pokes that region's notifier with it.
   */
  onWrite?: (region: string) => void;
}

export interface SyncReplication extends Replicator {
  /** the DynamoDB endpoint the regions use */
  readonly url: string;
  /** Writes refused with ReplicatedWriteConflictException, per region (the refused request's) and table. */
  writeConflicts(): Array<{ region: string; table: string; count: number }>;
  /**
   * `conflict` ({region, table}) for each ReplicatedWriteConflictException as it is sent; `queued` ({region,
   * table}) for each write that waits for an item another write of its region holds; `dropped` ({region, target})
   * for each request not forwarded because its caller had gone.
   */
  readonly events: EventEmitter;
}

type Item = Record<string, AttributeValue>;
interface Copy {
  table: string;
  key: Item;
  image: Item | null;
  from: string;
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const REFUSED = new Set(['TransactWriteItems', 'TransactGetItems', 'ExecuteTransaction', 'ExecuteStatement', 'BatchExecuteStatement']);
const CONSISTENT_READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);

/** The region a request is signed for (its credential scope), as DynamoDB Local itself picks the database. */
export function signedRegion(authorization: string | undefined): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/dynamodb\//.exec(authorization ?? '')?.[1];
}

export async function startSyncReplication(o: SyncReplicationOptions): Promise<SyncReplication> {
  const { endpoint, regions, tables } = o;
  const log = o.log ?? ((line: string) => console.warn(line));
  const keySchemas = new Map<string, string[]>();
  const locks = new Map<string, Promise<void>>();
  /** destination → copies waiting while it is cut off, in order */
  const waiting = new Map<string, Copy[]>(regions.map((r) => [r, []]));
  const paused = new Set<string>(); // "from>to"
  const applied = new Map<string, number>(); // "from>to" → copies applied
  const totals: ReplicatorTotals = { sourceRecords: 0, echoesSkipped: 0 };
  let inFlight = 0;
  let stopped = false;
  /** (table, key) → the region whose writes to it are in flight, and how many */
  const writing = new Map<string, { region: string; n: number }>();
  const conflicts = new Map<string, { region: string; table: string; count: number }>();
  const events = new EventEmitter();

  /** regions the pause drill targets (FaultControls.pauseReplication with `region`) */
  const isolated = new Set<string>();
  const cutOff = (region: string): boolean => isolated.has(region);

  const keyNames = async (region: string, table: string): Promise<string[]> => {
    let names = keySchemas.get(table);
    if (!names) {
      const d = await jsonCall<{ Table: { KeySchema: { AttributeName: string }[] } }>(endpoint, region, 'DynamoDB_20120810', 'DescribeTable', { TableName: table });
      names = d.Table.KeySchema.map((k) => k.AttributeName);
      keySchemas.set(table, names);
    }
    return names;
  };
  const keyOf = (names: string[], item: Item): Item => Object.fromEntries(names.map((n) => [n, item[n]]));

  /**
   * Runs `fn` holding every (table, key) lock, taken in a fixed order (no deadlock between batches); `queued` is
   * emitted when one of them is held by another write (of the same region: another region's is refused before).
   */
  const withLocks = async <T>(region: string, slots: string[], fn: () => Promise<T>): Promise<T> => {
    const sorted = [...new Set(slots)].sort();
    const releases: Array<() => void> = [];
    for (const s of sorted) {
      const held = locks.get(s);
      if (held) events.emit('queued', { region, table: s.slice(0, s.indexOf('\u0000')) });
      const previous = held ?? Promise.resolve();
      let release!: () => void;
      const tail = previous.then(() => new Promise<void>((r) => (release = r)));
      locks.set(s, tail);
      await previous;
      releases.push(() => {
        release();
        if (locks.get(s) === tail) locks.delete(s);
      });
    }
    try {
      return await fn();
    } finally {
      for (const r of releases.reverse()) r();
    }
  };

  const wrote = (region: string): void => {
    try {
      o.onWrite?.(region);
    } catch (err) {
      log(`sync replication: onWrite: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const applyCopy = async (to: string, c: Copy): Promise<void> => {
    if (c.image) await jsonCall(endpoint, to, 'DynamoDB_20120810', 'PutItem', { TableName: c.table, Item: c.image });
    else await jsonCall(endpoint, to, 'DynamoDB_20120810', 'DeleteItem', { TableName: c.table, Key: c.key });
    applied.set(`${c.from}>${to}`, (applied.get(`${c.from}>${to}`) ?? 0) + 1);
    wrote(to);
  };

  /** The caller's write was accepted in `from`: copy each item's resulting image (or its absence) to every other region. */
  const replicate = async (from: string, items: Array<{ table: string; key: Item }>): Promise<void> => {
    for (const { table, key } of items) {
      const got = await jsonCall<{ Item?: Item }>(endpoint, from, 'DynamoDB_20120810', 'GetItem', { TableName: table, Key: key, ConsistentRead: true });
      const copy: Copy = { table, key, image: got.Item ?? null, from };
      totals.sourceRecords += 1;
      await Promise.all(
        regions
          .filter((r) => r !== from)
          .map(async (to) => {
            const queue = waiting.get(to)!;
            if (paused.has(`${from}>${to}`) || queue.length > 0) queue.push(copy); // order kept behind earlier copies
            else await applyCopy(to, copy);
          }),
      );
    }
  };

  /** Which replicated items a write request touches (undefined: not a replicated table). */
  const touched = async (region: string, target: string, body: Record<string, unknown>): Promise<Array<{ table: string; key: Item }>> => {
    const out: Array<{ table: string; key: Item }> = [];
    const add = async (table: string, key: Item | undefined, item: Item | undefined) => {
      if (!tables.includes(table)) return;
      const names = await keyNames(region, table);
      out.push({ table, key: key ?? keyOf(names, item ?? {}) });
    };
    if (target === 'BatchWriteItem') {
      for (const [table, reqs] of Object.entries((body.RequestItems ?? {}) as Record<string, Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>>)) {
        for (const r of reqs) await add(table, r.DeleteRequest?.Key, r.PutRequest?.Item);
      }
    } else {
      await add(String(body.TableName), body.Key as Item | undefined, body.Item as Item | undefined);
    }
    return out;
  };

  const error = (res: http.ServerResponse, type: string, message: string): void => {
    res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }));
  };

  const forward = async (req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; text: string }> => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
    const r = await fetch(endpoint, { method: 'POST', headers, body });
    const out: Record<string, string> = {};
    for (const k of ['content-type', 'x-amzn-requestid', 'x-amz-crc32']) {
      const v = r.headers.get(k);
      if (v) out[k] = v;
    }
    return { status: r.status, headers: out, text: await r.text() };
  };

  const server = http.createServer((req, res) => {
    // the caller's connection closing before its answer is written: the caller has gone (see the header)
    const caller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) caller.abort();
    });
    void (async () => {
      inFlight += 1;
      try {
        const raw = (await readBody(req, 16 * 1024 * 1024)) ?? Buffer.alloc(0);
        const [service, target = ''] = String(req.headers['x-amz-target'] ?? '').split('.');
        const region = signedRegion(req.headers.authorization);
        let body: Record<string, unknown> = {};
        try {
          body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
        } catch {
          body = {};
        }
        const isTables = service === 'DynamoDB_20120810' && region !== undefined && regions.includes(region);
        if (isTables && REFUSED.has(target)) {
          return error(res, 'ValidationException', `${target} is not supported on multi-Region strongly consistent tables (the emulator runs consistency strong)`);
        }
        if (isTables && cutOff(region) && (WRITES.has(target) || (CONSISTENT_READS.has(target) && body.ConsistentRead === true))) {
          return error(res, 'AccessDeniedException', `replication of ${region} is paused (aws:dynamodb:global-table-pause-replication): an MRSC replica cut off refuses writes and strongly consistent reads`);
        }
        const items = isTables && WRITES.has(target) ? await touched(region, target, body) : [];
        const slots = [...new Set(items.map((i) => `${i.table}\u0000${canonicalImage(i.key)}`))];
        // from here to the holds below nothing awaits: two writes cannot both find an item free
        const taken = slots.map((s) => writing.get(s));
        const other = taken.findIndex((w) => w !== undefined && w.region !== region);
        if (other >= 0) {
          const table = items.find((i) => `${i.table}\u0000${canonicalImage(i.key)}` === slots[other])?.table ?? '';
          const k = `${region}\u0000${table}`;
          const c = conflicts.get(k) ?? { region: region as string, table, count: 0 };
          c.count += 1;
          conflicts.set(k, c);
          events.emit('conflict', { region, table });
          return error(res, 'ReplicatedWriteConflictException', `The request was rejected because one or more items in the request are being modified by a request in another Region.`);
        }
        for (const s of slots) {
          const w = writing.get(s);
          if (w) w.n += 1;
          else writing.set(s, { region: region as string, n: 1 });
        }
        const run = async () => {
          if (items.length > 0) await o.beforeForward?.(region as string, items.map((i) => ({ table: i.table, key: i.key })), caller.signal);
          // the item's lock is ours (or none was needed): forward, unless the caller has gone while it waited
          if (caller.signal.aborted) {
            events.emit('dropped', { region, target });
            return null;
          }
          const answer = await forward(req, raw);
          if (answer.status === 200 && items.length > 0) {
            wrote(region as string);
            await replicate(region as string, items);
          }
          return answer;
        };
        let answer: Awaited<ReturnType<typeof run>>;
        try {
          answer = slots.length > 0 ? await withLocks(region as string, slots, run) : await run();
        } finally {
          for (const s of slots) {
            const w = writing.get(s)!;
            w.n -= 1;
            if (w.n === 0) writing.delete(s);
          }
        }
        if (!answer) return; // dropped: nobody to answer
        res.writeHead(answer.status, answer.headers);
        res.end(answer.text);
      } catch (err) {
        log(`sync replication: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) error(res, 'InternalServerError', err instanceof Error ? err.message : String(err));
      } finally {
        inFlight -= 1;
      }
    })();
  });
  await listen(server, 0);
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  /** Applies the copies waiting for `to` once nothing into it is paused any more. */
  const flush = async (to: string): Promise<void> => {
    const queue = waiting.get(to)!;
    while (queue.length > 0 && !paused.has(`${queue[0].from}>${to}`)) {
      await applyCopy(to, queue[0]);
      queue.shift();
    }
  };
  let flushing: Promise<unknown> = Promise.resolve();
  const select = (from?: string, to?: string): Array<[string, string]> =>
    regions.flatMap((a) => regions.filter((b) => b !== a).map((b) => [a, b] as [string, string])).filter(([a, b]) => (from === undefined || a === from) && (to === undefined || b === to));

  return {
    url,
    events,
    writeConflicts: () => [...conflicts.values()].map((c) => ({ ...c })),
    isolate(region, on) {
      if (!regions.includes(region)) throw new Error(`sync replication: ${region} is not one of ${regions.join(', ')}`);
      if (on) isolated.add(region);
      else isolated.delete(region);
    },
    pause(from, to) {
      for (const [a, b] of select(from, to)) paused.add(`${a}>${b}`);
    },
    resume(from, to) {
      for (const [a, b] of select(from, to)) paused.delete(`${a}>${b}`);
      flushing = flushing.then(() => Promise.all(regions.map((r) => flush(r)))).catch((err: unknown) => log(`sync replication: ${String(err)}`));
    },
    stats: (): PairStats[] =>
      select().map(([from, to]) => ({
        from,
        to,
        paused: paused.has(`${from}>${to}`),
        configuredLagMs: 0,
        pending: waiting.get(to)!.filter((c) => c.from === from).length,
        lastLagMs: null,
        maxLagMs: null,
        applied: applied.get(`${from}>${to}`) ?? 0,
        superseded: 0,
        lastError: null,
      })),
    totals: () => ({ ...totals }),
    async idle() {
      await flushing;
      while (!stopped && inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    },
    async stop() {
      stopped = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // the SDK clients keep connections alive
      await closed;
    },
  };
}
