/**
 * Fault injection between the handlers and DynamoDB Local, at the HTTP layer the SDK really uses:
 * - `lostReplyProxy`: forwards every request to DynamoDB Local; while armed, for the next N requests of the
 *   chosen operations it lets the request reach DynamoDB (which applies it), waits for the reply, then resets the
 *   client's connection instead of relaying it. The SDK sees ECONNRESET and retries: the "ambiguous write".
 *   It can also relay a ConditionalCheckFailedException without the stored item the request asked for
 *   (ReturnValuesOnConditionCheckFailure), so that the handler's read-back is what must find its write; and follow
 *   a plan per operation (`plan`): drop this request's reply, then answer the next ones with a DynamoDB error
 *   without forwarding them (e.g. ReplicatedWriteConflictException on the SDK's retries of an applied write).
 * - `silentServer`: accepts connections and never answers (a stalled endpoint).
 * - `fakeDynamo`: answers every request with a canned DynamoDB JSON error (throttling, 5xx, AccessDenied …).
 */
import http from 'node:http';
import net from 'node:net';

/**
 * What the proxy does with one request of an operation: `drop` forwards it (DynamoDB applies it) and loses the reply;
 * `pass` relays it as is; `{ error }` answers it with that DynamoDB error (400) without forwarding it: nothing applied.
 */
export type PlannedReply = 'drop' | 'pass' | { error: string; message?: string };

export interface LostReplyProxy {
  url: string;
  /** Drop the reply of the next `count` requests whose X-Amz-Target is one of `operations`. */
  arm(operations: readonly string[], count?: number): void;
  /**
   * The next requests of `operation` get these replies, in order (before anything `arm` says); `plan(op, [])` ends
   * what is left of it.
   */
  plan(operation: string, replies: readonly PlannedReply[]): void;
  /** `<operation>` forwarded and relayed, `<operation>~` forwarded with its reply dropped, `<operation>!` refused, in order. */
  log: string[];
  /** Relay the next `count` ConditionalCheckFailedException replies without their `Item`. */
  stripConditionItem(count: number): void;
  /** ConditionalCheckFailedException replies relayed without their `Item` so far. */
  stripped: number;
  /** X-Amz-Target operation names seen, in order (e.g. TransactWriteItems). */
  seen: string[];
  /** Replies dropped so far. */
  dropped: number;
  close(): Promise<void>;
}

