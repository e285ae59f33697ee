/**
 * A local stand-in for one region's AppSync GraphQL endpoint, as far as the notifier sees it: an HTTP server on
 * 127.0.0.1 (random port) that
 *   1. VERIFIES SigV4 like AppSync's IAM auth: parses the Authorization header, checks the access key (and the
 *      session token, if the known credentials have one), the credential scope (date/region/appsync/aws4_request)
 *      and x-amz-date freshness (±5 min), then re-signs the received request — method, path, query, the headers
 *      it names in SignedHeaders, the body — with @smithy/signature-v4 and the known secret and compares the
 *      signature. Unsigned → 401 UnauthorizedException; unknown key, bad scope, stale date or wrong signature →
 *      403 (AppSync-like `{errors:[{errorType,message}]}` bodies);
 *   2. executes the GraphQL body with the project's own AppSync executor (local/appsync/graphql.ts: schema.graphql
 *      + AppSync's prelude, the real publishItemChange resolver on its NONE data source, @aws_iam enforced for
 *      the verified IAM caller) — so a document or variables that don't fit get AppSync-like GraphQL errors, and
 *      `published` holds exactly what subscribers would receive (the mutation's selection);
 *   3. records every request (`requests`) and every successful publish (`publishes`), tracks in-flight requests
 *      overall and per item id;
 *   4. can be scripted (`script`) to answer 429 / 5xx / GraphQL errors / dropped connections N times (or always),
 *      optionally only for inputs matching a predicate, and to delay answers.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

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
    const auth = await this.verify(req, body);
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

  private async verify(
    req: http.IncomingMessage,
    body: string,
  ): Promise<{ ok: true } | { ok: false; status: number; errorType: string; message: string }> {
    const deny = (status: number, errorType: string, message: string) => ({ ok: false as const, status, errorType, message });
    const authorization = req.headers.authorization;
    if (!authorization) return deny(401, 'UnauthorizedException', 'Valid authorization header not provided.');
    const m = AUTH.exec(authorization);
    if (!m) return deny(403, 'IncompleteSignatureException', 'Authorization header is not a well-formed SigV4 header.');
    const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = m;
    if (accessKeyId !== this.credentials.accessKeyId) {
      return deny(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (this.credentials.sessionToken !== undefined && req.headers['x-amz-security-token'] !== this.credentials.sessionToken) {
      return deny(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (scopeService !== 'appsync' || scopeRegion !== this.region) {
      return deny(403, 'InvalidSignatureException', `Credential should be scoped to correct service/region: 'appsync' in '${this.region}'.`);
    }
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!dm || !signedHeaderList.split(';').includes('x-amz-date') || !signedHeaderList.split(';').includes('host')) {
      return deny(403, 'IncompleteSignatureException', 'The request must sign host and x-amz-date.');
    }
    const signingDate = new Date(Date.UTC(+dm[1], +dm[2] - 1, +dm[3], +dm[4], +dm[5], +dm[6]));
    if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000 || amzDate.slice(0, 8) !== scopeDate) {
      return deny(403, 'InvalidSignatureException', 'Signature expired or credential scope date does not match x-amz-date.');
    }

    const headers: Record<string, string> = {};
    for (const name of signedHeaderList.split(';')) {
      const v = req.headers[name];
      if (v === undefined) return deny(403, 'InvalidSignatureException', `Signed header ${name} is missing.`);
      headers[name] = Array.isArray(v) ? v.join(',') : v;
    }
    // The signer trusts a given x-amz-content-sha256 instead of hashing the body: check it against the body.
    const claimed = headers['x-amz-content-sha256'];
    if (claimed !== undefined && claimed !== createHash('sha256').update(body).digest('hex')) {
      return deny(400, 'InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.');
    }
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const signer = new SignatureV4({ service: 'appsync', region: this.region, credentials: this.credentials, sha256: Sha256 });
    const resigned = await signer.sign(
      new HttpRequest({
        method: req.method ?? 'POST',
        protocol: 'http:',
        hostname: String(req.headers.host ?? ''),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
      }),
      { signingDate },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(resigned.headers.authorization ?? '')?.[1] ?? '';
    const expectedSigned = /SignedHeaders=([a-z0-9;-]+)/.exec(resigned.headers.authorization ?? '')?.[1];
    if (expectedSigned !== signedHeaderList || expected.length !== 64 || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
      return deny(
        403,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
    }
    return { ok: true };
  }
}
