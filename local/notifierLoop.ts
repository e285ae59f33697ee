/**
 * What Lambda's event source mapping does for the notifier, locally: reads one region's items stream
 * (./dynamodbStreams.ts) and invokes the notifier with `{Records}` events, honouring the mapping's settings
 * (components/streamMapping.ts) the way Lambda documents them
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html and
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, "Error handling"):
 *   - batches of at most `batchSize` records, in stream order, one batch in flight per stream;
 *   - ReportBatchItemFailures: a response with batchItemFailures checkpoints just before the LOWEST reported
 *     sequence number; that record and everything after it in the batch is retried. With bisect on, the retry is
 *     exactly the batch's remainder from that record. A response that is null/empty, or whose batchItemFailures is
 *     null/empty, is a complete success; an itemIdentifier that is empty, null or not a sequence number of the batch
 *     makes the whole batch a failure;
 *   - a thrown error (function error) fails the whole batch; with bisectBatchOnFunctionError the batch is split in
 *     two and the first half retried (the second follows once the first is through);
 *   - every failed attempt on the batch at the head counts one retry; after maximumRetryAttempts retries the
 *     records still failing are discarded (counted, one log line naming the shard's sequence range: the stand-in for
 *     the onFailure destination) and the stream moves on; a retry waits intervalMs × 2^(retries−1), capped at 1 s;
 *   - records older than maximumRecordAgeInSeconds (by ApproximateCreationDateTime) are discarded the same way.
 * startingPosition: TRIM_HORIZON by default (the emulator creates fresh tables before starting loops, so no record
 * is missed between table creation and the first poll); the deployed mapping's LATEST is kept in the mapping.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DynamoDBRecord } from 'aws-lambda';
import { STREAM_MAPPING } from '../components/streamMapping';
import { type StreamPoller, startStreamPoller } from './dynamodbStreams';
import { recordIds, trace, tracing } from './trace';

/** The settings the loop reads: STREAM_MAPPING (components/streamMapping.ts) by default, a smaller one in tests. */
export interface NotifierMapping {
  batchSize: number;
  bisectBatchOnFunctionError: boolean;
  /** -1 = retry until the record expires. */
  maximumRetryAttempts: number;
  /** -1 = no limit. */
  maximumRecordAgeInSeconds: number;
  functionResponseTypes: readonly string[];
}

export interface NotifierLoopOptions {
  endpoint: string;
  region: string;
  table: string;
  /** Invokes the notifier; answers the handler's response ({batchItemFailures}) or throws its error. */
  invoke(event: { Records: DynamoDBRecord[] }): Promise<unknown>;
  /** Poll interval, ≤ 50 ms; default 25. */
  intervalMs?: number;
  /** The longest pause between polls of a quiet stream (startStreamPoller's idleMaxMs); default intervalMs. */
  idleMaxMs?: number;
  mapping?: NotifierMapping;
  from?: 'TRIM_HORIZON' | 'LATEST';
  /** One line per discarded range or problem; default console.warn. */
  log?: (line: string) => void;
  /** Every discarded range, as Lambda would send it to the onFailure destination. */
  onDiscard?: (range: DiscardedRange) => void;
}

export interface NotifierLoopStats {
  invocations: number;
  /** Records handed to invocations (a retried record counts again). */
  records: number;
  /** Records in failed attempts: reported in batchItemFailures (from the checkpoint on) or in a batch that threw. */
  failedRecords: number;
  /** Records given up on (retries spent or too old): what would go to the onFailure destination. */
  discarded: number;
}

export interface NotifierLoop {
  stop(): Promise<void>;
  backlog(): number;
  stats(): NotifierLoopStats;
  readonly poller: StreamPoller;
}

type Outcome = { kind: 'success' } | { kind: 'partial'; checkpoint: number } | { kind: 'error'; reason: string };

/** Reads a handler response the way Lambda does (see header). */
export function interpretResponse(response: unknown, batch: readonly DynamoDBRecord[], reportBatchItemFailures: boolean): Outcome {
  if (!reportBatchItemFailures || response === null || response === undefined || typeof response !== 'object') return { kind: 'success' };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'error', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };
  let checkpoint = Number.POSITIVE_INFINITY;
  for (const f of failures) {
    const id = f && typeof f === 'object' ? (f as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id.length === 0) return { kind: 'error', reason: `batchItemFailures has an empty or missing itemIdentifier (${JSON.stringify(f)})` };
    const index = batch.findIndex((r) => r.dynamodb?.SequenceNumber === id);
    // AWS documents only an empty/null identifier or a bad key as failing the whole batch; an identifier that is not
    // in the batch is this emulator's own rule (it can only be a handler bug, which this makes loud).
    if (index < 0) return { kind: 'error', reason: `itemIdentifier ${JSON.stringify(id)} is not a sequence number of this batch` };
    checkpoint = Math.min(checkpoint, index);
  }
  return { kind: 'partial', checkpoint };
}

