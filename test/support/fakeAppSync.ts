/**
 * A local stand-in for one region's AppSync GraphQL endpoint, as far as the notifier sees it: an HTTP server on
 * 127.0.0.1 (random port) that
 *   1. VERIFIES SigV4 like AppSync's IAM auth, with the local endpoint's own verifier (local/appsync/auth.ts, an
 *      IAM-only API here: no API key): unsigned → 401 UnauthorizedException; unknown key, bad scope, stale date
 *      or wrong signature → 403 (AppSync-like `{errors:[{errorType,message}]}` bodies);
 *   2. executes the GraphQL body with the project's own AppSync executor (local/appsync/graphql.ts: schema.graphql
 *      + AppSync's prelude, the real publishItemChange resolver on its NONE data source, @aws_iam enforced for
 *      the verified IAM caller) — so a document or variables that don't fit get AppSync-like GraphQL errors, and
 *      `published` holds exactly what subscribers would receive (the mutation's selection);
 *   3. records every request (`requests`) and every successful publish (`publishes`), tracks in-flight requests
 *      overall and per item id;
 *   4. can be scripted (`script`) to answer 429 / 5xx / GraphQL errors / dropped connections N times (or always),
 *      optionally only for inputs matching a predicate, and to delay answers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticate } from '../../local/appsync/auth';
import { createGraphQLExecutor, IAM_CALLER, type GraphQLExecutor, type PublishEvent } from '../../local/appsync/graphql';
import type { ItemChangeInput } from '../../handlers/lib/streamRecord';

export interface FakeCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What the fake answers instead of executing the mutation. */
export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Destroy the socket without answering (a network error for the client). */
  drop?: boolean;
}

export interface ScriptRule {
  answer: ScriptedAnswer;
  /** How many matching requests get this answer; default: every one. */
  times?: number;
  match?: (input: ItemChangeInput) => boolean;
}

export interface RecordedRequest {
  status: number;
  /** Why the signature check failed, if it did. */
  authError?: string;
  input?: ItemChangeInput;
  /** The GraphQL document sent. */
  query?: string;
  /** The client's port: equal ports on two requests mean a reused (keep-alive) connection. */
  remotePort?: number;
  /** A scripted answer was given instead of executing. */
  scripted: boolean;
  headers: http.IncomingHttpHeaders;
}

export const THROTTLED: ScriptedAnswer = {
  status: 429,
  body: { errors: [{ errorType: 'TooManyRequestsException', message: 'Rate exceeded' }] },
};
export const SERVER_ERROR: ScriptedAnswer = {
  status: 500,
  body: { errors: [{ errorType: 'InternalFailure', message: 'An internal failure occurred.' }] },
};
export const BAD_GATEWAY: ScriptedAnswer = { status: 502, body: 'Bad Gateway' };
export const DROPPED: ScriptedAnswer = { status: 0, drop: true };
export function graphqlError(errorType: string, message = `${errorType} (scripted)`): ScriptedAnswer {
  return { status: 200, body: { data: { publishItemChange: null }, errors: [{ path: ['publishItemChange'], errorType, message }] } };
}

/** One region's AppSync as the notifier sees it: publishItemChange only, so no table is ever touched. */
function regionExecutor(region: string): GraphQLExecutor {
  const unused = { tableName: 'not-used-by-publishItemChange', region };
  return createGraphQLExecutor({
    settings: { region, primaryRegion: region, writeMode: 'multi-master' },
    dataSources: { localItems: unused, primaryItems: unused, appConfig: unused },
  });
}

export class FakeAppSync {
  readonly requests: RecordedRequest[] = [];
  readonly publishes: ItemChangeInput[] = [];
  /** What AppSync would deliver to onItemChange subscribers for each publish (the mutation's selection). */
  readonly published: PublishEvent[] = [];
  private readonly executor: GraphQLExecutor;
  /** Most requests executing at once, overall and for any single item id. */
  maxInFlight = 0;
  maxInFlightPerId = 0;
  /** Delay before answering an authorised request (ms), e.g. to let concurrency build up. */
  delay: (input: ItemChangeInput | undefined) => number = () => 0;

  private rules: ScriptRule[] = [];
  private inFlight = 0;
  private readonly inFlightById = new Map<string, number>();
  private readonly server: http.Server;

  private constructor(
    readonly region: string,
    readonly credentials: FakeCredentials,
  ) {
    this.executor = regionExecutor(region);
    this.executor.onPublish((event) => {
      this.published.push(event);
    });
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.handle(req, Buffer.concat(chunks).toString('utf8'), res).catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ errorType: 'FakeAppSyncBug', message: String(err) }] }));
        });
      });
    });
  }

  static async start(region: string, credentials: FakeCredentials): Promise<FakeAppSync> {
    const fake = new FakeAppSync(region, credentials);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/graphql`;
  }

  /** Adds a scripted answer; rules are tried in the order added. */
  script(rule: ScriptRule): void {
    this.rules.push({ ...rule });
  }

  reset(): void {
    this.requests.length = 0;
    this.publishes.length = 0;
    this.rules = [];
    this.maxInFlight = 0;
    this.maxInFlightPerId = 0;
    this.delay = () => 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const auth = await authenticate(
      { method: req.method ?? 'POST', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body },
      { region: this.region, credentials: this.credentials },
    );
    if (!auth.ok) {
      this.requests.push({ status: auth.status, authError: auth.message, scripted: false, headers: req.headers, remotePort: req.socket.remotePort });
      reply(auth.status, { errors: [{ errorType: auth.errorType, message: auth.message }] });
      return;
    }

    let parsed: { query?: unknown; variables?: { input?: ItemChangeInput } } = {};
    try {
      parsed = JSON.parse(body);
    } catch {
      this.requests.push({ status: 400, scripted: false, headers: req.headers, remotePort: req.socket.remotePort });
      reply(400, { errors: [{ errorType: 'MalformedHttpRequestException', message: 'The request body is not JSON' }] });
      return;
    }
    const input = parsed.variables?.input;
    const query = typeof parsed.query === 'string' ? parsed.query : undefined;
    const seen = { input, query, headers: req.headers, remotePort: req.socket.remotePort };
    const id = typeof input?.id === 'string' ? input.id : '';
    this.inFlight += 1;
    this.inFlightById.set(id, (this.inFlightById.get(id) ?? 0) + 1);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.maxInFlightPerId = Math.max(this.maxInFlightPerId, this.inFlightById.get(id) ?? 0);
    try {
      const wait = this.delay(input);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));

      const rule = this.rules.find((r) => (r.times === undefined || r.times > 0) && (!r.match || (input !== undefined && r.match(input))));
      if (rule) {
        if (rule.times !== undefined) rule.times -= 1;
        this.requests.push({ ...seen, status: rule.answer.status, scripted: true });
        if (rule.answer.drop) {
          req.socket.destroy();
          return;
        }
        reply(rule.answer.status, rule.answer.body ?? '', rule.answer.headers);
        return;
      }

      const result = await this.executor.execute({
        query: query ?? '',
        variables: parsed.variables as Record<string, unknown> | undefined,
        identity: IAM_CALLER,
      });
      this.requests.push({ ...seen, status: 200, scripted: false });
      if (!result.errors?.length && input) this.publishes.push(input);
      reply(200, result.errors?.length ? result : { data: result.data });
    } finally {
      this.inFlight -= 1;
      this.inFlightById.set(id, (this.inFlightById.get(id) ?? 1) - 1);
    }
  }
}
