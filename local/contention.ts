/**
 * The contention front: a DynamoDB endpoint on 127.0.0.1 between the emulator (and the tests) and DynamoDB Local that
 * forwards every request unchanged, but answers as DynamoDB does where DynamoDB Local never would. DynamoDB Local
 * runs transactions one at a time and has no throughput limit, so without this front no local run can show a
 * transaction conflict or a hot partition key.
 *
 * Transaction conflicts, as the developer guide lists them
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling):
 * - a TransactWriteItems with an item that another ongoing TransactWriteItems includes is cancelled:
 *   TransactionCanceledException, CancellationReasons in request order, `TransactionConflict` ("Transaction is
 *   ongoing for the item.") at that item and `None` elsewhere, message "Transaction cancelled, please refer
 *   cancellation reasons for specific reasons [None, TransactionConflict]" (the shape DynamoDB Local itself gives a
 *   failed condition; reason codes and messages: TransactionCanceledException in
 *   https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html#API_TransactWriteItems_Errors);
 * - a PutItem, UpdateItem or DeleteItem of an item an ongoing TransactWriteItems includes fails with
 *   TransactionConflictException;
 * - a TransactGetItems with an item that an ongoing TransactWriteItems, BatchWriteItem, PutItem, UpdateItem or
 *   DeleteItem writes is cancelled the same way; and an ongoing TransactGetItems is cancelled when such a write of
 *   one of its items arrives while it runs (the TransactionCanceledException reference: "There is an ongoing
 *   TransactGetItems operation that conflicts with a concurrent PutItem, UpdateItem, DeleteItem or
 *   TransactWriteItems request"): its reply is replaced by the cancellation;
 * - a GetItem never conflicts ("both operations can succeed"), nor do Query, Scan and BatchGetItem (read-committed);
 * - a TransactWriteItems whose ClientRequestToken is already in flight gets TransactionInProgressException.
 * Where the guide is silent this front does not refuse: a transaction meeting an ongoing plain write, and a
 * BatchWriteItem meeting an ongoing transaction, both go through.
 *
 * "Ongoing" here is honest and no wider: an item is held from the moment this front has read the whole request until
 * it writes the reply back, i.e. for as long as the request really is in flight. DynamoDB Local serialises
 * transactions, so overlapping requests queue behind it and their windows overlap exactly when the callers' did.
 *
 * Throughput per partition key (the Service quotas page: a partition takes at most 3,000 read units and 1,000 write
 * units per second, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html), counted
 * over a sliding window of one second per region, table and partition key value. Units as DynamoDB counts them
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html), item sizes as
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html computes them:
 * - a write: 1 unit per KB of the item written, rounded up; in a transaction twice that (prepare and commit). The
 *   front does not read the stored item, so an UpdateItem, DeleteItem or ConditionCheck counts 1 unit (2 in a
 *   transaction) whatever the stored item's size: it never counts more than DynamoDB does;
 * - a read: 1 unit per 4 KB read, rounded up, strongly consistent; half that eventually consistent; twice that in a
 *   TransactGetItems. Charged at arrival for a 4 KB item, then topped up from the items in the reply. A Query counts
 *   against the partition its KeyConditionExpression names; a Scan spans the table and is not counted.
 * A request that would take a partition past its limit within the window is refused and consumes nothing:
 * ThrottlingException with throttlingReasons `Table{Read,Write}KeyRangeThroughputExceeded` on an on-demand table
 * (PAY_PER_REQUEST, as every table here: "For tables using on-demand mode, this exception might be returned for any
 * data plane API operation if your request rate is too high", Programming.Errors.html#Programming.Errors.MessagesAndCodes),
 * ProvisionedThroughputExceededException on a provisioned one; in a transaction the reason code is `ThrottlingError`
 * (on-demand) or `ProvisionedThroughputExceeded`. No burst allowance: DynamoDB can lend a partition unused capacity of
 * the last 300 s (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/burst-adaptive-capacity.html), this
 * front does not, so on a sustained hot key it throttles where DynamoDB would, on a short spike possibly earlier.
 * BatchWriteItem and BatchGetItem are counted but never refused (DynamoDB would hand throttled items back as
 * UnprocessedItems/UnprocessedKeys).
 *
 * The AWS SDK's standard retry strategy (the same code the handlers run against AWS) retries ThrottlingException,
 * ProvisionedThroughputExceededException and TransactionInProgressException as throttles, and neither
 * TransactionConflictException nor TransactionCanceledException. Requests the front does not understand (another
 * service, a body that is not JSON, a table it cannot describe) go through untouched.
 *
 * A caller that has gone: a request whose caller closed its connection before the front forwards it (the AWS SDK
 * aborting a call at an AppSync request's deadline, local/appsync/requestLimit.ts, or at a handler's time budget,
 * handlers/lib/budget.ts) is dropped, never forwarded, and `dropped` is emitted on `events`. On AWS a request
 * DynamoDB has not received cannot take effect; here a request can wait in front of DynamoDB Local (behind
 * beforeForward, or in consistency strong behind an item's lock in the synchronous replication front, which
 * drops it the same way), and forwarding it once its caller has gone would land a write after the caller gave up
 * on it, which the write bound (schema/rules.ts writeBoundMs) rules out. A request already forwarded is left to
 * complete, as DynamoDB completes a request it has received: the front only closes its own connection to the next
 * hop, so that a front behind it learns that the caller has gone.
 *
 * Counters per region and table (conflicts, throttles) are in `stats()`, which the admin API's /status shows.
 * Every write it forwarded that DynamoDB accepted (or that may have landed: its caller went while it was with
 * DynamoDB) is reported to `onWrite` (the emulator wakes its stream pollers with it: the front is where every write
 * of the regions' functions and resolvers passes).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AttributeValue } from 'aws-lambda';
import { listen, readBody } from './listen';
import { canonicalImage } from './replicator';

/** Per partition key and second (ServiceQuotas.html, "Throughput default quotas"). */
export const PARTITION_LIMITS = { writeUnitsPerSecond: 1_000, readUnitsPerSecond: 3_000 } as const;
export const WINDOW_MS = 1_000;