function checkMapping(m: NotifierMapping): void {
  const problems: string[] = [];
  if (!Number.isInteger(m.batchSize) || m.batchSize < 1 || m.batchSize > 10_000) problems.push(`batchSize must be an integer from 1 to 10000, got ${m.batchSize}`);
  // Lambda's limits for stream event source mappings (Lambda developer guide, "Lambda parameters for DynamoDB streams")
  if (!Number.isInteger(m.maximumRetryAttempts) || m.maximumRetryAttempts < -1 || m.maximumRetryAttempts > 10_000) {
    problems.push(`maximumRetryAttempts must be an integer from -1 (forever) to 10000, got ${m.maximumRetryAttempts}`);
  }
  if (!Number.isInteger(m.maximumRecordAgeInSeconds) || (m.maximumRecordAgeInSeconds !== -1 && (m.maximumRecordAgeInSeconds < 60 || m.maximumRecordAgeInSeconds > 604_800))) {
    problems.push(`maximumRecordAgeInSeconds must be -1 or an integer from 60 to 604800, got ${m.maximumRecordAgeInSeconds}`);
  }
  if (typeof m.bisectBatchOnFunctionError !== 'boolean') problems.push(`bisectBatchOnFunctionError must be a boolean, got ${String(m.bisectBatchOnFunctionError)}`);
  if (problems.length > 0) throw new Error(`notifier loop mapping: ${problems.join('; ')}`);
}

/** What Lambda would send to the onFailure destination for a discarded range (its `DDBStreamBatchInfo`). */
export interface DiscardedRange {
  startSequenceNumber: string | undefined;
  endSequenceNumber: string | undefined;
  batchSize: number;
  streamArn: string | undefined;
  approximateArrivalOfFirstRecord?: string;
  approximateArrivalOfLastRecord?: string;
  condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  reason: string;
}

export interface MappingDriverOptions {
  mapping: NotifierMapping;
  invoke(event: { Records: DynamoDBRecord[] }): Promise<unknown>;
  /** Base of the retry backoff (intervalMs × 2^(retries−1), capped at 1 s); 0 retries at once. */
  intervalMs: number;
  log: (line: string) => void;
  /** Names the stream in log lines. */
  label: string;
  /** Called for every discarded range (the onFailure destination). */
  onDiscard?: (range: DiscardedRange) => void;
}

export interface MappingDriver {
  /**
   * Handles the head of the stream (`records`, in order, from the checkpoint on): at most one invocation; answers
   * how many records are done (checkpointed or discarded), 0 while backing off or retrying.
   */
  handle(records: DynamoDBRecord[]): Promise<number>;
  readonly stats: NotifierLoopStats;
}

const isoOf = (r: DynamoDBRecord | undefined): string | undefined => {
  const t = Number(r?.dynamodb?.ApproximateCreationDateTime);
  return Number.isFinite(t) && t > 0 ? new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
};

/**
 * Lambda's event source mapping for one shard, as documented (see header), apart from the stream reading: the
 * emulator's loop feeds it from DynamoDB Local, test/handlers/notifierDelivery.test.ts from a fixed list.
 */
