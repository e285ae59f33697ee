/**
 * The notifier's own dead-letter writes: a record that can never be published (unparseable, or refused by
 * AppSync as such: handlers/lib/publish.ts `permanent`) is written WHOLE to the notifier's SQS queue — the same
 * queue the event source mapping sends its on-failure ranges to — and then counted as handled, so it is never
 * reported to Lambda and never makes Lambda re-publish the records behind it (Lambda retries a batch from the failed record on).
 *
 * Message body (JSON), told apart from Lambda's on-failure messages (which carry `DDBStreamBatchInfo`) by `kind`:
 *   { kind: 'global-appsync.notifier.record', version: 1, region, cause, reason, errorName, attempts?, requestId?,
 *     deadLetteredAt, eventSourceARN?, sequenceNumber?, record, truncated? }
 * `record` is the stream record as Lambda delivered it. SQS takes message bodies up to the queue's
 * maximumMessageSize (default and here 262,144 bytes: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html);
 * a bigger record is sent without its images (`truncated: true`): `npm run replay-dlq` re-reads it from the stream
 * by sequence number while the stream keeps it (24 h).
 *
 * Transport: SQS's JSON protocol (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.SendMessage`, as @aws-sdk/client-sqs
 * sends it), signed with @smithy/signature-v4 over handlers/lib/signedPost.ts. Not @aws-sdk/client-sqs itself: it
 * bundles to ~320 KB minified and the notifier must stay ≤ 150 KB; test/handlers/deadLetter.test.ts checks this
 * request against the one client-sqs builds. A `file://` URL appends one body per line to that file instead
 * (the local emulator, which has no SQS).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DynamoDBRecord } from 'aws-lambda';
import { type Credentials, makeSigner, post, requestIdOf, sign } from './signedPost';

export const DEAD_LETTER_KIND = 'global-appsync.notifier.record';
/** SQS's default maximumMessageSize, which the notifier's queue keeps (components/notifier.ts). */
export const MAX_MESSAGE_BYTES = 262_144;

export interface DeadLetterEntry {
  region: string;
  cause: 'invalid' | 'publish';
  reason: string;
  errorName: string;
  attempts?: number;
  requestId?: string;
  record: DynamoDBRecord;
}

export interface DeadLetterSink {
  /** Writes one entry; rejects when it could not be written (the caller then reports the record to Lambda). */
  send(entry: DeadLetterEntry, timeoutMs: number): Promise<void>;
  readonly target: string;
}

/** The message body for one entry, at most MAX_MESSAGE_BYTES (images dropped if needed). */
export function deadLetterBody(e: DeadLetterEntry, now: Date = new Date()): string {
  const base = {
    kind: DEAD_LETTER_KIND,
    version: 1,
    region: e.region,
    cause: e.cause,
    reason: e.reason,
    errorName: e.errorName,
    ...(e.attempts !== undefined ? { attempts: e.attempts } : {}),
    ...(e.requestId ? { requestId: e.requestId } : {}),
    deadLetteredAt: now.toISOString(),
    eventSourceARN: typeof e.record?.eventSourceARN === 'string' ? e.record.eventSourceARN : undefined,
    sequenceNumber: typeof e.record?.dynamodb?.SequenceNumber === 'string' ? e.record.dynamodb.SequenceNumber : undefined,
  };
  const whole = JSON.stringify({ ...base, record: e.record });
  if (Buffer.byteLength(whole) <= MAX_MESSAGE_BYTES) return whole;
  const { NewImage: _n, OldImage: _o, ...rest } = (e.record?.dynamodb ?? {}) as Record<string, unknown>;
  const slim = JSON.stringify({ ...base, truncated: true, record: { ...e.record, dynamodb: rest } });
  if (Buffer.byteLength(slim) <= MAX_MESSAGE_BYTES) return slim;
  return JSON.stringify({ ...base, truncated: true, record: null });
}

/** SQS SendMessage over the JSON protocol (see header). */
export class SqsDeadLetter implements DeadLetterSink {
  private readonly endpoint: URL;
  private readonly signer;

  constructor(
    readonly target: string,
    region: string,
    credentials: Credentials,
    private readonly transport: Parameters<typeof post>[4] = {},
  ) {
    const url = new URL(target);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`NOTIFIER_DLQ_URL must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>), got ${JSON.stringify(target)}`);
    this.endpoint = new URL('/', url);
    this.signer = makeSigner({ service: 'sqs', region, credentials });
  }

  async send(entry: DeadLetterEntry, timeoutMs: number): Promise<void> {
    const body = JSON.stringify({ QueueUrl: this.target, MessageBody: deadLetterBody(entry) });
    const headers = await sign(this.signer, this.endpoint, { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, body);
    const res = await post(this.endpoint, headers, body, timeoutMs, this.transport);
    if (res.status !== 200) {
      let type = `HTTP${res.status}`;
      try {
        const parsed = JSON.parse(res.body) as { __type?: unknown };
        if (typeof parsed.__type === 'string') type = parsed.__type.replace(/^.*#/, '');
      } catch {
        // not JSON: keep the status
      }
      const err = new Error(`SQS SendMessage answered HTTP ${res.status} (${type}; request id ${requestIdOf(res.headers) ?? 'none'})`);
      err.name = type;
      throw err;
    }
  }
}

/** Appends one body per line to a local file (the emulator's stand-in for the queue). */
export class FileDeadLetter implements DeadLetterSink {
  private readonly file: string;
  constructor(readonly target: string) {
    this.file = fileURLToPath(target);
  }
  async send(entry: DeadLetterEntry): Promise<void> {
    await fs.promises.appendFile(this.file, `${deadLetterBody(entry)}\n`);
  }
}

export function deadLetterSink(url: string, region: string, credentials: Credentials): DeadLetterSink {
  return url.startsWith('file:') ? new FileDeadLetter(url) : new SqsDeadLetter(url, region, credentials);
}
