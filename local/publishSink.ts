/**
 * A minimal stand-in for AppSync's publishItemChange, for measuring the notifier rather than AppSync: an HTTP
 * server on 127.0.0.1 that answers every POST after a fixed latency with `{data: {publishItemChange: input}}`
 * (or a scripted answer for inputs a predicate picks), and counts what it was sent. It checks that a SigV4
 * Authorization header is present but does not verify it — test/support/fakeAppSync.ts does that, at ~20 ms a
 * request, which would be all a throughput measurement measures.
 *
 * Used by the notifier benchmark (scripts/bench/notifier.ts, behind `npm run bench` and `npm run bench:notifier`:
 * the endpoint latency is the measured setting) and by test/handlers/notifierDelivery.test.ts (hundreds of
 * publishes per scenario).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SinkAnswer {
  status: number;
  body?: unknown;
}

export interface SinkInput {
  id: string;
  sequenceNumber: string;
  kind?: string;
}

export interface PublishSink {
  readonly url: string;
  /** Every input answered with success, in answer order. */
  readonly publishes: SinkInput[];
  /** Every request's input (failures included). */
  readonly requests: SinkInput[];
  /** Requests in flight now / at most so far. */
  readonly maxInFlight: number;
  /** Answers `answer` to inputs `match` picks, `times` times (default: always). */
  script(rule: { answer: SinkAnswer; match: (i: SinkInput) => boolean; times?: number }): void;
  reset(): void;
  stop(): Promise<void>;
}

export async function startPublishSink(opts: { latencyMs?: number } = {}): Promise<PublishSink> {
  const latencyMs = opts.latencyMs ?? 0;
  const publishes: SinkInput[] = [];
  const requests: SinkInput[] = [];
  let rules: Array<{ answer: SinkAnswer; match: (i: SinkInput) => boolean; left: number }> = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const answer = (status: number, body: unknown): void => {
        const send = (): void => {
          inFlight -= 1;
          const text = body === undefined ? '' : JSON.stringify(body);
          res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': `sink-${requests.length}` });
          res.end(text);
        };
        if (latencyMs > 0) setTimeout(send, latencyMs);
        else send();
      };
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? ''))) {
        answer(401, { errors: [{ errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.' }] });
        return;
      }
      let input: SinkInput;
      try {
        input = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables: { input: SinkInput } }).variables.input;
      } catch {
        answer(400, { errors: [{ errorType: 'BadRequestException', message: 'not a GraphQL request' }] });
        return;
      }
      requests.push(input);
      const rule = rules.find((r) => r.left > 0 && r.match(input));
      if (rule) {
        rule.left -= 1;
        answer(rule.answer.status, rule.answer.body);
        return;
      }
      publishes.push(input);
      answer(200, { data: { publishItemChange: input } });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/graphql`,
    publishes,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    script: (rule) => void rules.push({ answer: rule.answer, match: rule.match, left: rule.times ?? Number.POSITIVE_INFINITY }),
    reset: () => {
      publishes.length = 0;
      requests.length = 0;
      rules = [];
      maxInFlight = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Run as a child process (`fork`, as scripts/bench/notifier.ts does, so the endpoint's CPU is not counted as the
 * notifier's): argv[2] is the latency in ms; it sends {url} once listening, answers 'stats' with
 * {publishes, requests, maxInFlight} and 'reset' with {reset: true}, and exits on 'stop'.
 */
if (require.main === module && typeof process.send === 'function') {
  void startPublishSink({ latencyMs: Number(process.argv[2] ?? 0) }).then((sink) => {
    const send = (m: unknown): void => void process.send?.(m);
    process.on('message', (m) => {
      if (m === 'stats') send({ publishes: sink.publishes.length, requests: sink.requests.length, maxInFlight: sink.maxInFlight });
      else if (m === 'reset') send((sink.reset(), { reset: true }));
      else if (m === 'stop') void sink.stop().then(() => process.exit(0));
    });
    send({ url: sink.url });
  });
}