export interface ContentionOptions {
  /** Where requests go next: DynamoDB Local, or in consistency strong the synchronous replication front. */
  endpoint: string;
  /** Milliseconds clock for the throughput window (tests freeze it); default performance.now. */
  now?: () => number;
  /**
   * Called for every admitted request once its items are held, before it is forwarded: tests hold one request here
   * to make another overlap it (never set in the emulator).
   */
  beforeForward?: (request: AdmittedRequest) => Promise<void> | void;
  /**
   * Called once a write request (WRITE_TARGETS) was forwarded and answered 200, before the reply goes back: the
   * emulator pokes its stream pollers with it, so a write is read at once instead of after an idle pause. Also
   * called for a write forwarded whose caller went before its answer (DynamoDB may have applied it). Not for reads,
   * nor for writes refused here or by DynamoDB (they wrote nothing). An exception thrown here is logged.
   */
  onWrite?: (write: { target: string; region: string }) => void;
  log?: (line: string) => void;
}

export interface AdmittedRequest {
  target: string;
  region: string;
  /** The items the request holds, in request order. */
  items: Array<{ table: string; key: Item }>;
  /** Aborted when the caller closes its connection before its answer (the request is then not forwarded). */
  signal: AbortSignal;
}

/** A request the front did not forward because its caller had gone: emitted as `dropped` on `events`. */
export interface Dropped {
  region: string | undefined;
  target: string;
}

/** What the front refused: emitted as `conflict` or `throttle` on `events`. */
export interface Refusal {
  region: string;
  table: string;
  target: string;
  error: string;
}

export interface TableCounters {
  region: string;
  table: string;
  /** TransactWriteItems/TransactGetItems cancelled with a TransactionConflict reason. */
  transactionsCancelled: number;
  /** PutItem/UpdateItem/DeleteItem refused with TransactionConflictException. */
  conflictExceptions: number;
  /** TransactWriteItems refused with TransactionInProgressException. */
  transactionsInProgress: number;
  throttledWrites: number;
  throttledReads: number;
}

