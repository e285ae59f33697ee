/**
 * Notifier Lambda (docs/architecture.md, "Per-region picture"): every record of this region's replica stream — local and replicated writes alike,
 * INSERT/MODIFY/REMOVE — becomes exactly one SigV4-signed `publishItemChange` call to this region's AppSync API,
 * which fans it out to `onItemChange` subscribers connected to this region.
 *
 * Pure core: `processRecords(records, deps)` (stream records → publishes → a batch response), over
 * handlers/lib/streamRecord.ts (`toItemChange`: record → change | skip | parse failure) and handlers/lib/publish.ts
 * (signed POST with retries). Thin adapter: `handler`, which reads the environment on every invocation (so the
 * local emulator can run one bundle with per-region env):
 *
 *   APPSYNC_URL              the region's GraphQL endpoint (https://…/graphql; http:// accepted for local use)
 *   AWS_REGION               set by Lambda: published as `publishedRegion` and the SigV4 signing region
 *   NOTIFIER_CONCURRENCY     parallel publishes, default 8 (never two of the same item id at once)
 *   NOTIFIER_MAX_ATTEMPTS    attempts per record, default 5
 *   NOTIFIER_BACKOFF_BASE_MS / NOTIFIER_BACKOFF_MAX_MS / NOTIFIER_REQUEST_TIMEOUT_MS   defaults 100 / 5000 / 5000
 * Credentials come from the default provider chain (the function's role). A bad setting fails the invocation.
 *
 * ── Batch failures: how this works with the event source mapping ─────────────────────────────────────────────
 * The mapping (components/notifier.ts) must set functionResponseTypes ["ReportBatchItemFailures"],
 * bisectBatchOnFunctionError true, a finite maximumRetryAttempts and an onFailure destination (the DLQ).
 * AWS semantics: when the function returns batchItemFailures, Lambda checkpoints just before the LOWEST reported
 * sequence number and retries the batch from there — every record after it too, including the ones this
 * invocation already published. With bisect on, the retried batch is split at that sequence number and only
 * the remainder is retried; a record that keeps failing ends up, once maximumRetryAttempts is spent, in a batch
 * whose range (shard id + sequence numbers — not the records themselves) goes to the onFailure destination, and
 * the shard moves on. Without bisect/retry limits a poison record would block its shard until the records expire
 * (24 h).
 *
 * What this function does with that:
 *   1. Every record is parsed first. A record it cannot parse (typed ParseFailure) is logged with its sequence
 *      number and reason and reported in batchItemFailures: never silently dropped, and never blocking the
 *      records behind it, because …
 *   2. … everything else in the batch is still published in this same invocation (publish all, report only the
 *      failures). So when a poison record's batch finally lands in the DLQ, the good records sharing that batch
 *      range were already published on an earlier attempt; the DLQ entry names the range, the log names the
 *      poison record's sequence number and reason.
 *   3. Records of the same item id are published one after another in stream order; different ids run in
 *      parallel (bounded). If a publish for id X fails (after its retries), the later records of X in this batch
 *      are NOT published — they are reported as failed too, so Lambda's retry from the checkpoint replays them
 *      after the failed one and subscribers never see X's changes out of order. The price: if X's failing record
 *      keeps failing until it goes to the DLQ, the held-back records of X in its final batch go with it (they are
 *      inside the DLQ'd range; the log lists each one). Ordering wins over delivery for retryable failures, which
 *      are normally transient. A parse failure does not hold back later records of its id: it will never
 *      succeed, and holding them would only lose them.
 *   4. batchItemFailures lists exactly the failed records (parse failures, publishes that failed, records held
 *      back behind them) in stream order. Skipped records (identical MODIFY) are successes.
 *   4b. Near the function timeout (context.getRemainingTimeInMillis, minus NOTIFIER_REQUEST_TIMEOUT_MS and 1 s)
 *      no new attempt or record is started; the records not done are reported like failures, so a slow AppSync
 *      ends in a partial batch response (checkpointing what was published) rather than a timeout, which Lambda
 *      treats as a function error: the whole batch again.
 *   5. A record without a sequence number cannot be reported (an empty itemIdentifier makes Lambda fail the whole
 *      batch anyway); after publishing the rest, the invocation throws, and bisect isolates that record.
 * Consequence: delivery is at-least-once. A retried batch re-publishes the records after the checkpoint that had
 * already gone out; subscribers can de-duplicate by (publishedRegion, sequenceNumber), or by item version.
 */
