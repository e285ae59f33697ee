/**
 * `npm run replay-dlq -- --region R [--stack S | --local]`: republishes what a region's notifier DLQ holds, so a
 * notification lost to a fault (AppSync down longer than the retries, a bad deployment since fixed) reaches
 * subscribers after all. The queue holds two kinds of message (components/notifier.ts):
 *   - Lambda's on-failure records of a discarded range (`DDBStreamBatchInfo`: stream ARN, shard id, first and last
 *     sequence number, arrival times; https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, "Error
 *     handling"): the records themselves are re-read from the stream (GetShardIterator AT_SEQUENCE_NUMBER, then
 *     GetRecords up to the last one) — possible only while the stream keeps them, 24 hours
 *     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html); older ranges are reported
 *     as expired and left in the queue;
 *   - the notifier's own dead-lettered records (handlers/lib/deadLetter.ts): the record is in the message (or, if
 *     it was too big, re-read from the stream by its sequence number).
 * Each message's records go through the notifier's own core (handlers/notifier.ts processRecords → signed
 * publishItemChange). A message whose records all published is deleted; any other is left in the queue (and
 * becomes visible again after the visibility timeout), with the reason printed. The queue is an SQS standard
 * queue (components/notifier.ts), which has no deduplication id, so one record can be in it twice (dead-lettered by
 * two Lambda sandboxes, or dead-lettered and inside a discarded range): within one replay run, each (stream ARN,
 * sequence number) is published once and every copy is deleted. The memory lasts only that run: a copy that one
 * run leaves (past --max, or received after it) is published again by a later run, so subscribers de-duplicate
 * on (publishedRegion, sequenceNumber), as for any at-least-once delivery.
 *
 *   --region R        the region whose DLQ to replay (required)
 *   --stack S         the deployed stack (default dev): DLQ URL and GraphQL URL from `pulumi stack output`,
 *                     AWS credentials from the default chain
 *   --local           the running emulator (npm start): its DLQ file (<its logDir>/<region>.notifier-dlq.jsonl),
 *                     DynamoDB Local's stream and the region's local AppSync, from .emulator/endpoints.json
 *   --endpoints F     with --local: that emulator's endpoints file instead (several can run side by side)
 *   --max N           replay at most N messages (default 100)
 *   --dry-run         read and re-read, publish nothing, delete nothing
 * Exit status: 0 every message replayed (or none), 1 some left in the queue, 2 bad arguments.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DynamoDBRecord } from 'aws-lambda';
import { DEAD_LETTER_KIND } from '../handlers/lib/deadLetter';
import { processRecords, PublishedMemo } from '../handlers/notifier';
import { type Credentials, Publisher } from '../handlers/lib/publish';
import type { ItemChangeInput } from '../handlers/lib/streamRecord';
import type { PublishResult } from '../handlers/lib/publish';
import { runMain } from './runMain';

export const USAGE = `usage: npm run replay-dlq -- --region <region> [--stack <name> | --local [--endpoints <file>]] [--max N] [--dry-run]

  Republishes a region's notifier DLQ: Lambda's discarded ranges (re-read from the stream, within its 24 h
  retention) and the notifier's dead-lettered records. Deletes each message whose records all published.
  A record in the queue twice is published once within one replay run (not across runs): subscribers
  de-duplicate on (publishedRegion, sequenceNumber).

  --region, -r <region>   the region whose DLQ to replay (required)
  --stack, -s <name>      deployed stack (default dev): URLs from pulumi stack output, credentials from the default chain
  --local                 the running emulator (npm start) instead
  --endpoints <file>      with --local: that emulator's endpoints file (default .emulator/endpoints.json)
  --max <n>               at most this many messages (default 100)
  --dry-run               publish nothing, delete nothing: show what would be replayed
  --help, -h              this text

  Exit status: 0 all replayed (or nothing to do), 1 some messages left in the queue, 2 bad arguments.`;

/** The stream's retention: a range older than this can no longer be re-read. */
export const STREAM_RETENTION_MS = 24 * 3600 * 1000;

export interface QueueMessage {
  id: string;
  body: string;
}

export interface DlqSource {
  receive(max: number): Promise<QueueMessage[]>;
  remove(m: QueueMessage): Promise<void>;
}

export interface RangeQuery {
  streamArn: string;
  shardId?: string;
  start: string;
  end: string;
}

export interface StreamReader {
  /** The records with start ≤ sequence number ≤ end, in order (Lambda's event shape). */
  read(q: RangeQuery): Promise<DynamoDBRecord[]>;
}

