/**
 * The stack config keys that size the items and notifier functions (validated here, called by config/index.ts, which
 * stays the only reader of raw config):
 *
 *   reservedConcurrency: { items?: number; notifier?: number }
 *     Lambda reserved concurrency per function and region (absent: none, the functions share the account pool).
 *     Lambda's rules (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html): a reservation
 *     is taken from the account's regional concurrency, and at least 100 must stay unreserved; the default
 *     account concurrency is 1,000 per region (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 *     So each value is an integer from 1 to 900 and both together at most 900. 0 (a function that never runs) is
 *     refused. The notifier's must be at least notifier.parallelizationFactor: each shard runs that many batches
 *     at once, and a reservation below it throttles the event source mapping even on a one-shard stream. How many
 *     shards a stream has is DynamoDB's to decide (AWS documents no count), so `npm run plan` also warns how many
 *     shards a reservation covers (notifierConcurrencyWarning, below).
 *
 *   notifier: { parallelizationFactor: number; publishConcurrency: number }
 *     parallelizationFactor: concurrent batches per stream shard on the event source mapping, 1 to 10
 *     (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html), default 4: each batch runs in its
 *     own sandbox, and a 256 MB function gets about 1/7 of a vCPU (CPU is allotted in proportion to memory, 1,769 MB
 *     = 1 vCPU: https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), so at ~0.3-1 ms of CPU per
 *     signed publish one sandbox tops out at a few hundred records a second; four lanes per shard clear 1,000/s.
 *     It costs nothing by itself (Lambda bills duration, not concurrency) but needs that many concurrent executions.
 *     publishConcurrency: parallel publishItemChange calls per invocation (NOTIFIER_CONCURRENCY), 1 to 256,
 *     default 64. Per shard the notifier publishes about parallelizationFactor × publishConcurrency / AppSync
 *     latency records a second (4 × 64 / 50 ms ≈ 5,000/s ceiling; `npm run bench:notifier` measures it).
 *     Per-id order holds at any setting: see handlers/notifier.ts (header).
 *
 * No @pulumi imports: the config tests and scripts load it cheaply.
 */
import { type ConfigProblem, parseObject, type RawConfig, unknownFields } from './problems';

export interface ReservedConcurrency {
  items?: number;
  notifier?: number;
}

export interface NotifierTuning {
  parallelizationFactor: number;
  publishConcurrency: number;
}

export const DEFAULT_NOTIFIER_TUNING: Readonly<NotifierTuning> = Object.freeze({ parallelizationFactor: 4, publishConcurrency: 64 });
export const RESERVED_CONCURRENCY_KEYS = ['items', 'notifier'] as const;
export const NOTIFIER_TUNING_KEYS = ['parallelizationFactor', 'publishConcurrency'] as const;

/** Lambda's default concurrency per account and region, and the part it keeps unreserved. */
export const ACCOUNT_CONCURRENCY_DEFAULT = 1000;
export const UNRESERVED_MINIMUM = 100;
export const RESERVABLE = ACCOUNT_CONCURRENCY_DEFAULT - UNRESERVED_MINIMUM;
export const PARALLELIZATION_FACTOR_MAX = 10;
/** At most handlers/lib/signedPost.ts MAX_SOCKETS, so no publish waits for a socket (a test checks). */
export const PUBLISH_CONCURRENCY_MAX = 256;

const show = (v: unknown): string => (v === undefined ? '(not set)' : (JSON.stringify(v) ?? String(v)));
const isIntIn = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** `notifier` (already an object, unknown fields reported by the caller): defaults filled in. */
export function notifierTuning(obj: Record<string, unknown> | undefined, problems: ConfigProblem[]): NotifierTuning {
  const out: NotifierTuning = { ...DEFAULT_NOTIFIER_TUNING };
  if (!obj) return out;
  const pf = obj.parallelizationFactor;
  if (pf !== undefined) {
    if (isIntIn(pf, 1, PARALLELIZATION_FACTOR_MAX)) out.parallelizationFactor = pf;
    else problems.push({ key: 'notifier.parallelizationFactor', value: show(pf), allowed: `an integer from 1 to ${PARALLELIZATION_FACTOR_MAX} (Lambda's limit for concurrent batches per shard; default ${DEFAULT_NOTIFIER_TUNING.parallelizationFactor})` });
  }
  const pc = obj.publishConcurrency;
  if (pc !== undefined) {
    if (isIntIn(pc, 1, PUBLISH_CONCURRENCY_MAX)) out.publishConcurrency = pc;
    else problems.push({ key: 'notifier.publishConcurrency', value: show(pc), allowed: `an integer from 1 to ${PUBLISH_CONCURRENCY_MAX} (parallel publishes per invocation; default ${DEFAULT_NOTIFIER_TUNING.publishConcurrency})` });
  }
  return out;
}

