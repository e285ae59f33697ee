/**
 * Notifier Lambda (docs/architecture.md, "Per-region picture"): every record of this region's replica stream — local and replicated writes alike,
 * INSERT/MODIFY/REMOVE — becomes exactly one SigV4-signed `publishItemChange` call to this region's AppSync API,
 * which fans it out to `onItemChange` subscribers connected to this region.
 *
 * Pure core: `processRecords(records, deps)` (stream records → publishes → a batch response), over
 * handlers/lib/streamRecord.ts (`toItemChange`: record → change | skip | parse failure), handlers/lib/publish.ts
 * (signed POST with retries) and handlers/lib/deadLetter.ts (a record written whole to the DLQ). Thin adapter:
 * `handler`, which reads the environment on every invocation (so the local emulator can run one bundle with
 * per-region env):
 *
 *   APPSYNC_URL              the region's GraphQL endpoint (https://…/graphql; http:// accepted for local use)
 *   AWS_REGION               set by Lambda: published as `publishedRegion` and the SigV4 signing region
 *   NOTIFIER_DLQ_URL         the notifier's SQS queue URL (file:///… locally); unset: permanent failures are only logged
 *   NOTIFIER_CONCURRENCY     parallel publishes per invocation, default 64 (never two of the same item id at once)
 *   NOTIFIER_MAX_ATTEMPTS    attempts per record, default 5
 *   NOTIFIER_BACKOFF_BASE_MS / NOTIFIER_BACKOFF_MAX_MS / NOTIFIER_REQUEST_TIMEOUT_MS   defaults 100 / 5000 / 5000
 * Credentials: the role's, from the environment Lambda sets (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN: https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * read with @aws-sdk/credential-provider-env — not the whole default chain, which would triple the bundle. A bad
 * setting fails the invocation.
 *
 * ── Batch failures: how this works with the event source mapping ─────────────────────────────────────────────
 * The mapping (components/notifier.ts) sets functionResponseTypes ["ReportBatchItemFailures"],
 * bisectBatchOnFunctionError true, a finite maximumRetryAttempts and an onFailure destination (the DLQ).
 * AWS semantics (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html): when the
 * function returns batchItemFailures, Lambda checkpoints just before the LOWEST reported sequence number and
 * retries from there — every record after it too, including the ones this invocation already published. With
 * bisect on, only that remainder is retried; once maximumRetryAttempts is spent its range (shard id + sequence
 * numbers, not the records) goes to the onFailure destination and the shard moves on.
 *
 * So a failure that will never go away must NOT be reported: reported, one poison record in a batch of 100 would
 * make Lambda re-publish the 90 records behind it on every retry and then dead-letter the range of all 91. What
 * this does:
 *   1. Every record is parsed first. A record it cannot parse, and a record AppSync refuses as such
 *      (publish.ts `permanent`: 400, validation errors, a partial answer that lost fields of the change), is a
 *      PERMANENT failure: written whole to the DLQ
 *      (deadLetter.ts), logged, and counted as handled — not reported. Only if that write fails is it reported
 *      (then Lambda retries it, and the DLQ write with it). Later records of the same id go on: the dead-lettered
 *      change is skipped, not waited for.
 *   2. Retryable failures (throttling, 5xx, timeouts — retried here first) and function-level ones (401/403:
 *      the role or the deployment is wrong for every record alike) are reported in batchItemFailures.
 *   3. Records of one item id are published one after another in stream order; different ids run in parallel
 *      (bounded by NOTIFIER_CONCURRENCY). If a record of id X fails retryably, the later records of X in this
 *      batch are held back and reported too, so Lambda's retry replays them after the failed one and subscribers
 *      never see X's changes out of order.
 *   4. Each sequence number published or dead-lettered is remembered for the life of the sandbox (the last
 *      10,000, keyed with the stream ARN): when Lambda retries a batch from a checkpoint, the records after it
 *      that this sandbox already published are not published again, and those it already dead-lettered are
 *      neither sent again nor dead-lettered again. A record is therefore published at most once per delivery
 *      attempt, a poison record gives one DLQ entry however often its batch is retried, and another record's
 *      failure does not re-publish it (unless the retry lands in a new sandbox: `npm run replay-dlq` then
 *      replays duplicate DLQ entries of one record once, within one replay run).
 *   5. Near the function timeout (context.getRemainingTimeInMillis minus 1 s) no new attempt, record or DLQ
 *      write is started, and no attempt runs past it; what is not done is reported, so a slow AppSync ends in a
 *      partial batch response rather than a timeout (which Lambda treats as a function error: the whole batch).
 *   6. A record without a sequence number cannot be reported; it is dead-lettered like any unparseable record,
 *      and only if that fails does the invocation throw (bisect then isolates it).
 *   7. One structured log line per failed record: cause, disposition (deadLettered | reported | logged), error
 *      name, AppSync request id, Lambda request id, attempts, reason (GraphQL text truncated; item values never
 *      logged — only a dead-lettered record's DLQ message carries the record).
 * Delivery stays at-least-once (a lost answer, a retry in another sandbox); subscribers can de-duplicate by
 * (publishedRegion, sequenceNumber), or by item version.
 *
 * Per-id order with parallel batches: `parallelizationFactor` > 1 runs several batches of one shard at once, and
 * Lambda "still ensures in-order processing at the item (partition and sort key) level"
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, "Concurrent batches per shard"). The items table's
 * key is `id` alone, so all changes of one id stay in one batch sequence, in order; within a batch, rule 3 keeps them.
 */
