/**
 * DynamoDB Streams on DynamoDB Local, read through its JSON API (DescribeStream, GetShardIterator, GetRecords) with
 * records shaped exactly as Lambda delivers them in a DynamoDB stream event. Two ways in:
 *   - readStreamRecords: every record so far, once (tests);
 *   - startStreamPoller: a long-running poller (the emulator's notifier loops and replicator) that hands records to
 *     a callback in stream order and hands the ones it did not finish over again, like an event source mapping.
 * (@aws-sdk/client-dynamodb-streams would do the same calls; a few JSON POSTs avoid the dependency.)
 *
 * Where DynamoDB Local differs from the documented Lambda event, records are normalised
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, sample event; StreamRecord in the DynamoDB Streams
 * API reference, https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_StreamRecord.html):
 *   - awsRegion: DynamoDB Local says "ddblocal"; the poller puts the emulated region.
 *   - eventSourceARN: added (Lambda adds it); the stream ARN with the emulated region instead of "ddblocal"
 *     (`streamArn` is that ARN; the poller keeps DynamoDB Local's own ARN for its calls).
 *   - dynamodb.ApproximateCreationDateTime: AWS gives epoch seconds "rounded down to the closest second"; DynamoDB
 *     Local rounds down to the minute. The poller uses the second it first read the record, clamped into DynamoDB
 *     Local's minute (at most its start + 59 s), so the value is a whole epoch second and never past the minute
 *     DynamoDB Local recorded the write in. The first read follows the write by at most one pause between polls
 *     (see "Pacing") plus a round: that is ≤ intervalMs + a round whenever records flow or the poller is poked,
 *     ≤ idleMaxMs + a round after a quiet spell with nothing poking it. While that is under a second (the emulator:
 *     50 ms, or 250 ms unpoked) the value is AWS's second, or the next one when the read falls past a second
 *     boundary, never earlier than the write's own second (after a polling error the backoff, up to 2 s, can make it
 *     a later second; the clamp into the minute still holds). The first-read time at full resolution (epoch ms with a
 *     fraction) is available through recordSeenAt(record).
 * Everything else (eventID, eventName, eventVersion "1.1", eventSource "aws:dynamodb", Keys, NewImage, OldImage,
 * SequenceNumber, SizeBytes, StreamViewType) is passed through as DynamoDB Local returns it.
 *
 * Shards: a shard is read only once its parent shard is finished (stream order per key survives a split). A closed
 * shard's GetRecords answers no NextShardIterator; once its records are all handled the poller calls DescribeStream
 * again and moves on to the child shards (DynamoDB Local closes its one shard when the stream is disabled; it never
 * splits). An expired or invalid iterator (ExpiredIteratorException, or DynamoDB Local's "Invalid ShardIterator") is
 * re-fetched at once with AFTER_SEQUENCE_NUMBER from the last record read (or the starting position if none was read
 * yet); so is one that answers TrimmedDataAccessException (DynamoDB Local answers that for an iterator taken while
 * its shard was still empty), and if even that position is trimmed the shard restarts at TRIM_HORIZON. Any other error while polling is remembered (lastError) and
 * retried with exponential backoff (intervalMs doubling up to 2 s); the poller never throws into the process.
 *
 * Pacing: after a round that read a record (or left records to hand over again) the next poll is intervalMs later.
 * After a quiet round the pause doubles, up to idleMaxMs (default intervalMs: no backoff), so an idle stream costs
 * a few GetRecords a second instead of one every intervalMs — Lambda itself polls a DynamoDB stream shard "at a
 * base rate of 4 times per second" (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, "Polling and
 * batching streams"), which is the emulator's idle cap (EMULATOR_IDLE_MAX_MS). A writer that knows it wrote calls
 * poke(): the poller polls at once unless its next poll is due within intervalMs anyway, and pauses only intervalMs
 * after the next round to end (the write may have landed after that round read its shard). Pokes during that pause
 * change nothing but keep the next one short, so a burst of writes costs one poll every intervalMs — as while
 * records flow — not one per write, on every stream poked. settled() and caughtUp() wake a sleeping poller the same
 * way, and keep the pauses at intervalMs while they wait, so whoever waits for a state never waits out an idle pause.
 */