export interface ReplayOutcome {
  id: string;
  what: string;
  records: number;
  published: number;
  action: 'deleted' | 'kept' | 'would publish';
  why?: string;
}

const cmp = (a: string, b: string): number => {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
};
export const inRange = (seq: string | undefined, q: Pick<RangeQuery, 'start' | 'end'>): boolean => seq !== undefined && /^\d+$/.test(seq) && cmp(seq, q.start) >= 0 && cmp(seq, q.end) <= 0;

/** Replays each message as described in the header; never throws for one bad message. */
export async function replay(
  messages: readonly QueueMessage[],
  deps: { region: string; reader: StreamReader; publish: (i: ItemChangeInput) => Promise<PublishResult>; remove: (m: QueueMessage) => Promise<void>; dryRun?: boolean; now?: () => number },
): Promise<ReplayOutcome[]> {
  const now = deps.now ?? Date.now;
  const out: ReplayOutcome[] = [];
  // What this replay run published, by (stream ARN, sequence number): the queue is a standard one (at-least-once,
  // no deduplication id), and a record may be in it more than once — dead-lettered by two sandboxes, or both
  // dead-lettered and inside a discarded range. Within this run each is published once and every copy deleted;
  // a copy a later run receives is published again (subscribers de-duplicate on publishedRegion + sequenceNumber).
  const memo = new PublishedMemo();
  for (const m of messages) {
    const kept = (what: string, why: string, records = 0, published = 0): void => void out.push({ id: m.id, what, records, published, action: 'kept', why });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(m.body) as Record<string, unknown>;
    } catch {
      kept('unreadable message', 'the body is not JSON');
      continue;
    }
    let records: DynamoDBRecord[];
    let what: string;
    try {
      if (body.kind === DEAD_LETTER_KIND) {
        const seq = typeof body.sequenceNumber === 'string' ? body.sequenceNumber : undefined;
        what = `dead-lettered record ${seq ?? '(no sequence number)'} (${String(body.cause)}: ${String(body.reason).slice(0, 120)})`;
        if (body.record && body.truncated !== true) records = [body.record as DynamoDBRecord];
        else if (seq && typeof body.eventSourceARN === 'string') records = await deps.reader.read({ streamArn: body.eventSourceARN, start: seq, end: seq });
        else {
          kept(what, 'the message holds no record and no stream position');
          continue;
        }
      } else if (body.DDBStreamBatchInfo && typeof body.DDBStreamBatchInfo === 'object') {
        const info = body.DDBStreamBatchInfo as Record<string, unknown>;
        const start = String(info.startSequenceNumber ?? '');
        const end = String(info.endSequenceNumber ?? '');
        what = `discarded range ${start}..${end} (${String(info.batchSize)} records, ${String((body.requestContext as { condition?: string } | undefined)?.condition ?? 'unknown condition')})`;
        const first = Date.parse(String(info.approximateArrivalOfFirstRecord ?? ''));
        if (!Number.isNaN(first) && now() - first > STREAM_RETENTION_MS) {
          kept(what, `expired: first record arrived ${new Date(first).toISOString()}, past the stream's 24 h retention; the items table holds the current state`);
          continue;
        }
        if (!/^\d+$/.test(start) || !/^\d+$/.test(end) || typeof info.streamArn !== 'string') {
          kept(what, 'no usable stream ARN and sequence numbers in DDBStreamBatchInfo');
          continue;
        }
        records = await deps.reader.read({ streamArn: info.streamArn, shardId: typeof info.shardId === 'string' ? info.shardId : undefined, start, end });
      } else {
        kept('unknown message', 'neither a DDBStreamBatchInfo nor a dead-lettered record');
        continue;
      }
    } catch (e) {
      kept('message', `reading the stream failed: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    if (records.length === 0) {
      kept(what, 'the stream no longer holds these records (trimmed after 24 h, or another stream)');
      continue;
    }
    if (deps.dryRun) {
      out.push({ id: m.id, what, records: records.length, published: 0, action: 'would publish' });
      continue;
    }
    const report = await processRecords(records, { region: deps.region, publish: deps.publish, memo, log: () => undefined });
    const published = report.published.length + report.skipped.length;
    if (report.failures.length === 0) {
      await deps.remove(m);
      const again = report.alreadyPublished.length;
      out.push({ id: m.id, what, records: records.length, published, action: 'deleted', ...(again > 0 ? { why: `${again} record(s) already published by this replay (a duplicate DLQ entry)` } : {}) });
    } else {
      kept(what, `${report.failures.length} record(s) failed again: ${report.failures[0].reason}`, records.length, published);
    }
  }
  return out;
}

// ── Sources and readers ───────────────────────────────────────────────────────────────────────────────────────

/** The emulator's DLQ file: one message per line; replayed lines are removed, the rest stay. */
export function fileSource(file: string): DlqSource & { flush(): void } {
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
  const removed = new Set<string>();
  return {
    receive: async (max) => lines.slice(0, max).map((body, i) => ({ id: `line ${i + 1}`, body })),
    remove: async (m) => void removed.add(m.id),
    flush: () => {
      if (removed.size === 0) return;
      // lines appended by the running emulator meanwhile are kept
      const now = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
      const keep = now.filter((_, i) => !removed.has(`line ${i + 1}`));
      fs.writeFileSync(file, keep.map((l) => `${l}\n`).join(''));
    },
  };
}

/** Reads records from an AWS stream (or DynamoDB Local's, with `endpoint`) with @aws-sdk/client-dynamodb-streams. */
export async function sdkStreamReader(region: string, opts: { endpoint?: string; credentials?: Credentials; localTable?: string } = {}): Promise<StreamReader> {
  const { DynamoDBStreamsClient, DescribeStreamCommand, GetShardIteratorCommand, GetRecordsCommand } = await import('@aws-sdk/client-dynamodb-streams');
  const client = new DynamoDBStreamsClient({ region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), ...(opts.credentials ? { credentials: opts.credentials as never } : {}) });
  const toLambda = (r: Record<string, unknown>, arn: string): DynamoDBRecord => {
    const ddb = { ...(r.dynamodb as Record<string, unknown>) };
    if (ddb.ApproximateCreationDateTime instanceof Date) ddb.ApproximateCreationDateTime = Math.floor(ddb.ApproximateCreationDateTime.getTime() / 1000);
    return { ...r, dynamodb: ddb, eventSourceARN: arn } as DynamoDBRecord;
  };
  return {
    async read(q) {
      const shards = q.shardId ? [q.shardId] : ((await client.send(new DescribeStreamCommand({ StreamArn: q.streamArn }))).StreamDescription?.Shards ?? []).map((s) => s.ShardId as string);
      const out: DynamoDBRecord[] = [];
      for (const shardId of shards) {
        let iterator = (
          await client.send(
            new GetShardIteratorCommand(
              q.shardId ? { StreamArn: q.streamArn, ShardId: shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: q.start } : { StreamArn: q.streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' },
            ),
          )
        ).ShardIterator;
        for (let empty = 0, page = 0; iterator && empty < 3 && page < 1000; page += 1) {
          const res = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
          const recs = (res.Records ?? []) as unknown as Record<string, unknown>[];
          empty = recs.length === 0 ? empty + 1 : 0;
          for (const r of recs) {
            const seq = (r.dynamodb as { SequenceNumber?: string } | undefined)?.SequenceNumber;
            if (inRange(seq, q)) out.push(toLambda(r, q.streamArn));
          }
          const last = (recs.at(-1)?.dynamodb as { SequenceNumber?: string } | undefined)?.SequenceNumber;
          if (last && cmp(last, q.end) >= 0) break;
          iterator = res.NextShardIterator;
        }
      }
      return out.sort((a, b) => cmp(a.dynamodb!.SequenceNumber!, b.dynamodb!.SequenceNumber!));
    },
  };
}

// ── CLI ──────────────────────────────────────────────────────────────────────────────────────────────────────

class UsageError extends Error {}

export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let v: { region: string; stack?: string; local: boolean; endpoints?: string; max: number; dryRun: boolean };
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        region: { type: 'string', short: 'r' },
        stack: { type: 'string', short: 's' },
        local: { type: 'boolean', default: false },
        endpoints: { type: 'string' },
        max: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    if (!values.region) throw new UsageError('--region is required');
    if (values.local && values.stack) throw new UsageError('--stack and --local exclude each other');
    if (values.endpoints !== undefined && !values.local) throw new UsageError('--endpoints is for --local only');
    const max = values.max === undefined ? 100 : Number(values.max);
    if (!Number.isInteger(max) || max < 1) throw new UsageError(`--max must be an integer ≥ 1, got ${JSON.stringify(values.max)}`);
    v = { region: values.region, stack: values.stack, local: values.local ?? false, endpoints: values.endpoints, max, dryRun: values['dry-run'] ?? false };
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }

  let source: DlqSource & { flush?: () => void };
  let reader: StreamReader;
  let publisher: Publisher;
  try {
    if (v.local) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- only --local needs the emulator's modules
      const { readEndpoints } = require('./emulator') as typeof import('./emulator');
      const e = readEndpoints(v.endpoints ? path.resolve(v.endpoints) : undefined) as ReturnType<typeof readEndpoints> & { dynamodbEndpoint: string; regions: Record<string, { graphqlUrl: string }> };
      if (!e.regions[v.region]) throw new UsageError(`--region ${v.region} is not one of the emulator's regions: ${Object.keys(e.regions).join(', ')}`);
      const { localDlqFile } = await import('../local/notifierLoop');
      const { DEFAULT_LOG_DIR } = await import('../local/emulator');
      const { LOCAL_CREDENTIALS } = await import('../local/tables');
      const { readStreamRecords } = await import('../local/dynamodbStreams');
      const { parseConfig, projectKeys, readStackFile } = await import('../config');
      const all = readStackFile(e.stack);
      const cfg = parseConfig(projectKeys(all), { stack: e.stack, aws: projectKeys(all, 'aws'), all });
      const file = localDlqFile(e.logDir ?? DEFAULT_LOG_DIR, v.region);
      source = fileSource(file);
      // DynamoDB Local's stream, read whole and cut to the range (its shards are few and short)
      reader = { read: async (q) => (await readStreamRecords(e.dynamodbEndpoint, v.region, cfg.tableName)).filter((r) => inRange(r.dynamodb?.SequenceNumber, q)).map((r) => ({ ...r, eventSourceARN: q.streamArn })) };
      publisher = new Publisher({ url: e.regions[v.region].graphqlUrl, region: v.region, credentials: LOCAL_CREDENTIALS });
      out(`replaying ${path.relative(process.cwd(), file)} (the emulator's ${v.region} notifier DLQ)`);
    } else {
      const stack = v.stack ?? process.env.PULUMI_STACK ?? 'dev';
      const outputs = JSON.parse(execFileSync('pulumi', ['stack', 'output', '--json', '--stack', stack], { encoding: 'utf8' })) as { regions?: Record<string, { graphqlUrl?: string; notifierDlqUrl?: string }> };
      const r = outputs.regions?.[v.region];
      if (!r?.graphqlUrl || !r.notifierDlqUrl) throw new UsageError(`stack ${stack} has no outputs for region ${v.region} (regions: ${Object.keys(outputs.regions ?? {}).join(', ') || 'none'})`);
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      const { SQSClient, ReceiveMessageCommand, DeleteMessageCommand } = await import('@aws-sdk/client-sqs');
      const sqs = new SQSClient({ region: v.region });
      const queueUrl = r.notifierDlqUrl;
      source = {
        receive: async (maxN) => {
          const got: QueueMessage[] = [];
          while (got.length < maxN) {
            const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, maxN - got.length), WaitTimeSeconds: 1, VisibilityTimeout: 300 }));
            if (!res.Messages?.length) break;
            got.push(...res.Messages.map((m) => ({ id: m.ReceiptHandle as string, body: m.Body ?? '' })));
          }
          return got;
        },
        remove: async (m) => void (await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.id }))),
      };
      const credentials = defaultProvider();
      reader = await sdkStreamReader(v.region, { credentials });
      publisher = new Publisher({ url: r.graphqlUrl, region: v.region, credentials });
      out(`replaying ${queueUrl} (stack ${stack}, ${v.region})`);
    }
  } catch (e) {
    err(e instanceof UsageError ? `${e.message}\n${USAGE}` : `error: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  }

  const messages = await source.receive(v.max);
  const results = await replay(messages, { region: v.region, reader, publish: (i) => publisher.publish(i), remove: (m) => source.remove(m), dryRun: v.dryRun });
  source.flush?.();
  for (const r of results) out(`${r.action.padEnd(13)} ${r.what}: ${r.records} record(s), ${r.published} published${r.why ? ` — ${r.why}` : ''}`);
  const kept = results.filter((r) => r.action === 'kept').length;
  out(`${messages.length} message(s): ${results.filter((r) => r.action === 'deleted').length} replayed and deleted, ${kept} left in the queue${v.dryRun ? ' (dry run)' : ''}`);
  return kept > 0 ? 1 : 0;
}

runMain(module, main);