import type { Context, DynamoDBBatchItemFailure, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { type DeadLetterEntry, type DeadLetterSink, deadLetterSink } from './lib/deadLetter';
import { type Credentials, PUBLISH_DEFAULTS, type PublishResult, Publisher } from './lib/publish';
import { type ItemChangeInput, type ParsedChange, toItemChange } from './lib/streamRecord';

export const DEFAULT_CONCURRENCY = 64;
/** Time a DLQ write may take at most. */
const DEAD_LETTER_TIMEOUT_MS = 5000;

type Log = (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;

export interface NotifierDeps {
  /** This region: published as publishedRegion. */
  region: string;
  publish: (input: ItemChangeInput) => Promise<PublishResult>;
  /** Writes a permanently failing record to the DLQ; rejects if it could not. Unset: such records are only logged. */
  deadLetter?: (entry: DeadLetterEntry, timeoutMs: number) => Promise<void>;
  /** Sequence numbers this sandbox already published or dead-lettered (see header, rule 4); unset: none remembered. */
  memo?: PublishedMemo;
  /** Epoch ms after which no further record is started (the rest are reported); default: none. */
  deadlineAt?: number;
  /** Parallel publishes (distinct ids); default 64. */
  concurrency?: number;
  /** The Lambda request id, for the log lines. */
  requestId?: string;
  log?: Log;
  now?: () => Date;
}

export interface RecordFailure {
  sequenceNumber: string | undefined;
  /**
   * invalid: cannot be parsed; publish: publishing failed; held: not published behind a failed record of its id;
   * deadline: not attempted, the invocation was about to time out.
   */
  cause: 'invalid' | 'publish' | 'held' | 'deadline';
  /** deadLettered / logged: handled, not reported; reported: in batchItemFailures. */
  disposition: 'deadLettered' | 'logged' | 'reported';
  reason: string;
  errorName?: string;
  id?: string;
}

export interface BatchReport {
  /** Sequence numbers published, in completion order. */
  published: string[];
  skipped: string[];
  /** Sequence numbers this sandbox had already published (rule 4): not published again. */
  alreadyPublished: string[];
  /** Sequence numbers this sandbox had already dead-lettered (rule 4): not sent nor dead-lettered again. */
  alreadyDeadLettered: string[];
  /** In stream order; those with disposition 'reported' are the batchItemFailures. */
  failures: RecordFailure[];
  response: DynamoDBBatchResponse;
}

/** What became of a record this sandbox settled. */
export type Settled = 'published' | 'deadLettered';

/** The last `capacity` settled (stream ARN, sequence number) pairs: published, or dead-lettered. */
export class PublishedMemo {
  private readonly seen = new Map<string, Settled>();
  constructor(private readonly capacity = 10_000) {}
  private static key(r: DynamoDBRecord, seq: string): string {
    return `${typeof r.eventSourceARN === 'string' ? r.eventSourceARN : ''}|${seq}`;
  }
  get(r: DynamoDBRecord, seq: string): Settled | undefined {
    return this.seen.get(PublishedMemo.key(r, seq));
  }
  has(r: DynamoDBRecord, seq: string): boolean {
    return this.seen.has(PublishedMemo.key(r, seq));
  }
  add(r: DynamoDBRecord, seq: string, how: Settled = 'published'): void {
    this.seen.set(PublishedMemo.key(r, seq), how);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value as string);
  }
  get size(): number {
    return this.seen.size;
  }
}

/** Publishes a batch of stream records as described in the file header. Throws only for a record without a sequence number that could not be dead-lettered. */
export async function processRecords(records: readonly DynamoDBRecord[], deps: NotifierDeps): Promise<BatchReport> {
  const log = deps.log ?? jsonLog;
  const concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be an integer ≥ 1, got ${concurrency}`);

  const failureAt = new Map<number, RecordFailure>();
  const published: string[] = [];
  const skipped: string[] = [];
  const alreadyPublished: string[] = [];
  const alreadyDeadLettered: string[] = [];
  const groups = new Map<string, { index: number; change: ParsedChange }[]>();
  const timeLeft = (): number => (deps.deadlineAt === undefined ? Number.POSITIVE_INFINITY : deps.deadlineAt - Date.now());

  /** One structured line per failed record (rule 7). */
  const logFailure = (f: RecordFailure, extra: { kind?: string; attempts?: number; appsyncRequestId?: string } = {}): void => {
    log(f.disposition === 'reported' && (f.cause === 'held' || f.cause === 'deadline') ? 'warn' : 'error', 'stream record not published', {
      sequenceNumber: f.sequenceNumber ?? null,
      id: f.id ?? null,
      cause: f.cause,
      disposition: f.disposition,
      errorName: f.errorName ?? null,
      attempts: extra.attempts ?? null,
      appsyncRequestId: extra.appsyncRequestId ?? null,
      lambdaRequestId: deps.requestId ?? null,
      ...(extra.kind ? { kind: extra.kind } : {}),
      reason: f.reason,
    });
  };

  /** A permanent failure: to the DLQ (handled) or, if that fails, reported. Answers the disposition. */
  const settlePermanent = async (record: DynamoDBRecord, f: Omit<RecordFailure, 'disposition'>, extra: { attempts?: number; appsyncRequestId?: string; kind?: string }): Promise<RecordFailure> => {
    let failure: RecordFailure;
    if (!deps.deadLetter) {
      failure = { ...f, disposition: 'logged' };
    } else if (timeLeft() <= 0) {
      failure = { ...f, disposition: 'reported', reason: `${f.reason}; not dead-lettered: the invocation is about to time out` };
    } else {
      try {
        await deps.deadLetter(
          { region: deps.region, cause: f.cause === 'invalid' ? 'invalid' : 'publish', reason: f.reason, errorName: f.errorName ?? 'Error', attempts: extra.attempts, requestId: extra.appsyncRequestId, record },
          Math.min(DEAD_LETTER_TIMEOUT_MS, timeLeft()),
        );
        failure = { ...f, disposition: 'deadLettered' };
        if (f.sequenceNumber !== undefined) deps.memo?.add(record, f.sequenceNumber, 'deadLettered');
      } catch (err) {
        const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        failure = { ...f, disposition: 'reported', reason: `${f.reason}; the DLQ write failed (${why})` };
      }
    }
    logFailure(failure, extra);
    return failure;
  };

  const invalid: Promise<void>[] = [];
  records.forEach((record, index) => {
    const outcome = toItemChange(record, deps.region, deps.now);
    const settled = outcome.sequenceNumber === undefined ? undefined : deps.memo?.get(record, outcome.sequenceNumber);
    if (settled === 'deadLettered') {
      alreadyDeadLettered.push(outcome.sequenceNumber as string);
    } else if (outcome.status === 'invalid') {
      const f = { sequenceNumber: outcome.sequenceNumber, cause: 'invalid' as const, reason: outcome.reason, errorName: 'InvalidRecord' };
      invalid.push(settlePermanent(record, f, {}).then((done) => void failureAt.set(index, done)));
    } else if (outcome.status === 'skip') {
      skipped.push(outcome.sequenceNumber);
    } else if (settled === 'published') {
      alreadyPublished.push(outcome.sequenceNumber);
    } else {
      const list = groups.get(outcome.input.id) ?? [];
      list.push({ index, change: outcome });
      groups.set(outcome.input.id, list);
    }
  });

  // Bounded pool over ids; each id's records go strictly in stream order.
  const queue = [...groups.entries()];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [id, list] = next;
      let blockedBy: string | undefined;
      for (const { index, change } of list) {
        const seq = change.sequenceNumber;
        if (blockedBy !== undefined) {
          const f: RecordFailure = { sequenceNumber: seq, cause: 'held', disposition: 'reported', id, reason: `not published: earlier record ${blockedBy} of the same id failed`, errorName: 'HeldBack' };
          failureAt.set(index, f);
          logFailure(f, { kind: change.input.kind });
          continue;
        }
        if (timeLeft() <= 0) {
          blockedBy = seq;
          const f: RecordFailure = { sequenceNumber: seq, cause: 'deadline', disposition: 'reported', id, reason: 'not attempted: the invocation is about to time out', errorName: 'DeadlineReached' };
          failureAt.set(index, f);
          logFailure(f, { kind: change.input.kind });
          continue;
        }
        const result = await deps.publish(change.input);
        if (result.ok) {
          published.push(seq);
          deps.memo?.add(records[index], seq);
          if (result.errors) {
            // delivered whole (every field sent came back): the errors riding along are worth a look, not a resend
            log('warn', 'published with GraphQL errors', {
              sequenceNumber: seq,
              id,
              kind: change.input.kind,
              appsyncRequestId: result.requestId ?? null,
              lambdaRequestId: deps.requestId ?? null,
              errors: result.errors,
            });
          }
          continue;
        }
        const extra = { kind: change.input.kind, attempts: result.attempts, appsyncRequestId: result.requestId };
        const base = { sequenceNumber: seq, cause: 'publish' as const, id, reason: result.reason, errorName: result.errorName };
        const f = result.permanent ? await settlePermanent(records[index], base, extra) : { ...base, disposition: 'reported' as const };
        if (!result.permanent) logFailure(f, extra);
        failureAt.set(index, f);
        if (f.disposition === 'reported') blockedBy = seq;
      }
    }
  };
  await Promise.all([...invalid, ...Array.from({ length: Math.min(concurrency, groups.size) }, worker)]);

  const failures = [...failureAt.entries()].sort(([a], [b]) => a - b).map(([, f]) => f);
  const reported = failures.filter((f) => f.disposition === 'reported');
  const batchItemFailures: DynamoDBBatchItemFailure[] = reported.filter((f) => f.sequenceNumber !== undefined).map((f) => ({ itemIdentifier: f.sequenceNumber as string }));
  const count = (pred: (f: RecordFailure) => boolean): number => failures.filter(pred).length;
  log(reported.length > 0 ? 'warn' : 'info', 'batch done', {
    records: records.length,
    published: published.length,
    skipped: skipped.length,
    alreadyPublished: alreadyPublished.length,
    alreadyDeadLettered: alreadyDeadLettered.length,
    deadLettered: count((f) => f.disposition === 'deadLettered'),
    loggedOnly: count((f) => f.disposition === 'logged'),
    reported: reported.length,
    heldBack: count((f) => f.cause === 'held'),
    notAttemptedDeadline: count((f) => f.cause === 'deadline'),
    lambdaRequestId: deps.requestId ?? null,
  });
  if (reported.some((f) => f.sequenceNumber === undefined)) {
    throw new Error('a stream record without a sequence number could not be dead-lettered and cannot be reported as a batch item failure; failing the whole batch');
  }
  return { published, skipped, alreadyPublished, alreadyDeadLettered, failures, response: { batchItemFailures } };
}

function jsonLog(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

// ── Lambda adapter ──────────────────────────────────────────────────────────────────────────────────────────

let credentials: Credentials | undefined;
const publishers = new Map<string, Publisher>();
const sinks = new Map<string, DeadLetterSink>();
/** This sandbox's published sequence numbers (rule 4). */
const memo = new PublishedMemo();

interface Settings {
  url: string;
  region: string;
  dlqUrl?: string;
  concurrency: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  requestTimeoutMs: number;
}

/** Reads the environment (called on every invocation). */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const url = env.APPSYNC_URL;
  if (!url) throw new Error('APPSYNC_URL is not set: it must be the region\'s AppSync GraphQL endpoint');
  const region = env.AWS_REGION;
  if (!region) throw new Error('AWS_REGION is not set');
  const dlqUrl = env.NOTIFIER_DLQ_URL?.trim() || undefined;
  if (dlqUrl !== undefined && !/^(https?|file):\/\//.test(dlqUrl)) throw new Error(`NOTIFIER_DLQ_URL must be an SQS queue URL (https://…) or a file:// URL, got ${JSON.stringify(dlqUrl)}`);
  return {
    url,
    region,
    ...(dlqUrl ? { dlqUrl } : {}),
    concurrency: intSetting(env, 'NOTIFIER_CONCURRENCY', DEFAULT_CONCURRENCY, 1),
    maxAttempts: intSetting(env, 'NOTIFIER_MAX_ATTEMPTS', PUBLISH_DEFAULTS.maxAttempts, 1),
    baseDelayMs: intSetting(env, 'NOTIFIER_BACKOFF_BASE_MS', PUBLISH_DEFAULTS.baseDelayMs, 0),
    maxDelayMs: intSetting(env, 'NOTIFIER_BACKOFF_MAX_MS', PUBLISH_DEFAULTS.maxDelayMs, 0),
    requestTimeoutMs: intSetting(env, 'NOTIFIER_REQUEST_TIMEOUT_MS', PUBLISH_DEFAULTS.requestTimeoutMs, 1),
  };
}

function intSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Margin kept before the function's timeout: no publish is started that could run past it. */
const DEADLINE_MARGIN_MS = 1000;

export async function handler(event: DynamoDBStreamEvent, context?: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'awsRequestId'>>): Promise<DynamoDBBatchResponse> {
  const s = readSettings(); // synchronously, before any await: per-invocation env is captured here
  const remaining = context?.getRemainingTimeInMillis?.();
  const deadlineAt = typeof remaining === 'number' ? Date.now() + remaining - DEADLINE_MARGIN_MS : undefined;
  credentials ??= fromEnv();
  const key = JSON.stringify([s.url, s.region, s.maxAttempts, s.baseDelayMs, s.maxDelayMs, s.requestTimeoutMs]);
  let publisher = publishers.get(key);
  if (!publisher) {
    publisher = new Publisher({ ...s, credentials });
    publishers.set(key, publisher);
  }
  let sink: DeadLetterSink | undefined;
  if (s.dlqUrl) {
    sink = sinks.get(`${s.region}|${s.dlqUrl}`);
    if (!sink) {
      sink = deadLetterSink(s.dlqUrl, s.region, credentials);
      sinks.set(`${s.region}|${s.dlqUrl}`, sink);
    }
  }
  const p = publisher;
  const dl = sink;
  const report = await processRecords(event.Records ?? [], {
    region: s.region,
    concurrency: s.concurrency,
    deadlineAt,
    memo,
    requestId: context?.awsRequestId,
    publish: (input) => p.publish(input, deadlineAt),
    ...(dl ? { deadLetter: (entry: DeadLetterEntry, timeoutMs: number) => dl.send(entry, timeoutMs) } : {}),
  });
  return report.response;
}