/** `reservedConcurrency` (already an object, unknown fields reported by the caller), checked against Lambda's rules and the tuning. */
export function reservedConcurrency(obj: Record<string, unknown> | undefined, tuning: NotifierTuning, problems: ConfigProblem[]): ReservedConcurrency {
  const out: ReservedConcurrency = {};
  if (!obj) return out;
  for (const k of RESERVED_CONCURRENCY_KEYS) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!isIntIn(v, 1, RESERVABLE)) {
      problems.push({
        key: `reservedConcurrency.${k}`,
        value: show(v),
        allowed: `an integer from 1 to ${RESERVABLE}: Lambda keeps ${UNRESERVED_MINIMUM} of the account's regional concurrency (default ${ACCOUNT_CONCURRENCY_DEFAULT}) unreserved; 0 would stop the function; leave it out for no reservation`,
      });
    } else {
      out[k] = v;
    }
  }
  if (out.items !== undefined && out.notifier !== undefined && out.items + out.notifier > RESERVABLE) {
    problems.push({
      key: 'reservedConcurrency',
      value: show(obj),
      allowed: `items + notifier is ${out.items + out.notifier}, more than the ${RESERVABLE} a region's default account concurrency (${ACCOUNT_CONCURRENCY_DEFAULT}) can reserve while keeping ${UNRESERVED_MINIMUM} unreserved`,
    });
  }
  if (out.notifier !== undefined && out.notifier < tuning.parallelizationFactor) {
    problems.push({
      key: 'reservedConcurrency.notifier',
      value: show(out.notifier),
      allowed: `at least notifier.parallelizationFactor (${tuning.parallelizationFactor}): each stream shard runs that many notifier invocations at once, fewer would throttle the stream`,
    });
  }
  return out;
}

/** `notifier` and `reservedConcurrency` (rules above). */
export function parseNotifierKeys(raw: RawConfig, problems: ConfigProblem[]): { notifier: NotifierTuning; reservedConcurrency: ReservedConcurrency } {
  const object = (key: 'notifier' | 'reservedConcurrency', known: readonly string[], example: string): Record<string, unknown> | undefined => {
    const text = raw[key];
    if (text === undefined || text === '') return undefined;
    const obj = parseObject(key, text, problems, `with any of ${known.join(', ')}; e.g. ${example}`);
    if (obj) unknownFields(key, obj, known, problems);
    return obj;
  };
  const notifier = notifierTuning(object('notifier', NOTIFIER_TUNING_KEYS, '{"parallelizationFactor": 4, "publishConcurrency": 64}'), problems);
  return { notifier, reservedConcurrency: reservedConcurrency(object('reservedConcurrency', RESERVED_CONCURRENCY_KEYS, '{"items": 100, "notifier": 10}'), notifier, problems) };
}

/**
 * What `npm run plan` warns about `reservedConcurrency.notifier` (undefined when there is nothing to say: no
 * reservation). Lambda processes a DynamoDB stream with up to (shards × parallelizationFactor) concurrent batches —
 * one invocation each (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, "Polling and batching streams" and
 * "Concurrent reading of a shard"; https://aws.amazon.com/blogs/compute/new-aws-lambda-scaling-controls-for-kinesis-and-dynamodb-event-sources/).
 * The shard count is DynamoDB's: shards "are created and deleted automatically, as needed", and a shard "might split in
 * response to high levels of write activity on its parent table"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_DescribeStream.html). AWS documents no
 * count a stream starts with, on-demand or provisioned, so it is not known at plan time and a check against a number
 * would be a guess.
 * Config validation only refuses a reservation below parallelizationFactor (not even one shard's worth); this says
 * how many shards the reservation covers and what fires when the stream has more.
 */
export function notifierConcurrencyWarning(reserved: Readonly<ReservedConcurrency>, tuning: Readonly<NotifierTuning>): string | undefined {
  if (reserved.notifier === undefined) return undefined;
  const pf = tuning.parallelizationFactor;
  const shards = Math.floor(reserved.notifier / pf);
  return (
    `reservedConcurrency.notifier = ${reserved.notifier} with notifier.parallelizationFactor = ${pf} covers ${shards} stream shard${shards === 1 ? '' : 's'} ` +
    `at full parallelism. Lambda runs up to shards × ${pf} notifier invocations at once, and DynamoDB decides the shard count: it creates ` +
    `and deletes shards itself and splits them as writes grow, and AWS documents no starting count, so it is unknown until deploy. On a stream with more shards the mapping's invocations are throttled: ` +
    `alarms-<region>-notifier-throttles fires and notifier-<region>-iterator-age follows as the stream backs up. Leave it unset, or size it to ` +
    `at least ${pf} × the shard count \`aws dynamodbstreams describe-stream\` shows, with room for splits.`
  );
}