export interface ContentionStats {
  windowMs: number;
  limits: { writeUnitsPerSecond: number; readUnitsPerSecond: number };
  /** Requests through the front since it started. */
  requests: number;
  conflicts: number;
  throttles: number;
  tables: TableCounters[];
}

export interface ContentionFront {
  readonly url: string;
  stats(): ContentionStats;
  /** `conflict` and `throttle` (a Refusal each) as they happen; `dropped` (a Dropped) for each request not forwarded. */
  readonly events: EventEmitter;
  stop(): Promise<void>;
}

type Item = Record<string, AttributeValue>;

interface Schema {
  hash: string;
  range?: string;
  arn: string;
  onDemand: boolean;
}

type Kind = 'txWrite' | 'txRead' | 'write' | 'read';

interface Access {
  /** Position in the request (a transaction's CancellationReasons index). */
  index: number;
  table: string;
  key: Item;
  /** db, table, full primary key: what transactions hold. */
  item: string;
  /** db, table, partition key value: what the throughput limit is per. */
  partition: string;
  write: boolean;
  /** Units charged at arrival. */
  units: number;
  /** Eventually consistent read (half a unit per 4 KB). */
  eventual?: boolean;
}

interface Op {
  kind: Kind;
  accesses: Access[];
  /** TransactGetItems only: indexes a write arriving while it ran conflicts with. */
  conflicted?: Set<number>;
}

interface Plan {
  target: string;
  region: string;
  db: string;
  op: Op;
  schemas: Map<string, Schema>;
  token?: string;
  /** Partitions not counted (Scan) or refusals not applied (batches). */
  batch: boolean;
}

const SERVICE = 'DynamoDB_20120810';
const TRANSACTION_CONFLICT_MESSAGE = 'Transaction is ongoing for the item.';
const ON_DEMAND_THROTTLE_MESSAGE =
  'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html';
const PROVISIONED_THROTTLE_MESSAGE = 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';
const TABLE_CHANGES = new Set(['CreateTable', 'DeleteTable', 'UpdateTable']);
/** The requests that write items (and so stream records): what onWrite reports. */
export const WRITE_TARGETS: ReadonlySet<string> = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** DynamoDB's size of an attribute value in bytes (CapacityUnitCalculations.html; numbers approximately, as there). */
export function attributeSize(v: AttributeValue): number {
  const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
  const number = (n: string) => {
    const digits = n.replace(/^[+-]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
  };
  const binary = (b: unknown) => (typeof b === 'string' ? Buffer.from(b, 'base64').length : b instanceof Uint8Array ? b.length : 0);
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return number(v.N);
  if (v.B !== undefined) return binary(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((s, x) => s + utf8(x), 0);
  if (v.NS) return v.NS.reduce((s, x) => s + number(x), 0);
  if (v.BS) return v.BS.reduce((s, x) => s + binary(x), 0);
  if (v.L) return 3 + v.L.reduce((s, x) => s + 1 + attributeSize(x), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + utf8(k) + attributeSize(x), 0);
  return 0;
}

/** Bytes of an item: attribute names plus values. */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((s, [k, v]) => s + Buffer.byteLength(k, 'utf8') + attributeSize(v), 0);
}

const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));
const readUnits = (bytes: number, eventual: boolean): number => Math.max(1, Math.ceil(bytes / 4096)) * (eventual ? 0.5 : 1);

/** The access key and region a request is signed for: DynamoDB Local keeps one database per pair. */
function signedScope(authorization: string | undefined): { akid: string; region: string } | undefined {
  const m = /Credential=([^/]+)\/\d{8}\/([a-z0-9-]+)\/dynamodb\//.exec(authorization ?? '');
  return m ? { akid: m[1], region: m[2] } : undefined;
}

