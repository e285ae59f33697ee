/**
 * The notifier's outbound calls under faults: every publish attempt is bounded as a whole (a DNS lookup that never
 * answers, a request queued behind a busy socket), `classify` takes any junk without throwing, a partial answer
 * counts as published only when it echoes every field sent, failure reasons are truncated and never carry the
 * item's value, and the DLQ write is the very SQS
 * SendMessage request @aws-sdk/client-sqs sends (against a local HTTP server standing in for SQS).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { processRecords } from '../../handlers/notifier';
import { classify, Publisher } from '../../handlers/lib/publish';
import { deadLetterBody, type DeadLetterEntry, MAX_MESSAGE_BYTES, SqsDeadLetter } from '../../handlers/lib/deadLetter';
import type { ItemChangeInput } from '../../handlers/lib/streamRecord';

const REGION = 'eu-west-1';
const CREDS = { accessKeyId: 'AKIDFAULTS', secretAccessKey: 'faults-secret', sessionToken: 'faults-token' };
const input = (value = 'v'): ItemChangeInput => ({
  id: 'f-1',
  kind: 'CREATED',
  item: { id: 'f-1', value, version: 1, updatedAt: '2026-11-30T10:00:00.000Z', updatedRegion: REGION },
  publishedRegion: REGION,
  sequenceNumber: '100',
  changedAt: '2026-11-30T10:00:00.000Z',
});

interface Captured {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function server(answer: (c: Captured, res: http.ServerResponse) => void): Promise<{ url: string; seen: Captured[]; close(): Promise<void> }> {
  const seen: Captured[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const c = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(c);
      answer(c, res);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

describe('notifier under faults (publish timeouts, junk answers, the DLQ write)', function () {
  this.timeout(15_000);

  describe('every attempt is bounded as a whole', () => {
    it('a DNS lookup that never answers ends in a TimeoutError after the attempt timeout, not never', async () => {
      let lookups = 0;
      const p = new Publisher({
        url: 'http://appsync.stalled.invalid/graphql',
        region: REGION,
        credentials: CREDS,
        maxAttempts: 2,
        baseDelayMs: 1,
        maxDelayMs: 1,
        requestTimeoutMs: 300,
        lookup: () => void (lookups += 1), // never calls back
      });
      const started = Date.now();
      const result = await p.publish(input());
      const took = Date.now() - started;
      assert.equal(result.ok, false);
      assert.ok(!result.ok && result.retryable && result.errorName === 'TimeoutError', JSON.stringify(result));
      assert.equal(result.attempts, 2);
      assert.equal(lookups, 2);
      // each attempt ran its full 300 ms; the upper bound only guards against a hang (5 × the two attempts)
      assert.ok(took >= 590 && took < 5 * 600, `two 300 ms attempts took ${took} ms`);
    });

    it('a request waiting for a socket (the agent busy with a server that never answers) times out from when it was sent', async () => {
      const silent = await server(() => undefined); // accepts, reads, never answers
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const p = new Publisher({ url: `${silent.url}/graphql`, region: REGION, credentials: CREDS, maxAttempts: 1, requestTimeoutMs: 400, agent });
        const ends: number[] = [];
        const results = await Promise.all([0, 1, 2].map(() => p.publish(input()).then((r) => (ends.push(Date.now()), r))));
        assert.ok(results.every((r) => !r.ok && r.errorName === 'TimeoutError'), JSON.stringify(results));
        // Timed from when each was sent, all three time out together. Timed from the socket instead (req.setTimeout),
        // each would start its 400 ms only once the one before freed the socket: 400 ms apart. Compared with each
        // other, not with the clock, so a busy machine (which delays all three alike) cannot fail this.
        const spread = Math.max(...ends) - Math.min(...ends);
        assert.ok(spread < 400, `the three ended within ${spread} ms of each other`);
      } finally {
        agent.destroy();
        await silent.close();
      }
    });

    it('an attempt never runs past the caller\'s deadline', async () => {
      const silent = await server(() => undefined);
      try {
        const p = new Publisher({ url: `${silent.url}/graphql`, region: REGION, credentials: CREDS, maxAttempts: 1, requestTimeoutMs: 5000 });
        const started = Date.now();
        // requestTimeoutMs (5 s) does not fit, so nothing is even started
        const none = await p.publish(input(), started + 1000);
        assert.ok(!none.ok && none.attempts === 0 && none.retryable);
        assert.equal(silent.seen.length, 0);
      } finally {
        await silent.close();
      }
    });
  });

  describe('classify and failure reasons', () => {
    const verdict = (status: number, body: string): string => {
      const v = classify({ status, headers: {}, body });
      return v.ok ? 'ok' : v.retryable ? 'retry' : v.permanent ? 'permanent' : 'report';
    };

    it('never throws on junk, and gives each a verdict', () => {
      const cases: Array<[number, string, string]> = [
        [200, '{"errors":[null]}', 'permanent'],
        [200, '{"errors":[1,"x",[],{}]}', 'permanent'],
        [200, '{"errors":[{"errorType":{"a":1},"message":["m"]}]}', 'permanent'],
        [200, '{"errors":null,"data":null}', 'report'],
        [200, 'null', 'retry'],
        [200, '[]', 'retry'],
        [200, '"text"', 'retry'],
        [200, '', 'retry'],
        [200, '{"data":"x"}', 'report'],
        [200, '{"data":{"publishItemChange":{"id":"f-1"}}}', 'ok'],
        [400, '{"errors":[null]}', 'permanent'],
        [403, '{"errors":[{"errorType":"UnauthorizedException"}]}', 'report'],
        [200, '{"errors":[{"errorType":"Unauthorized","message":"Not Authorized"}]}', 'report'],
        [200, '{"errors":[{"errorType":"ValidationError"}]}', 'permanent'],
        [200, '{"errors":[{"errorType":"Throttling"}]}', 'retry'],
        [404, 'Not Found', 'report'],
        [502, '<html>', 'retry'],
      ];
      for (const [status, body, expected] of cases) assert.equal(verdict(status, body), expected, `${status} ${body}`);
    });

    it('truncates GraphQL error text and never puts the item value in a reason', async () => {
      const value = 'customer-secret-value-42';
      const echo = await server((_, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'rid-1' });
        res.end(JSON.stringify({ errors: [{ errorType: 'ValidationError', message: `Validation error: input.item.value ${value} is not valid ${'x'.repeat(5000)}` }] }));
      });
      try {
        const p = new Publisher({ url: `${echo.url}/graphql`, region: REGION, credentials: CREDS, maxAttempts: 1 });
        const r = await p.publish(input(value));
        assert.ok(!r.ok);
        assert.equal(r.permanent, true);
        assert.equal(r.errorName, 'ValidationError');
        assert.equal(r.requestId, 'rid-1');
        assert.ok(!r.reason.includes(value), r.reason);
        assert.match(r.reason, /<value>/);
        assert.ok(r.reason.length < 300, `reason is ${r.reason.length} characters`);
      } finally {
        await echo.close();
      }
    });
  });

  describe('item values never reach the logs; an answer with every field sent is a delivery', () => {
    /** One INSERT stream record of item `id` holding `value`, as Lambda delivers it. */
    const streamRecord = (id: string, value: string, seq: string): DynamoDBRecord =>
      ({
        eventID: `e-${seq}`,
        eventName: 'INSERT',
        eventSourceARN: `arn:aws:dynamodb:${REGION}:123456789012:table/t/stream/2026-11-30T00:00:00.000`,
        awsRegion: REGION,
        dynamodb: {
          ApproximateCreationDateTime: 1_764_496_800,
          Keys: { id: { S: id } },
          NewImage: marshall({ id, value, version: 1, updatedAt: '2026-11-30T10:00:00.000Z', updatedRegion: REGION }) as Record<string, AttributeValue>,
          SequenceNumber: seq,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      }) as DynamoDBRecord;

    /** Runs one record through the notifier's core against `answer`, capturing every log line and DLQ entry. */
    async function notify(value: string, answer: (c: Captured, res: http.ServerResponse) => void) {
      const appsync = await server(answer);
      const lines: string[] = [];
      const dlq: DeadLetterEntry[] = [];
      try {
        const p = new Publisher({ url: `${appsync.url}/graphql`, region: REGION, credentials: CREDS, maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 });
        const report = await processRecords([streamRecord('f-1', value, '100')], {
          region: REGION,
          publish: (i) => p.publish(i),
          deadLetter: async (e) => void dlq.push(e),
          log: (level, msg, fields) => void lines.push(JSON.stringify({ level, msg, ...fields })),
        });
        return { report, lines, dlq, requests: appsync.seen.length };
      } finally {
        await appsync.close();
      }
    }

    /** AppSync-like validation errors that quote the variable (the way its messages quote input values). */
    const echoes: Array<[string, (value: string) => (c: Captured, res: http.ServerResponse) => void]> = [
      [
        'a GraphQL error quoting the value',
        (value) => (_, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ data: { publishItemChange: null }, errors: [{ errorType: 'ValidationError', message: `Validation error of type WrongType: argument 'input.item.value' with value 'StringValue{value='${value}'}' is not a valid 'String'` }] }));
        },
      ],
      [
        'an HTTP 400 whose text body quotes the value',
        (value) => (_, res) => {
          res.writeHead(400, { 'content-type': 'text/plain' });
          res.end(`Bad request: could not read "${value}" in {"input":{"item":{"value":"${value}"}}}`);
        },
      ],
      [
        'a 200 without data whose body quotes the value',
        (value) => (_, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ data: null, extensions: { echo: value } }));
        },
      ],
    ];
    // values of 1, 100, 200 and 16,384 characters; 'ж' appears nowhere else, so any prefix of a value would show it
    for (const length of [1, 100, 200, 16_384]) {
      for (const [what, answer] of echoes) {
        it(`${what}: no part of a ${length}-character value is logged`, async () => {
          const value = 'ж'.repeat(length);
          const { lines, dlq } = await notify(value, answer(value));
          assert.ok(lines.length > 0, 'the failure is logged');
          for (const line of lines) assert.ok(!line.includes('ж') && !line.includes('\\u0436'), `a log line holds the value: ${line.slice(0, 300)}`);
          for (const e of dlq) assert.ok(!e.reason.includes('ж'), `the DLQ reason holds the value: ${e.reason.slice(0, 300)}`);
          assert.match(lines.join('\n'), /<value>|answer has no data/);
        });
      }
    }

    it('data.publishItemChange together with errors: delivered (published, not dead-lettered, sent once), the errors logged without the value', async () => {
      const value = 'secret-value-Ω-1234';
      const { report, lines, dlq, requests } = await notify(value, (c, res) => {
        const input = (JSON.parse(c.body) as { variables: { input: Record<string, unknown> } }).variables.input;
        res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'rid-partial' });
        res.end(JSON.stringify({ data: { publishItemChange: input }, errors: [{ path: ['publishItemChange', 'item', 'updatedBy'], errorType: 'MappingTemplate', message: `field could not be resolved for ${value}` }] }));
      });
      assert.deepEqual([report.published, report.failures, dlq, requests], [['100'], [], [], 1]);
      const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'published with GraphQL errors');
      assert.ok(warning, lines.join('\n'));
      assert.equal(warning.level, 'warn');
      assert.equal(warning.sequenceNumber, '100');
      assert.equal(warning.appsyncRequestId, 'rid-partial');
      assert.match(String(warning.errors), /^MappingTemplate: field could not be resolved for <value>$/);
      assert.ok(!lines.join('\n').includes(value));
    });

    it('data with errors inside item (a non-null field failed, so item came back null): subscribers lost the change, so it is dead-lettered, not counted as published', async () => {
      const value = 'secret-value-Ω-5678';
      const { report, lines, dlq, requests } = await notify(value, (c, res) => {
        const input = (JSON.parse(c.body) as { variables: { input: Record<string, unknown> } }).variables.input;
        res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'rid-item-null' });
        // the GraphQL null propagation: item.version is Int!, so its failure nulls item (item itself is nullable)
        res.end(JSON.stringify({ data: { publishItemChange: { ...input, item: null } }, errors: [{ path: ['publishItemChange', 'item', 'version'], errorType: 'MappingTemplate', message: `cannot return null for ${value}` }] }));
      });
      assert.deepEqual([report.published, report.failures.map((f) => f.disposition), report.response.batchItemFailures, requests], [[], ['deadLettered'], [], 1], 'not published, not reported to Lambda, not retried');
      assert.equal(dlq.length, 1, 'one DLQ entry');
      assert.equal(dlq[0].cause, 'publish');
      assert.equal(dlq[0].errorName, 'PartialAnswer');
      assert.equal(dlq[0].requestId, 'rid-item-null');
      assert.match(dlq[0].reason, /^partial answer: publishItemChange came back without item, so subscribers got the change without it; GraphQL error: MappingTemplate: cannot return null for <value>$/);
      assert.equal(dlq[0].record.dynamodb?.SequenceNumber, '100');
      assert.ok(!lines.join('\n').includes(value), 'the value is in no log line');
      assert.ok(lines.some((l) => (JSON.parse(l) as { disposition?: string }).disposition === 'deadLettered'), lines.join('\n'));
    });

    it('classify: data with errors is delivered only when the echo holds every field sent', () => {
      const sent: ItemChangeInput = {
        id: 'a',
        kind: 'UPDATED',
        item: { id: 'a', value: 'v', version: 2, updatedAt: '2026-11-30T10:00:00.000Z', updatedRegion: REGION, updatedBy: 'alice' },
        publishedRegion: REGION,
        sequenceNumber: '7',
        changedAt: '2026-11-30T10:00:00.000Z',
      };
      const answer = (echo: unknown, errors: unknown[]) => ({ status: 200, headers: {}, body: JSON.stringify({ data: { publishItemChange: echo }, errors }) });
      const err = [{ errorType: 'MappingTemplate', message: 'x' }];
      const verdict = (a: ReturnType<typeof classify>) => (a.ok ? 'ok' : a.permanent ? `permanent: ${a.reason}` : 'other');
      assert.equal(verdict(classify(answer(sent, err), 'v', sent)), 'ok', 'every field came back');
      assert.equal(verdict(classify(answer({ ...sent, item: null }, []), 'v', sent)), 'ok', 'no errors: the mutation answered what it answered');
      assert.match(verdict(classify(answer({ ...sent, item: null }, err), 'v', sent)), /^permanent: partial answer: publishItemChange came back without item,/);
      assert.match(verdict(classify(answer({ ...sent, item: { ...sent.item, updatedBy: null } }, err), 'v', sent)), /^permanent: partial answer: publishItemChange came back without item\.updatedBy,/);
      // a null sent is a null echoed: nothing lost
      const deleted: ItemChangeInput = { ...sent, kind: 'DELETED', item: null };
      assert.equal(verdict(classify(answer(deleted, err), 'v', deleted)), 'ok');
      // without the input sent, data plus errors cannot be judged complete
      assert.match(verdict(classify(answer(sent, err), 'v')), /^permanent: partial answer/);
    });
  });

  describe('the DLQ write (SQS SendMessage, JSON protocol)', () => {
    const record = (valueBytes: number): DynamoDBRecord =>
      ({
        eventID: 'e1',
        eventName: 'INSERT',
        eventSourceARN: `arn:aws:dynamodb:${REGION}:123456789012:table/t/stream/2026-11-30T00:00:00.000`,
        dynamodb: { SequenceNumber: '000000000000000000042', Keys: { id: { S: 'f-1' } }, NewImage: { id: { S: 'f-1' }, value: { S: 'v'.repeat(valueBytes) } } },
      }) as DynamoDBRecord;
    const entry = (r: DynamoDBRecord): DeadLetterEntry => ({ region: REGION, cause: 'invalid', reason: 'bad', errorName: 'InvalidRecord', record: r });
    const sqsAnswer = (c: Captured, res: http.ServerResponse): void => {
      const body = JSON.parse(c.body) as { MessageBody: string };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'sqs-rid' });
      res.end(JSON.stringify({ MessageId: 'm-1', MD5OfMessageBody: crypto.createHash('md5').update(body.MessageBody).digest('hex') }));
    };

    it('sends what @aws-sdk/client-sqs sends: same target, content type, body, signing scope', async () => {
      const sqs = await server(sqsAnswer);
      try {
        const queueUrl = `${sqs.url}/123456789012/notifier-dlq`;
        const messageBody = deadLetterBody(entry(record(10)));
        const client = new SQSClient({ region: REGION, endpoint: sqs.url, credentials: CREDS });
        await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: messageBody }));
        client.destroy();
        await new SqsDeadLetter(queueUrl, REGION, CREDS).send(entry(record(10)), 2000);
        assert.equal(sqs.seen.length, 2);
        const [sdk, ours] = sqs.seen;
        assert.equal(ours.path, sdk.path);
        for (const h of ['x-amz-target', 'content-type', 'x-amz-security-token']) assert.equal(ours.headers[h], sdk.headers[h], h);
        const scope = (c: Captured): string => /Credential=[^/]+\/\d{8}\/([^,]+),/.exec(String(c.headers.authorization))![1];
        assert.equal(scope(ours), scope(sdk));
        assert.equal(scope(ours), `${REGION}/sqs/aws4_request`);
        const sdkBody = JSON.parse(sdk.body) as Record<string, string>;
        const ourBody = JSON.parse(ours.body) as Record<string, string>;
        assert.deepEqual(Object.keys(ourBody).sort(), Object.keys(sdkBody).sort());
        assert.equal(ourBody.QueueUrl, sdkBody.QueueUrl);
        const msg = JSON.parse(ourBody.MessageBody) as Record<string, unknown>;
        assert.equal(msg.kind, 'global-appsync.notifier.record');
        assert.equal(msg.sequenceNumber, '000000000000000000042');
        assert.deepEqual(msg.record, record(10));
      } finally {
        await sqs.close();
      }
    });

    it('rejects, naming SQS\'s error type, when SQS refuses', async () => {
      const sqs = await server((_, res) => {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: 'not allowed' }));
      });
      try {
        await assert.rejects(new SqsDeadLetter(`${sqs.url}/123456789012/q`, REGION, CREDS).send(entry(record(1)), 2000), (e: Error) => e.name === 'AccessDeniedException');
      } finally {
        await sqs.close();
      }
    });

    it('drops the images of a record too big for an SQS message, marking it truncated', () => {
      const body = deadLetterBody(entry(record(300_000)));
      assert.ok(Buffer.byteLength(body) <= MAX_MESSAGE_BYTES);
      const msg = JSON.parse(body) as { truncated?: boolean; record: DynamoDBRecord };
      assert.equal(msg.truncated, true);
      assert.equal(msg.record.dynamodb?.NewImage, undefined);
      assert.equal(msg.record.dynamodb?.SequenceNumber, '000000000000000000042');
      assert.equal(JSON.parse(deadLetterBody(entry(record(100)))).truncated, undefined);
    });
  });
});