function operationOf(req: http.IncomingMessage): string {
  const target = String(req.headers['x-amz-target'] ?? '');
  return target.slice(target.indexOf('.') + 1);
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

export async function lostReplyProxy(target: string): Promise<LostReplyProxy> {
  const upstream = new URL(target);
  let armedFor: readonly string[] = [];
  let remaining = 0;
  let strip = 0;
  const plans = new Map<string, PlannedReply[]>();
  const state = { seen: [] as string[], log: [] as string[], dropped: 0, stripped: 0 };
  const server = http.createServer((req, res) => {
    const op = operationOf(req);
    state.seen.push(op);
    const planned = plans.get(op)?.shift();
    let drop = planned === 'drop';
    if (planned === undefined && remaining > 0 && armedFor.includes(op)) {
      remaining -= 1;
      drop = true;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (typeof planned === 'object') {
        state.log.push(`${op}!`);
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `planned-${state.seen.length}` });
        res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${planned.error}`, message: planned.message ?? planned.error }));
        return;
      }
      state.log.push(drop ? `${op}~` : op);
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            if (drop) {
              // DynamoDB has applied the request and answered: the answer is lost on the way back
              state.dropped += 1;
              req.socket.resetAndDestroy();
              return;
            }
            let reply = Buffer.concat(body);
            const headers = { ...up.headers };
            if (strip > 0 && up.statusCode === 400) {
              const parsed = JSON.parse(reply.toString('utf8')) as { __type?: string; Item?: unknown };
              if (String(parsed.__type).endsWith('#ConditionalCheckFailedException') && parsed.Item !== undefined) {
                strip -= 1;
                state.stripped += 1;
                delete parsed.Item;
                reply = Buffer.from(JSON.stringify(parsed));
                // the body changed: its length and DynamoDB's CRC32 of it no longer hold
                if (headers['content-length'] !== undefined) headers['content-length'] = String(reply.length);
                delete headers['x-amz-crc32'];
              }
            }
            res.writeHead(up.statusCode ?? 500, headers);
            res.end(reply);
          });
        },
      );
      out.on('error', () => req.socket.destroy());
      out.end(Buffer.concat(chunks));
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    arm(operations, count = 1) {
      armedFor = operations;
      remaining = count;
    },
    plan(operation, replies) {
      plans.set(operation, [...replies]);
    },
    get log() {
      return state.log;
    },
    stripConditionItem(count) {
      strip = count;
    },
    get seen() {
      return state.seen;
    },
    get dropped() {
      return state.dropped;
    },
    get stripped() {
      return state.stripped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SilentServer {
  url: string;
  close(): Promise<void>;
}

export async function silentServer(): Promise<SilentServer> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => sockets.push(s));
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export type OkBody = (operation: string, request: Record<string, unknown>) => unknown;

export interface FakeDynamo {
  url: string;
  /**
   * Every request gets this status and DynamoDB error type (`__type`), e.g. 400 ProvisionedThroughputExceededException;
   * `extra` adds fields to the error body (CancellationReasons); `only` limits the error to one operation, the
   * others answer `okBody` (200): a body, or a function of the operation and the parsed request.
   */
  answer(status: number, type: string, message: string, opts?: { extra?: Record<string, unknown>; only?: string; okBody?: unknown | OkBody }): void;
  requests: number;
  close(): Promise<void>;
}

export async function fakeDynamo(): Promise<FakeDynamo> {
  let reply: { status: number; type: string; message: string; extra?: Record<string, unknown>; only?: string; okBody?: unknown | OkBody } = {
    status: 500,
    type: 'InternalServerError',
    message: 'internal',
  };
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests += 1;
    const op = operationOf(req);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `fake-${state.requests}` };
      if (reply.only !== undefined && op !== reply.only) {
        const ok = reply.okBody;
        res.writeHead(200, headers);
        res.end(JSON.stringify((typeof ok === 'function' ? (ok as OkBody)(op, JSON.parse(Buffer.concat(chunks).toString() || '{}')) : ok) ?? {}));
        return;
      }
      res.writeHead(reply.status, headers);
      res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${reply.type}`, message: reply.message, ...(reply.extra ?? {}) }));
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    answer(status, type, message, opts = {}) {
      reply = { status, type, message, ...opts };
    },
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RefusingProxy {
  url: string;
  /** Answer the next `count` requests whose X-Amz-Target is `operation` with a 400 DynamoDB error `type`. */
  refuse(operation: string, count: number, type: string, message: string): void;
  /** `<operation>` forwarded, `<operation>!` refused, in order. */
  seen: string[];
  close(): Promise<void>;
}

/**
 * Forwards every request to DynamoDB Local, except that the next N requests of one operation get a canned DynamoDB
 * error instead (e.g. AccessDeniedException while IAM has not yet applied a new role's policy).
 */
export async function refusingProxy(target: string): Promise<RefusingProxy> {
  const upstream = new URL(target);
  let refusal: { operation: string; count: number; type: string; message: string } | undefined;
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const op = operationOf(req);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (refusal && refusal.count > 0 && refusal.operation === op) {
        refusal.count -= 1;
        seen.push(`${op}!`);
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `refused-${seen.length}` });
        res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${refusal.type}`, message: refusal.message }));
        return;
      }
      seen.push(op);
      const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      });
      out.on('error', () => req.socket.destroy());
      out.end(Buffer.concat(chunks));
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    refuse(operation, count, type, message) {
      refusal = { operation, count, type, message };
    },
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