import type { Context, DynamoDBBatchItemFailure, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { type Credentials, PUBLISH_DEFAULTS, type PublishResult, Publisher } from './lib/publish';
import { type ItemChangeInput, type ParsedChange, toItemChange } from './lib/streamRecord';

export const DEFAULT_CONCURRENCY = 8;

export interface NotifierDeps {
  /** This region: published as publishedRegion. */
  region: string;
  publish: (input: ItemChangeInput) => Promise<PublishResult>;
  /** Epoch ms after which no further record is started (the rest are reported); default: none. */
  deadlineAt?: number;
  /** Parallel publishes (distinct ids); default 8. */
  concurrency?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  now?: () => Date;
}

export interface RecordFailure {
  sequenceNumber: string | undefined;
  /**
   * invalid: cannot be parsed; publish: publishing failed; held: not published behind a failed record of its id;
   * deadline: not attempted, the invocation was about to time out.
   */
  cause: 'invalid' | 'publish' | 'held' | 'deadline';
  reason: string;
  id?: string;
}

export interface BatchReport {
  /** Sequence numbers published, in completion order. */
  published: string[];
  skipped: string[];
  /** In stream order. */
  failures: RecordFailure[];
  response: DynamoDBBatchResponse;
}

/** Publishes a batch of stream records as described in the file header. Throws only for a record without a sequence number. */
export async function processRecords(records: readonly DynamoDBRecord[], deps: NotifierDeps): Promise<BatchReport> {
  const log = deps.log ?? jsonLog;
  const concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be an integer ≥ 1, got ${concurrency}`);

  const failureAt = new Map<number, RecordFailure>();
  const published: string[] = [];
  const skipped: string[] = [];
  const groups = new Map<string, { index: number; change: ParsedChange }[]>();

  records.forEach((record, index) => {
    const outcome = toItemChange(record, deps.region, deps.now);
    if (outcome.status === 'invalid') {
      failureAt.set(index, { sequenceNumber: outcome.sequenceNumber, cause: 'invalid', reason: outcome.reason });
      log('error', 'unparseable stream record reported as a batch item failure', {
        sequenceNumber: outcome.sequenceNumber ?? null,
        eventID: record?.eventID ?? null,
        reason: outcome.reason,
      });
    } else if (outcome.status === 'skip') {
      skipped.push(outcome.sequenceNumber);
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
          failureAt.set(index, { sequenceNumber: seq, cause: 'held', id, reason: `not published: earlier record ${blockedBy} of the same id failed` });
          log('warn', 'record held back behind a failed record of the same id; reported as a batch item failure', { sequenceNumber: seq, id, behind: blockedBy });
          continue;
        }
        if (deps.deadlineAt !== undefined && Date.now() >= deps.deadlineAt) {
          blockedBy = seq;
          failureAt.set(index, { sequenceNumber: seq, cause: 'deadline', id, reason: 'not attempted: the invocation is about to time out' });
          log('warn', 'record not attempted, the invocation is about to time out; reported as a batch item failure', { sequenceNumber: seq, id });
          continue;
        }
        const result = await deps.publish(change.input);
        if (result.ok) {
          published.push(seq);
        } else {
          blockedBy = seq;
          failureAt.set(index, { sequenceNumber: seq, cause: 'publish', id, reason: result.reason });
          log('error', 'publishItemChange failed; record reported as a batch item failure', {
            sequenceNumber: seq,
            id,
            kind: change.input.kind,
            attempts: result.attempts,
            reason: result.reason,
          });
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, groups.size) }, worker));

  const failures = [...failureAt.entries()].sort(([a], [b]) => a - b).map(([, f]) => f);
  const batchItemFailures: DynamoDBBatchItemFailure[] = failures
    .filter((f) => f.sequenceNumber !== undefined)
    .map((f) => ({ itemIdentifier: f.sequenceNumber as string }));
  const count = (cause: RecordFailure['cause']): number => failures.filter((f) => f.cause === cause).length;
  log(failures.length > 0 ? 'warn' : 'info', 'batch done', {
    records: records.length,
    published: published.length,
    skipped: skipped.length,
    invalid: count('invalid'),
    failed: count('publish'),
    heldBack: count('held'),
    notAttemptedDeadline: count('deadline'),
  });
  if (failures.some((f) => f.sequenceNumber === undefined)) {
    throw new Error('a stream record without a sequence number cannot be reported as a batch item failure; failing the whole batch');
  }
  return { published, skipped, failures, response: { batchItemFailures } };
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

interface Settings {
  url: string;
  region: string;
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
  return {
    url,
    region,
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

export async function handler(event: DynamoDBStreamEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<DynamoDBBatchResponse> {
  const s = readSettings(); // synchronously, before any await: per-invocation env is captured here
  const remaining = context?.getRemainingTimeInMillis?.();
  const deadlineAt = typeof remaining === 'number' ? Date.now() + remaining - DEADLINE_MARGIN_MS : undefined;
  credentials ??= defaultProvider();
  const key = JSON.stringify([s.url, s.region, s.maxAttempts, s.baseDelayMs, s.maxDelayMs, s.requestTimeoutMs]);
  let publisher = publishers.get(key);
  if (!publisher) {
    publisher = new Publisher({ ...s, credentials });
    publishers.set(key, publisher);
  }
  const p = publisher;
  const report = await processRecords(event.Records ?? [], {
    region: s.region,
    concurrency: s.concurrency,
    deadlineAt,
    publish: (input) => p.publish(input, deadlineAt),
  });
  return report.response;
}