/** The partition key value a KeyConditionExpression fixes (`#pk = :v` or `pk = :v`), if it is one. */
function queryPartition(body: Record<string, unknown>, hash: string): AttributeValue | undefined {
  const expr = typeof body.KeyConditionExpression === 'string' ? body.KeyConditionExpression : '';
  const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (body.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>;
  for (const m of expr.matchAll(/(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)/g)) {
    const name = m[1].startsWith('#') ? names[m[1]] : m[1];
    if (name === hash) return values[m[2]];
  }
  return undefined;
}

class SlidingWindow {
  private readonly entries: Array<[number, number]> = [];
  private total = 0;
  used(now: number, windowMs: number): number {
    while (this.entries.length && this.entries[0][0] <= now - windowMs) this.total -= (this.entries.shift() as [number, number])[1];
    return this.total;
  }
  add(now: number, units: number): void {
    this.entries.push([now, units]);
    this.total += units;
  }
  get empty(): boolean {
    return this.entries.length === 0;
  }
}

export async function startContentionFront(o: ContentionOptions): Promise<ContentionFront> {
  const target = new URL(o.endpoint);
  const now = o.now ?? (() => performance.now());
  const log = o.log ?? ((line: string) => console.warn(line));
  const events = new EventEmitter();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const schemas = new Map<string, Promise<Schema | null>>();
  /** item → ops holding it */
  const holds = new Map<string, Set<Op>>();
  const tokens = new Set<string>();
  const windows = { read: new Map<string, SlidingWindow>(), write: new Map<string, SlidingWindow>() };
  const counters = new Map<string, TableCounters>();
  let requests = 0;
  let sweepIn = 4096;

  const count = (region: string, table: string, field: keyof Omit<TableCounters, 'region' | 'table'>) => {
    const k = `${region}\u0000${table}`;
    let c = counters.get(k);
    if (!c) counters.set(k, (c = { region, table, transactionsCancelled: 0, conflictExceptions: 0, transactionsInProgress: 0, throttledWrites: 0, throttledReads: 0 }));
    c[field] += 1;
  };

  /** One HTTP exchange with the next hop; the reply is read whole. `signal` closes the connection (the caller has gone). */
  const forward = (headers: http.IncomingHttpHeaders, body: Buffer, path = '/', signal?: AbortSignal): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(headers)) if (v !== undefined && !['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(k)) out[k] = v;
      out['content-length'] = body.length;
      const req = http.request({ host: target.hostname, port: target.port, path, method: 'POST', headers: out, agent, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h: http.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !['connection', 'transfer-encoding', 'keep-alive', 'date', 'server'].includes(k)) h[k] = v;
          resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
        });
      });
      req.on('error', reject);
      req.end(body);
    });

  const describe = (db: string, table: string, authorization: string): Promise<Schema | null> => {
    const k = `${db}\u0000${table}`;
    let s = schemas.get(k);
    if (!s) {
      s = forward(
        { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `${SERVICE}.DescribeTable`, authorization },
        Buffer.from(JSON.stringify({ TableName: table })),
      ).then((r) => {
        if (r.status !== 200) return null;
        const t = (JSON.parse(r.body.toString('utf8')) as { Table: { KeySchema: Array<{ AttributeName: string; KeyType: string }>; TableArn: string; BillingModeSummary?: { BillingMode?: string } } }).Table;
        return {
          hash: t.KeySchema.find((e) => e.KeyType === 'HASH')?.AttributeName ?? '',
          range: t.KeySchema.find((e) => e.KeyType === 'RANGE')?.AttributeName,
          arn: t.TableArn,
          // on-demand (PAY_PER_REQUEST, every table here), or else provisioned
          onDemand: t.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST',
        };
      });
      schemas.set(k, s);
      s.then((v) => v === null && schemas.delete(k), () => schemas.delete(k));
    }
    return s;
  };

  /** What the request touches, or null when the front passes it through untouched. */
  const plan = async (targetName: string, body: Record<string, unknown>, db: string, region: string, authorization: string): Promise<Plan | null> => {
    const tableSchemas = new Map<string, Schema>();
    const schemaOf = async (table: unknown): Promise<Schema | null> => {
      if (typeof table !== 'string') return null;
      const s = tableSchemas.get(table) ?? (await describe(db, table, authorization));
      if (s) tableSchemas.set(table, s);
      return s;
    };
    const accesses: Access[] = [];
    let failed = false;
    const add = async (index: number, table: unknown, key: Item | undefined, fromItem: Item | undefined, write: boolean, units: number, eventual?: boolean) => {
      const s = await schemaOf(table);
      const source = key ?? fromItem;
      if (!s || !source || !source[s.hash]) {
        failed = true;
        return;
      }
      const k: Item = { [s.hash]: source[s.hash] };
      if (s.range && source[s.range]) k[s.range] = source[s.range];
      accesses.push({ index, table: table as string, key: k, item: `${db}\u0000${String(table)}\u0000${canonicalImage(k)}`, partition: `${db}\u0000${String(table)}\u0000${canonicalImage(k[s.hash])}`, write, units, eventual });
    };
    let kind: Kind;
    let batch = false;
    let token: string | undefined;
    switch (targetName) {
      case 'PutItem':
        kind = 'write';
        await add(0, body.TableName, undefined, body.Item as Item, true, writeUnits(itemSize(body.Item as Item)));
        break;
      case 'UpdateItem':
      case 'DeleteItem':
        kind = 'write';
        await add(0, body.TableName, body.Key as Item, undefined, true, 1);
        break;
      case 'GetItem':
        kind = 'read';
        await add(0, body.TableName, body.Key as Item, undefined, false, readUnits(0, body.ConsistentRead !== true), body.ConsistentRead !== true);
        break;
      case 'Query': {
        kind = 'read';
        const s = await schemaOf(body.TableName);
        const pk = s ? queryPartition(body, s.hash) : undefined;
        if (!s || !pk || body.IndexName !== undefined) return null; // an index or an unparsed condition: not counted
        await add(0, body.TableName, { [s.hash]: pk }, undefined, false, readUnits(0, body.ConsistentRead !== true), body.ConsistentRead !== true);
        break;
      }
      case 'TransactWriteItems': {
        kind = 'txWrite';
        token = typeof body.ClientRequestToken === 'string' ? body.ClientRequestToken : undefined;
        const items = Array.isArray(body.TransactItems) ? (body.TransactItems as Array<Record<string, { TableName?: string; Key?: Item; Item?: Item }>>) : [];
        for (const [i, action] of items.entries()) {
          const [name, a] = Object.entries(action ?? {})[0] ?? [];
          if (!a) return null;
          await add(i, a.TableName, a.Key, a.Item, true, 2 * (name === 'Put' ? writeUnits(itemSize(a.Item)) : 1));
        }
        break;
      }
      case 'TransactGetItems': {
        kind = 'txRead';
        const items = Array.isArray(body.TransactItems) ? (body.TransactItems as Array<{ Get?: { TableName?: string; Key?: Item } }>) : [];
        for (const [i, action] of items.entries()) await add(i, action?.Get?.TableName, action?.Get?.Key, undefined, false, 2 * readUnits(0, false));
        break;
      }
      case 'BatchWriteItem': {
        kind = 'write';
        batch = true;
        let i = 0;
        for (const [table, reqs] of Object.entries((body.RequestItems ?? {}) as Record<string, Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>>)) {
          for (const r of reqs) await add(i++, table, r.DeleteRequest?.Key, r.PutRequest?.Item, true, r.PutRequest ? writeUnits(itemSize(r.PutRequest.Item)) : 1);
        }
        break;
      }
      case 'BatchGetItem': {
        kind = 'read';
        batch = true;
        let i = 0;
        for (const [table, spec] of Object.entries((body.RequestItems ?? {}) as Record<string, { Keys?: Item[]; ConsistentRead?: boolean }>)) {
          for (const k of spec.Keys ?? []) await add(i++, table, k, undefined, false, readUnits(0, spec.ConsistentRead !== true), spec.ConsistentRead !== true);
        }
        break;
      }
      default:
        return null;
    }
    if (failed || accesses.length === 0) return null;
    return { target: targetName, region, db, op: { kind, accesses, ...(kind === 'txRead' ? { conflicted: new Set<number>() } : {}) }, schemas: tableSchemas, token, batch };
  };

  const held = (item: string, kinds: Kind[]): Op[] => [...(holds.get(item) ?? [])].filter((op) => kinds.includes(op.kind));

  const window = (write: boolean, partition: string): SlidingWindow => {
    const m = write ? windows.write : windows.read;
    let w = m.get(partition);
    if (!w) m.set(partition, (w = new SlidingWindow()));
    return w;
  };

  const cancellation = (codes: Array<{ Code: string; Message?: string }>): Record<string, unknown> => ({
    __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
    CancellationReasons: codes,
    Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.map((c) => c.Code).join(', ')}]`,
  });

  const refuse = (p: Plan, table: string, kind: 'conflict' | 'throttle', error: string) => events.emit(kind, { region: p.region, table, target: p.target, error } satisfies Refusal);

  /**
   * Decides, synchronously, whether the request may go on; if so takes its holds and charges its units. Answers the
   * error body to send instead, or null.
   */
  const admit = (p: Plan): Record<string, unknown> | null => {
    const { op } = p;
    const n = op.kind === 'txWrite' || op.kind === 'txRead' ? Math.max(...op.accesses.map((a) => a.index)) + 1 : 0;
    // conflicts (transaction-conflict-handling, see the header)
    if (op.kind === 'txWrite' && p.token && tokens.has(`${p.db}\u0000${p.token}`)) {
      count(p.region, op.accesses[0].table, 'transactionsInProgress');
      refuse(p, op.accesses[0].table, 'conflict', 'TransactionInProgressException');
      return { __type: 'com.amazonaws.dynamodb.v20120810#TransactionInProgressException', Message: 'The transaction with the given request token is already in progress.' };
    }
    if (op.kind === 'txWrite' || op.kind === 'txRead') {
      const blocking: Kind[] = op.kind === 'txWrite' ? ['txWrite'] : ['txWrite', 'write'];
      const conflicting = new Set(op.accesses.filter((a) => held(a.item, blocking).length > 0).map((a) => a.index));
      if (conflicting.size > 0) {
        const table = op.accesses.find((a) => conflicting.has(a.index))!.table;
        count(p.region, table, 'transactionsCancelled');
        refuse(p, table, 'conflict', 'TransactionCanceledException');
        return cancellation(Array.from({ length: n }, (_, i) => (conflicting.has(i) ? { Code: 'TransactionConflict', Message: TRANSACTION_CONFLICT_MESSAGE } : { Code: 'None' })));
      }
    }
    if (op.kind === 'write' && !p.batch) {
      const a = op.accesses[0];
      if (held(a.item, ['txWrite']).length > 0) {
        count(p.region, a.table, 'conflictExceptions');
        refuse(p, a.table, 'conflict', 'TransactionConflictException');
        return { __type: 'com.amazonaws.dynamodb.v20120810#TransactionConflictException', message: 'Transaction is ongoing for the item' };
      }
    }
    // throughput per partition key over the window
    const t = now();
    if (!p.batch) {
      const need = new Map<string, { write: boolean; units: number; accesses: Access[] }>();
      for (const a of op.accesses) {
        const k = `${a.write ? 'w' : 'r'}${a.partition}`;
        const e = need.get(k) ?? { write: a.write, units: 0, accesses: [] };
        e.units += a.units;
        e.accesses.push(a);
        need.set(k, e);
      }
      const over: Access[] = [];
      for (const [k, e] of need) {
        const limit = e.write ? PARTITION_LIMITS.writeUnitsPerSecond : PARTITION_LIMITS.readUnitsPerSecond;
        if (window(e.write, k.slice(1)).used(t, WINDOW_MS) + e.units > limit) over.push(...e.accesses);
      }
      if (over.length > 0) {
        const first = over[0];
        const schema = p.schemas.get(first.table)!;
        count(p.region, first.table, first.write ? 'throttledWrites' : 'throttledReads');
        refuse(p, first.table, 'throttle', schema.onDemand ? 'ThrottlingException' : 'ProvisionedThroughputExceededException');
        if (op.kind === 'txWrite' || op.kind === 'txRead') {
          const idx = new Set(over.map((a) => a.index));
          const code = schema.onDemand ? 'ThrottlingError' : 'ProvisionedThroughputExceeded';
          return cancellation(Array.from({ length: n }, (_, i) => (idx.has(i) ? { Code: code, Message: schema.onDemand ? ON_DEMAND_THROTTLE_MESSAGE : PROVISIONED_THROTTLE_MESSAGE } : { Code: 'None' })));
        }
        const reasons = [{ reason: `Table${first.write ? 'Write' : 'Read'}${schema.onDemand ? 'KeyRangeThroughputExceeded' : 'ProvisionedThroughputExceeded'}`, resource: schema.arn }];
        return schema.onDemand
          ? { __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: ON_DEMAND_THROTTLE_MESSAGE, throttlingReasons: reasons }
          : { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: PROVISIONED_THROTTLE_MESSAGE, ThrottlingReasons: reasons };
      }
    }
    // admitted: charge the units, take the holds; a write arriving marks the ongoing TransactGetItems of its items
    for (const a of op.accesses) window(a.write, a.partition).add(t, a.units);
    if (op.kind === 'read') return null; // plain reads hold nothing: nothing conflicts with them
    for (const a of op.accesses) {
      if (op.kind === 'write' || op.kind === 'txWrite') for (const reader of held(a.item, ['txRead'])) for (const r of reader.accesses) if (r.item === a.item) reader.conflicted!.add(r.index);
      let s = holds.get(a.item);
      if (!s) holds.set(a.item, (s = new Set()));
      s.add(op);
    }
    if (p.token) tokens.add(`${p.db}\u0000${p.token}`);
    return null;
  };

  const release = (p: Plan): void => {
    for (const a of p.op.accesses) {
      const s = holds.get(a.item);
      s?.delete(p.op);
      if (s && s.size === 0) holds.delete(a.item);
    }
    if (p.token) tokens.delete(`${p.db}\u0000${p.token}`);
  };

  /** Reads are charged for a 4 KB item at arrival: add what the items in the reply cost beyond that. */
  const topUp = (p: Plan, reply: Buffer): void => {
    if (p.op.kind !== 'read' && p.op.kind !== 'txRead') return;
    let body: { Item?: Item; Items?: Item[]; Responses?: unknown };
    try {
      body = JSON.parse(reply.toString('utf8')) as typeof body;
    } catch {
      return;
    }
    const t = now();
    const extra = (a: Access, bytes: number, factor: number) => {
      const units = readUnits(bytes, a.eventual === true) * factor - a.units;
      if (units > 0) window(false, a.partition).add(t, units);
    };
    if (p.target === 'GetItem') extra(p.op.accesses[0], itemSize(body.Item), 1);
    else if (p.target === 'Query') extra(p.op.accesses[0], (body.Items ?? []).reduce((s, i) => s + itemSize(i), 0), 1);
    else if (p.target === 'TransactGetItems' && Array.isArray(body.Responses)) {
      for (const a of p.op.accesses) extra(a, itemSize((body.Responses as Array<{ Item?: Item }>)[a.index]?.Item), 2);
    } else if (p.target === 'BatchGetItem' && body.Responses && typeof body.Responses === 'object') {
      for (const [table, items] of Object.entries(body.Responses as Record<string, Item[]>)) {
        const s = p.schemas.get(table);
        if (!s) continue;
        for (const item of items) {
          const a = p.op.accesses.find((x) => x.table === table && canonicalImage(x.key[s.hash]) === canonicalImage(item[s.hash]) && (!s.range || canonicalImage(x.key[s.range]) === canonicalImage(item[s.range])));
          if (a) extra(a, itemSize(item), 1);
        }
      }
    }
  };

  /** Drops the windows of partitions idle for a whole window (every few thousand requests). */
  const sweep = () => {
    const t = now();
    for (const m of [windows.read, windows.write]) {
      for (const [k, w] of m) {
        w.used(t, WINDOW_MS);
        if (w.empty) m.delete(k);
      }
    }
  };

  const send = (res: http.ServerResponse, status: number, body: Record<string, unknown>) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    // the caller's connection closing before its answer is written: the caller has gone (see the header)
    const caller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) caller.abort();
    });
    void (async () => {
      let admitted: Plan | undefined;
      let scope: ReturnType<typeof signedScope>;
      let targetName = '';
      /** A DynamoDB write (onWrite hears it) */
      let isWrite = false;
      const wrote = () => {
        if (!o.onWrite || !isWrite || !scope) return;
        try {
          o.onWrite({ target: targetName, region: scope.region });
        } catch (err) {
          log(`contention front: onWrite: ${err instanceof Error ? err.message : String(err)}`);
        }
      };
      try {
        const raw = (await readBody(req, 16 * 1024 * 1024)) ?? Buffer.alloc(0);
        requests += 1;
        if ((sweepIn -= 1) <= 0) {
          sweepIn = 4096;
          sweep();
        }
        const [service, target = ''] = String(req.headers['x-amz-target'] ?? '').split('.');
        targetName = target;
        scope = signedScope(req.headers.authorization);
        isWrite = service === SERVICE && scope !== undefined && WRITE_TARGETS.has(targetName);
        let p: Plan | null = null;
        if (service === SERVICE && scope) {
          if (TABLE_CHANGES.has(targetName)) for (const k of [...schemas.keys()]) if (k.startsWith(`${scope.akid}/${scope.region}\u0000`)) schemas.delete(k);
          let body: Record<string, unknown> | undefined;
          try {
            body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
          } catch {
            body = undefined; // DynamoDB Local answers a body that is not JSON itself
          }
          if (body && typeof body === 'object') p = await plan(targetName, body, `${scope.akid}/${scope.region}`, scope.region, String(req.headers.authorization));
        }
        if (p) {
          const refusal = admit(p);
          if (refusal) return send(res, 400, refusal);
          admitted = p;
          await o.beforeForward?.({ target: p.target, region: p.region, items: p.op.accesses.map((a) => ({ table: a.table, key: a.key })), signal: caller.signal });
        }
        if (caller.signal.aborted) {
          events.emit('dropped', { region: scope?.region, target: targetName } satisfies Dropped);
          return;
        }
        const answer = await forward(req.headers, raw, req.url ?? '/', caller.signal);
        if (p && answer.status === 200) topUp(p, answer.body);
        if (answer.status === 200) wrote();
        const late = p?.op.conflicted;
        if (p && late && late.size > 0 && answer.status === 200) {
          // a write of one of its items arrived while this TransactGetItems ran: DynamoDB cancels the read
          const n = Math.max(...p.op.accesses.map((a) => a.index)) + 1;
          const table = p.op.accesses.find((a) => late.has(a.index))!.table;
          count(p.region, table, 'transactionsCancelled');
          refuse(p, table, 'conflict', 'TransactionCanceledException');
          release(p);
          admitted = undefined;
          return send(res, 400, cancellation(Array.from({ length: n }, (_, i) => (late.has(i) ? { Code: 'TransactionConflict', Message: TRANSACTION_CONFLICT_MESSAGE } : { Code: 'None' }))));
        }
        if (admitted) release(admitted);
        admitted = undefined;
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      } catch (err) {
        if (caller.signal.aborted) {
          // the caller went while its request was with the next hop: DynamoDB may have applied a write all the same,
          // so the stream pollers are still told (a poke for nothing costs one poll)
          wrote();
          return;
        }
        log(`contention front: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) send(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: err instanceof Error ? err.message : String(err) });
      } finally {
        if (admitted) release(admitted);
      }
    })();
  });
  await listen(server, 0);
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    url,
    events,
    stats(): ContentionStats {
      const tables = [...counters.values()].map((c) => ({ ...c })).sort((a, b) => a.region.localeCompare(b.region) || a.table.localeCompare(b.table));
      return {
        windowMs: WINDOW_MS,
        limits: { ...PARTITION_LIMITS },
        requests,
        conflicts: tables.reduce((s, c) => s + c.transactionsCancelled + c.conflictExceptions + c.transactionsInProgress, 0),
        throttles: tables.reduce((s, c) => s + c.throttledWrites + c.throttledReads, 0),
        tables,
      };
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // the SDK clients keep connections alive
      agent.destroy();
      await closed;
    },
  };
}