export function createMappingDriver(o: MappingDriverOptions): MappingDriver {
  const mapping = o.mapping;
  checkMapping(mapping);
  const reportFailures = mapping.functionResponseTypes.includes('ReportBatchItemFailures');
  const stats: NotifierLoopStats = { invocations: 0, records: 0, failedRecords: 0, discarded: 0 };

  // State of the batch at the head of the stream.
  let limit: number = mapping.batchSize; // size of the next batch (smaller while bisecting / retrying a remainder)
  let retries = 0;
  let notBefore = 0;

  const resetHead = (): void => {
    limit = mapping.batchSize;
    retries = 0;
    notBefore = 0;
  };

  const discard = (records: readonly DynamoDBRecord[], why: string, condition: DiscardedRange['condition']): number => {
    stats.discarded += records.length;
    const first = records[0]?.dynamodb?.SequenceNumber;
    const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
    o.log(`notifier loop ${o.label}: discarded ${records.length} records (sequence numbers ${first}..${last}, eventSourceARN ${records[0]?.eventSourceARN}): ${why}`);
    o.onDiscard?.({
      startSequenceNumber: first,
      endSequenceNumber: last,
      batchSize: records.length,
      streamArn: records[0]?.eventSourceARN,
      approximateArrivalOfFirstRecord: isoOf(records[0]),
      approximateArrivalOfLastRecord: isoOf(records[records.length - 1]),
      condition,
      reason: why,
    });
    return records.length;
  };

  /** A failed attempt on `failing` (the records from the checkpoint on); answers how many records are done now. */
  const failed = (done: number, failing: readonly DynamoDBRecord[], why: string): number => {
    stats.failedRecords += failing.length;
    retries += 1;
    const max = mapping.maximumRetryAttempts;
    if (max !== -1 && retries > max) {
      const n = discard(failing, `${why}; ${max} retries spent`, 'RetryAttemptsExhausted');
      resetHead();
      return done + n;
    }
    notBefore = Date.now() + Math.min(o.intervalMs * 2 ** (retries - 1), 1000);
    return done;
  };

  const handle = async (records: DynamoDBRecord[]): Promise<number> => {
    // Too old: gone before any attempt, like Lambda's maximumRecordAgeInSeconds.
    if (mapping.maximumRecordAgeInSeconds !== -1) {
      const oldest = Date.now() / 1000 - mapping.maximumRecordAgeInSeconds;
      let stale = 0;
      while (stale < records.length && Number(records[stale].dynamodb?.ApproximateCreationDateTime) < oldest) stale += 1;
      if (stale > 0) {
        resetHead();
        return discard(records.slice(0, stale), `older than maximumRecordAgeInSeconds (${mapping.maximumRecordAgeInSeconds})`, 'RecordAgeExceeded');
      }
    }
    if (Date.now() < notBefore) return 0;
    const batch = records.slice(0, limit);
    stats.invocations += 1;
    stats.records += batch.length;
    let response: unknown;
    try {
      response = await o.invoke({ Records: batch });
    } catch (err) {
      const why = `function error: ${err instanceof Error ? err.message : String(err)}`;
      const done = failed(0, batch, why);
      if (done === 0 && mapping.bisectBatchOnFunctionError && batch.length > 1) limit = Math.ceil(batch.length / 2);
      return done;
    }
    const outcome = interpretResponse(response, batch, reportFailures);
    if (outcome.kind === 'success') {
      resetHead();
      return batch.length;
    }
    if (outcome.kind === 'error') {
      const done = failed(0, batch, `invalid response: ${outcome.reason}`);
      if (done === 0 && mapping.bisectBatchOnFunctionError && batch.length > 1) limit = Math.ceil(batch.length / 2);
      return done;
    }
    const k = outcome.checkpoint;
    const done = failed(k, batch.slice(k), `batchItemFailures from sequence number ${batch[k].dynamodb?.SequenceNumber}`);
    // Still retrying: with bisect, the retry is the remainder of this batch only.
    if (done === k && mapping.bisectBatchOnFunctionError) limit = batch.length - k;
    return done;
  };

  return { handle, stats };
}

export async function startNotifierLoop(o: NotifierLoopOptions): Promise<NotifierLoop> {
  if (!o || typeof o.invoke !== 'function') throw new Error('startNotifierLoop: invoke(event) is required');
  const mapping: NotifierMapping = o.mapping ?? STREAM_MAPPING;
  const log = o.log ?? ((line: string) => console.warn(line));
  const intervalMs = o.intervalMs ?? 25;
  // the hand-off to the function and its answer are probes for the benchmark (./trace.ts)
  const invoke = async (e: { Records: DynamoDBRecord[] }): Promise<unknown> => {
    if (!tracing()) return o.invoke(e);
    const ids = recordIds(e.Records);
    trace({ point: 'notifier.invoke', region: o.region, ids });
    try {
      return await o.invoke(e);
    } finally {
      trace({ point: 'notifier.done', region: o.region, ids });
    }
  };
  const driver = createMappingDriver({ mapping, invoke, intervalMs, log, label: `${o.region}/${o.table}`, onDiscard: o.onDiscard });
  const { handle, stats } = driver;

  const poller = await startStreamPoller({
    endpoint: o.endpoint,
    region: o.region,
    table: o.table,
    intervalMs,
    ...(o.idleMaxMs !== undefined ? { idleMaxMs: o.idleMaxMs } : {}),
    batchSize: mapping.batchSize,
    from: o.from ?? 'TRIM_HORIZON',
    handle,
    log,
  });

  return {
    poller,
    stop: () => poller.stop(),
    backlog: () => poller.backlog(),
    stats: () => ({ ...stats }),
  };
}

/** The emulator's stand-in for a region's notifier DLQ: one JSON message per line (see appendOnFailure, handlers/lib/deadLetter.ts). */
export function localDlqFile(logDir: string, region: string): string {
  return path.join(logDir, `${region}.notifier-dlq.jsonl`);
}

/**
 * Appends a discarded range as Lambda's onFailure destination receives it (`requestContext`, `DDBStreamBatchInfo`;
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, "Error handling") to the local DLQ file. No shard id:
 * DynamoDB Local's streams are read whole by sequence range (scripts/replay-dlq.ts).
 */
export function appendOnFailure(file: string, range: DiscardedRange): void {
  const message = {
    requestContext: { requestId: `local-${Date.now()}`, functionArn: 'local-notifier', condition: range.condition, approximateInvokeCount: 0 },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId: null,
      startSequenceNumber: range.startSequenceNumber,
      endSequenceNumber: range.endSequenceNumber,
      approximateArrivalOfFirstRecord: range.approximateArrivalOfFirstRecord,
      approximateArrivalOfLastRecord: range.approximateArrivalOfLastRecord,
      batchSize: range.batchSize,
      streamArn: range.streamArn,
    },
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, `${JSON.stringify(message)}\n`);
}