import { performance } from 'node:perf_hooks';
import type { DynamoDBRecord, StreamRecord } from 'aws-lambda';

/**
 * How often the emulator's notifier loops and replicator read each stream while records flow: within the
 * notifier's 50 ms bound and faster than Lambda's base (idle) rate of 4 polls a shard a second.
 */
export const EMULATOR_POLL_MS = 50;
/**
 * The longest pause between two polls of an idle stream in the emulator: Lambda's own base rate of 4 polls a second
 * (see "Pacing" in the header). Writes through the emulator's DynamoDB front poke the pollers, so they are read
 * after EMULATOR_POLL_MS at most; a write that nothing signals is read within this.
 */
export const EMULATOR_IDLE_MAX_MS = 250;

/** An error answered by DynamoDB Local, with its `__type` short name (e.g. ExpiredIteratorException). */
export class DynamoDBLocalError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DynamoDBLocalError';
  }
}

type Service = 'DynamoDB_20120810' | 'DynamoDBStreams_20120810';

/** One JSON API call to DynamoDB Local as `region` (a DynamoDBLocalError when it answers non-200). */
export async function jsonCall<T>(endpoint: string, region: string, service: Service, target: string, payload: unknown): Promise<T> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `${service}.${target}`,
      // DynamoDB Local keeps one database per access key and region; it does not check the signature itself.
      authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  if (res.status !== 200) {
    let code = `HTTP${res.status}`;
    let message = text;
    try {
      const body = JSON.parse(text) as { __type?: string; Message?: string; message?: string };
      code = body.__type?.split('#').pop() ?? code;
      message = body.Message ?? body.message ?? text;
    } catch {
      // not JSON: keep the raw text
    }
    throw new DynamoDBLocalError(code, res.status, `${service.startsWith('DynamoDBStreams') ? 'DynamoDB Streams' : 'DynamoDB'} ${target} (${region}): ${code}: ${message}`);
  }
  return JSON.parse(text) as T;
}

interface RawShard {
  ShardId: string;
  ParentShardId?: string;
  SequenceNumberRange?: { StartingSequenceNumber?: string; EndingSequenceNumber?: string };
}
interface RawStreamDescription {
  StreamArn: string;
  StreamStatus?: string;
  Shards: RawShard[];
  LastEvaluatedShardId?: string;
}

/** The table's current stream ARN as DynamoDB Local names it (region "ddblocal"). */
export async function localStreamArn(endpoint: string, region: string, table: string): Promise<string> {
  const desc = await jsonCall<{ Table?: { LatestStreamArn?: string; StreamSpecification?: { StreamEnabled?: boolean } } }>(
    endpoint,
    region,
    'DynamoDB_20120810',
    'DescribeTable',
    { TableName: table },
  );
  const arn = desc.Table?.LatestStreamArn;
  if (!arn) throw new Error(`table ${table} in ${region} has no stream (create it with a NEW_AND_OLD_IMAGES stream)`);
  return arn;
}

/** The stream ARN as AWS (and Lambda's eventSourceARN) would show it: DynamoDB Local's, with the emulated region. */
export function awsStreamArn(localArn: string, region: string): string {
  return localArn.replace(/^arn:aws:dynamodb:[^:]*:/, `arn:aws:dynamodb:${region}:`);
}

async function describeShards(endpoint: string, region: string, arn: string): Promise<{ status: string | undefined; shards: RawShard[] }> {
  const shards: RawShard[] = [];
  let status: string | undefined;
  let start: string | undefined;
  for (let page = 0; page < 1000; page += 1) {
    const out = await jsonCall<{ StreamDescription: RawStreamDescription }>(endpoint, region, 'DynamoDBStreams_20120810', 'DescribeStream', {
      StreamArn: arn,
      ...(start ? { ExclusiveStartShardId: start } : {}),
    });
    status = out.StreamDescription.StreamStatus;
    shards.push(...out.StreamDescription.Shards);
    start = out.StreamDescription.LastEvaluatedShardId;
    if (!start) break;
  }
  return { status, shards };
}

const seenAt = new WeakMap<object, number>();

/** When the poller first read this record: epoch milliseconds at sub-millisecond resolution (undefined for other objects). */
export function recordSeenAt(record: DynamoDBRecord): number | undefined {
  return seenAt.get(record);
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** One record as DynamoDB Local returns it → the record as Lambda delivers it (see the header). */
export function toLambdaRecord(raw: DynamoDBRecord, region: string, streamArn: string, seenAtMs: number): DynamoDBRecord {
  const d = raw.dynamodb ?? {};
  const rawTime = Number(d.ApproximateCreationDateTime);
  const seenSec = Math.floor(seenAtMs / 1000);
  let approx = seenSec;
  if (Number.isFinite(rawTime) && rawTime > 0) {
    const floor = Math.floor(rawTime);
    // Minute-aligned (DynamoDB Local): the read second, kept within that minute; otherwise already per-second.
    approx = floor % 60 === 0 ? Math.max(floor, Math.min(seenSec, floor + 59)) : floor;
  }
  const dynamodb: StreamRecord = { ApproximateCreationDateTime: approx, Keys: d.Keys };
  if (d.NewImage !== undefined) dynamodb.NewImage = d.NewImage;
  if (d.OldImage !== undefined) dynamodb.OldImage = d.OldImage;
  dynamodb.SequenceNumber = d.SequenceNumber;
  dynamodb.SizeBytes = d.SizeBytes;
  dynamodb.StreamViewType = d.StreamViewType;
  const record: DynamoDBRecord = {
    eventID: raw.eventID,
    eventName: raw.eventName,
    eventVersion: raw.eventVersion,
    eventSource: raw.eventSource ?? 'aws:dynamodb',
    awsRegion: region,
    dynamodb,
    eventSourceARN: streamArn,
  };
  if (raw.userIdentity !== undefined) record.userIdentity = raw.userIdentity;
  seenAt.set(record, seenAtMs);
  return record;
}

/** Orders two stream sequence numbers (decimal strings of any length). */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Every record of the table's stream so far (from TRIM_HORIZON), in sequence-number order, as DynamoDB Local returns them plus eventSourceARN. */
export async function readStreamRecords(endpoint: string, region: string, table: string): Promise<DynamoDBRecord[]> {
  const arn = await localStreamArn(endpoint, region, table);
  const { shards } = await describeShards(endpoint, region, arn);
  const records: DynamoDBRecord[] = [];
  for (const shard of shards) {
    let { ShardIterator: it } = await jsonCall<{ ShardIterator?: string }>(endpoint, region, 'DynamoDBStreams_20120810', 'GetShardIterator', {
      StreamArn: arn,
      ShardId: shard.ShardId,
      ShardIteratorType: 'TRIM_HORIZON',
    });
    for (let page = 0; it && page < 50; page += 1) {
      const out = await jsonCall<{ Records: DynamoDBRecord[]; NextShardIterator?: string }>(endpoint, region, 'DynamoDBStreams_20120810', 'GetRecords', {
        ShardIterator: it,
        Limit: 1000,
      });
      if (out.Records.length === 0) break;
      records.push(...out.Records.map((r) => ({ ...r, eventSourceARN: arn })));
      it = out.NextShardIterator;
    }
  }
  return records.sort((a, b) => compareSequenceNumbers(a.dynamodb!.SequenceNumber!, b.dynamodb!.SequenceNumber!));
}

// ── The poller ───────────────────────────────────────────────────────────────────────────────────────────────

export interface StreamPollerOptions {
  endpoint: string;
  region: string;
  table: string;
  /** Milliseconds between polls while records flow, ≤ 50; default 25. */
  intervalMs?: number;
  /**
   * The longest pause after quiet rounds (see "Pacing" in the header): an integer from intervalMs to 3,600,000;
   * default intervalMs (no backoff).
   */
  idleMaxMs?: number;
  /** Max records per handle() call; default 100 (Lambda's default for DynamoDB streams). */
  batchSize?: number;
  /** Where to start reading the shards open at start-up; default TRIM_HORIZON. */
  from?: 'TRIM_HORIZON' | 'LATEST';
  /** Handles records in stream order; returns how many leading records are done. The rest are handed over again. */
  handle(records: DynamoDBRecord[]): Promise<number>;
  /** Where problems are reported (one line each); default console.warn. */
  log?: (line: string) => void;
}

export interface PollerError {
  message: string;
  /** Epoch ms. */
  at: number;
}

export interface StreamPoller {
  stop(): Promise<void>;
  /** Records read from the stream and not yet handled. */
  backlog(): number;
  /** The stream ARN as Lambda's eventSourceARN shows it (emulated region). */
  readonly streamArn: string;
  /** The last error met while polling (or thrown by handle), if any; polling goes on regardless. */
  lastError(): PollerError | null;
  /**
   * Resolves once a poll round that began after this call found no new record in any readable shard and nothing
   * is left to hand over: everything written before the call has been handled.
   */
  settled(): Promise<void>;
  /**
   * Resolves once a poll round that began after this call read every readable shard up to its tip (each GetRecords
   * answered less than a full page) and handed everything over: everything written before the call has been handled.
   * Unlike settled() it needs no quiet round, so it resolves while writes keep coming.
   */
  caughtUp(): Promise<void>;
  /**
   * Something may have been written to the stream: the poller polls at once unless its next poll is due within
   * intervalMs anyway, and pauses only intervalMs after the next round to end (see "Pacing").
   */
  poke(): void;
  /** iteratorRefreshes: iterators re-fetched because DynamoDB Local called them expired or trimmed. */
  stats(): { polls: number; records: number; handled: number; errors: number; iteratorRefreshes: number; shards: number; finishedShards: number };
}

export const MAX_INTERVAL_MS = 50;
/** The largest idleMaxMs: an hour (tests use it to stand for "never on its own"). */
export const MAX_IDLE_MS = 3_600_000;
/** Records per GetRecords call (DynamoDB Streams' maximum): a page shorter than this reached the shard's tip. */
const PAGE = 1000;
const MAX_BACKOFF_MS = 2000;

interface ShardState {
  id: string;
  parent?: string;
  /** undefined: ask for one; null: shard closed and fully read. */
  iterator: string | null | undefined;
  /** How to (re-)fetch an iterator before any record was read. */
  startType: 'TRIM_HORIZON' | 'LATEST';
  lastSeq?: string;
  buffer: DynamoDBRecord[];
  done: boolean;
}

function positiveInt(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be an integer from 1 to ${max}, got ${value}`);
  return value;
}

export async function startStreamPoller(o: StreamPollerOptions): Promise<StreamPoller> {
  if (!o || typeof o.handle !== 'function') throw new Error('startStreamPoller: handle(records) is required');
  for (const key of ['endpoint', 'region', 'table'] as const) {
    if (typeof o[key] !== 'string' || o[key].length === 0) throw new Error(`startStreamPoller: ${key} must be a non-empty string, got ${JSON.stringify(o[key])}`);
  }
  const intervalMs = positiveInt('intervalMs', o.intervalMs, 25, MAX_INTERVAL_MS);
  const idleMaxMs = o.idleMaxMs ?? intervalMs;
  if (!Number.isInteger(idleMaxMs) || idleMaxMs < intervalMs || idleMaxMs > MAX_IDLE_MS) {
    throw new Error(`startStreamPoller: idleMaxMs must be an integer from intervalMs (${intervalMs}) to ${MAX_IDLE_MS}, got ${String(o.idleMaxMs)}`);
  }
  const batchSize = positiveInt('batchSize', o.batchSize, 100, 10_000);
  const from = o.from ?? 'TRIM_HORIZON';
  if (from !== 'TRIM_HORIZON' && from !== 'LATEST') throw new Error(`startStreamPoller: from must be TRIM_HORIZON or LATEST, got ${JSON.stringify(from)}`);
  const log = o.log ?? ((line: string) => console.warn(line));
  const { endpoint, region, table } = o;

  const localArn = await localStreamArn(endpoint, region, table);
  const streamArn = awsStreamArn(localArn, region);
  const shards = new Map<string, ShardState>();
  let firstDescribe = true;
  let needDescribe = true;
  let lastError: PollerError | null = null;
  let stopped = false;
  const counters = { polls: 0, records: 0, handled: 0, errors: 0, iteratorRefreshes: 0 };
  let waiters: { since: number; resolve: () => void }[] = [];
  let tipWaiters: { since: number; resolve: () => void }[] = [];
  let round = 0;

  const call = <T>(target: string, payload: unknown): Promise<T> => jsonCall<T>(endpoint, region, 'DynamoDBStreams_20120810', target, payload);

  const remember = (err: unknown): void => {
    const message = err instanceof Error ? err.message : String(err);
    counters.errors += 1;
    if (lastError?.message !== message) log(`stream poller ${region}/${table}: ${message}`);
    lastError = { message, at: Date.now() };
  };

  const discover = async (): Promise<void> => {
    const { shards: found } = await describeShards(endpoint, region, localArn);
    for (const s of found) {
      if (shards.has(s.ShardId)) continue;
      const closed = s.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      // Shards open at start-up begin at `from`; shards found later (children of a closed one) from their start.
      const startType = firstDescribe && from === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON';
      shards.set(s.ShardId, {
        id: s.ShardId,
        parent: s.ParentShardId,
        iterator: undefined,
        startType,
        buffer: [],
        // LATEST on a shard that is already closed: nothing will ever come after "now".
        done: startType === 'LATEST' && closed,
      });
    }
    firstDescribe = false;
    needDescribe = false;
  };

  const ready = (s: ShardState): boolean => {
    if (s.done) return false;
    const parent = s.parent ? shards.get(s.parent) : undefined;
    return !parent || parent.done;
  };

  const fetchIterator = async (s: ShardState): Promise<string> => {
    const payload = s.lastSeq
      ? { StreamArn: localArn, ShardId: s.id, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: s.lastSeq }
      : { StreamArn: localArn, ShardId: s.id, ShardIteratorType: s.startType };
    const out = await call<{ ShardIterator?: string }>('GetShardIterator', payload);
    if (!out.ShardIterator) throw new Error(`GetShardIterator for ${s.id} answered no iterator`);
    return out.ShardIterator;
  };

  /** An iterator DynamoDB will not read any more: fetch a new one from where we are. */
  const staleIterator = (err: unknown): boolean =>
    err instanceof DynamoDBLocalError &&
    (err.code === 'ExpiredIteratorException' || err.code === 'TrimmedDataAccessException' || (err.code === 'ValidationException' && /ShardIterator/i.test(err.message)));

  /** Reads one page into the shard's buffer; answers how many records came. */
  const read = async (s: ShardState): Promise<number> => {
    if (s.iterator === null) return 0;
    s.iterator ??= await fetchIterator(s);
    let out: { Records?: DynamoDBRecord[]; NextShardIterator?: string | null };
    try {
      out = await call('GetRecords', { ShardIterator: s.iterator, Limit: PAGE });
    } catch (err) {
      if (!staleIterator(err)) throw err;
      // Re-fetch at once, after the last record read (DynamoDB Local also answers TrimmedDataAccessException for
      // an iterator taken on a shard that was still empty: nothing was read, so nothing is lost or repeated).
      // Counted, not reported: it is routine. If the fresh iterator fails too, that error is reported.
      counters.iteratorRefreshes += 1;
      s.iterator = undefined;
      s.iterator = await fetchIterator(s);
      try {
        out = await call('GetRecords', { ShardIterator: s.iterator, Limit: PAGE });
      } catch (again) {
        s.iterator = undefined;
        if (again instanceof DynamoDBLocalError && again.code === 'TrimmedDataAccessException') {
          // Even the position after our last record is gone: restart from the oldest record still there.
          s.lastSeq = undefined;
          s.startType = 'TRIM_HORIZON';
        }
        throw again;
      }
    }
    counters.polls += 1;
    const at = nowMs();
    const records = (out.Records ?? []).map((r) => toLambdaRecord(r, region, streamArn, at));
    if (records.length > 0) {
      s.buffer.push(...records);
      s.lastSeq = records[records.length - 1].dynamodb?.SequenceNumber ?? s.lastSeq;
      counters.records += records.length;
    }
    if (!out.NextShardIterator) {
      s.iterator = null; // closed shard, read to its end
    } else {
      s.iterator = out.NextShardIterator;
    }
    return records.length;
  };

  const deliver = async (s: ShardState): Promise<void> => {
    while (s.buffer.length > 0 && !stopped) {
      const batch = s.buffer.slice(0, batchSize);
      let done: number;
      try {
        done = await o.handle(batch);
      } catch (err) {
        remember(new Error(`handle() threw, ${batch.length} records will be handed over again: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
      if (!Number.isInteger(done) || done < 0 || done > batch.length) {
        remember(new Error(`handle() must answer an integer from 0 to ${batch.length} (records done), got ${String(done)}; treating it as 0`));
        return;
      }
      s.buffer.splice(0, done);
      counters.handled += done;
      if (done < batch.length) return; // the rest is handed over again next round
    }
  };

  /** Set by tick: whether the round read every readable shard to its tip and handed everything over. */
  let atTip = false;
  const tick = async (): Promise<boolean> => {
    if (needDescribe) await discover();
    let quiet = true;
    atTip = true;
    for (const s of [...shards.values()]) {
      if (stopped) break;
      if (!ready(s)) continue;
      if (s.buffer.length < batchSize && s.iterator !== null) {
        const n = await read(s);
        if (n > 0) quiet = false;
        if (n >= PAGE) atTip = false;
      } else if (s.iterator !== null) {
        atTip = false;
      }
      await deliver(s);
      if (s.buffer.length > 0) quiet = false;
      if (s.buffer.length > 0) atTip = false;
      if (s.iterator === null && s.buffer.length === 0) {
        s.done = true;
        needDescribe = true; // children of the closed shard may be waiting
        quiet = false; // read them before calling the stream settled
      }
    }
    return quiet;
  };

  /** While sleeping: ends the sleep now. */
  let wake: (() => void) | undefined;
  /** While sleeping: when the next poll is due (performance.now()). */
  let dueAt = 0;
  /** Set by poke(): the pause after the next round to end is intervalMs, whatever the backoff says. */
  let hot = false;
  /** Sleeping after an error: nothing cuts that backoff short. */
  let erring = false;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      dueAt = performance.now() + ms;
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });
  /** Polls now if the next poll is more than intervalMs away (a nearer one is soon enough). */
  const hurry = (): void => {
    if (wake && !erring && dueAt - performance.now() > intervalMs) wake();
  };
  /** A write may have landed (see "Pacing"). */
  const poke = (): void => {
    if (stopped) return;
    hot = true;
    hurry();
  };

  const loop = (async () => {
    let failures = 0;
    /** The pause after the next quiet round is twice this, up to idleMaxMs. */
    let idleMs = intervalMs;
    while (!stopped) {
      const started = ++round;
      let quiet = false;
      try {
        quiet = await tick();
        failures = 0;
        if (quiet) {
          const due = waiters.filter((w) => w.since < started);
          waiters = waiters.filter((w) => w.since >= started);
          for (const w of due) w.resolve();
        }
        if (atTip && !needDescribe) {
          const due = tipWaiters.filter((w) => w.since < started);
          tipWaiters = tipWaiters.filter((w) => w.since >= started);
          for (const w of due) w.resolve();
        }
      } catch (err) {
        failures += 1;
        remember(err);
      }
      if (stopped) break;
      idleMs = quiet ? Math.min(idleMs * 2, idleMaxMs) : intervalMs;
      // poked since the last round ended (the write may have landed after this round read its shard), or someone
      // still waits for a round: the next one after intervalMs; pokes until then only keep it so (a burst of writes
      // costs a poll every intervalMs, as while records flow)
      const soon = hot || waiters.length > 0 || tipWaiters.length > 0;
      hot = false;
      erring = failures > 0;
      await sleep(erring ? Math.min(intervalMs * 2 ** failures, MAX_BACKOFF_MS) : soon ? intervalMs : idleMs);
    }
  })();

  return {
    streamArn,
    backlog: () => [...shards.values()].reduce((n, s) => n + s.buffer.length, 0),
    lastError: () => lastError,
    settled: () =>
      new Promise<void>((resolve) => {
        if (stopped) return resolve();
        waiters.push({ since: round, resolve });
        hurry();
      }),
    caughtUp: () =>
      new Promise<void>((resolve) => {
        if (stopped) return resolve();
        tipWaiters.push({ since: round, resolve });
        hurry();
      }),
    poke,
    stats: () => ({ ...counters, shards: shards.size, finishedShards: [...shards.values()].filter((s) => s.done).length }),
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      for (const w of [...waiters, ...tipWaiters]) w.resolve();
      waiters = [];
      tipWaiters = [];
    },
  };
}
