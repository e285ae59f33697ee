/**
 * The emulator's admin API: fault controls (local/drills.ts) over JSON HTTP on 127.0.0.1, found by scripts through
 * `adminUrl` in .emulator/endpoints.json (`npm run emulator -- <command>` is its client, scripts/emulator.ts).
 *
 *   GET  /status                       everything below in one answer, plus `dynamodb`: the contention front's
 *                                      counters per region and table (transactions cancelled, conflict exceptions,
 *                                      throttled reads and writes; local/contention.ts) and in consistency strong the
 *                                      ReplicatedWriteConflictException answers (local/syncReplication.ts)
 *   GET  /health                       the global endpoint's view: settings, failOpen (no region healthy, so
 *                                      routing as if all were, as Route53 does) + per-region health and last failure
 *   GET  /replication                  per pair: paused (and why), pending, last/max lag, applied, superseded
 *   GET  /notifier                     per region: stream records not yet handed to the notifier, held or not
 *   POST /regions/{region}/stop        regional outage (endpoints down, notifier held, replication queued)
 *   POST /regions/{region}/start       recovery (endpoints back on the same ports, catch-up)
 *   POST /regions/{region}/drain       health λ DRAIN=true → /health 503 saying why
 *   POST /regions/{region}/undrain
 *   POST /regions/{region}/add         add a region live: tables, replication, copy, servers, health, rotation
 *   POST /regions/{region}/remove      remove one: drain, quiesce, replicate out, stop; both answer
 *                                      {region, action, regions, phases: [{phase, waitedFor, ms, detail?}], totalMs}
 *   POST /replication/pause   {region?, duration?, from?, to?}   an approximation of FIS's
 *                                      aws:dynamodb:global-table-pause-replication: region = every pair into and out
 *                                      of it (FIS's shape), duration = ISO 8601 (PT5M) after which it ends by itself;
 *                                      from/to = one direction (emulator-only); nothing = every pair (local/drills.ts)
 *   POST /replication/resume  {region?, from?, to?}
 *   POST /state {state, reason, region?, functionName?}   the bundled state updater λ; answers its reply
 *   POST /drills/notifier-errors {region, duration?}   the notifier-errors drill (FIS aws:lambda:invocation-error):
 *                                      the region's notifier fails every invocation, for duration or until stopped
 *   POST /drills/notifier-errors/stop {region}
 *
 * The browser console (local/console/: static files, no build step) and what it needs from here:
 *   GET  /console/                     the console (GET /console redirects there, so its files load by relative URL)
 *   GET  /endpoints                    what .emulator/endpoints.json holds (region URLs and keys, auth, global URL)
 *   POST /console/global/graphql       a GraphQL request forwarded to the global endpoint (`globalUrl`/graphql), its
 *                                      answer passed back as is, x-served-by included. The browser cannot call the
 *                                      global endpoint itself: like the deployed global name (API Gateway, which has
 *                                      no OPTIONS methods, components/restApi.ts) it answers no CORS preflight, so a
 *                                      page on this origin reaches it through this origin.
 * These three answer only requests addressed to 127.0.0.1 / localhost (the Host header), so a page of another site
 * that a DNS name rebinds to 127.0.0.1 cannot read the keys; the admin API sends no CORS headers, so no other origin
 * can read its answers either.
 *
 * Answers are JSON. Bad input → 400 {error} naming what was wrong; an unknown path → 404 listing the routes; a
 * known path with another method → 405; a request the emulator cannot serve now (state updater of a stopped
 * region) → 409.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { FaultConflictError, FaultInputError, type FaultControls } from './drills';
import { listen } from './listen';
import type { Router } from './router';
import type { ContentionStats } from './contention';

/** `dynamodb` in /status. */
export interface DynamoDBView {
  /** The contention front's counters, or 'off' (`npm start -- --dynamodb-contention off`). */
  contention: ContentionStats | 'off';
  /** ReplicatedWriteConflictException answers per region and table (consistency strong only; null otherwise). */
  replicatedWriteConflicts: Array<{ region: string; table: string; count: number }> | null;
}

/**
 * Why a request must be refused as cross-site (undefined when it may proceed): a Host other than 127.0.0.1/localhost
 * (DNS rebinding), or a state-changing method whose Origin is not the admin API's own origin.
 */
export function crossSiteRefusal(req: http.IncomingMessage, server: http.Server): string | undefined {
  const host = req.headers.host ?? '';
  const hostname = host.replace(/:\d+$/, '');
  if (!LOCAL_HOSTS.has(hostname)) return `the admin API answers requests to 127.0.0.1 or localhost only, not to host ${JSON.stringify(host)}`;
  const method = (req.method ?? 'GET').toUpperCase();
  const origin = req.headers.origin;
  if (method === 'GET' || method === 'HEAD' || origin === undefined) return undefined;
  const port = (server.address() as AddressInfo | null)?.port;
  const own = [...LOCAL_HOSTS].map((h) => `http://${h}:${port}`);
  if (own.includes(origin)) return undefined;
  return `${method} from origin ${JSON.stringify(origin)} refused: the admin API takes changes only from its own origin (${own[0]}) or from a client that sends no Origin (the CLI)`;
}

export interface AdminOptions {
  controls: FaultControls;
  router?: () => Router | undefined;
  /** What the endpoints file holds, for the console (GET /endpoints); undefined until the emulator serves. */
  endpoints?: () => unknown;
  /** Adding and removing regions live (local/emulator.ts): each answers its phases and their times. */
  regionChanges?: { add(region: string): Promise<unknown>; remove(region: string): Promise<unknown> };
  /** The DynamoDB path's counters (absent: /status shows none). */
  dynamodb?: () => DynamoDBView;
  port?: number;
}

export interface AdminServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const ADMIN_ROUTES = [
  'GET /status',
  'GET /health',
  'GET /replication',
  'GET /notifier',
  'POST /regions/{region}/stop',
  'POST /regions/{region}/start',
  'POST /regions/{region}/drain',
  'POST /regions/{region}/undrain',
  'POST /regions/{region}/add',
  'POST /regions/{region}/remove',
  'POST /replication/pause {region?, duration?, from?, to?}',
  'POST /replication/resume {region?, from?, to?}',
  'POST /state {state, reason, region?, functionName?}',
  'POST /drills/notifier-errors {region, duration?}',
  'POST /drills/notifier-errors/stop {region}',
  'GET /console/',
  'GET /endpoints',
  'POST /console/global/graphql',
] as const;

/** The console's static files: served from this folder only, by name, with these types. */
export const CONSOLE_DIR = path.join(__dirname, 'console');
const CONSOLE_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};
/**
 * Everything the page loads comes from this origin (nothing from the internet); it calls the stack's endpoints on
 * other ports or hosts (GraphQL over http(s), realtime over ws(s)), and may fetch a stack's outputs from a URL.
 */
const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' http: https: ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Request headers the console's global calls carry on (credential, content type, the latency-routing stand-in). */
const FORWARDED = ['content-type', 'x-api-key', 'authorization', 'x-preferred-region'];
/** Answer headers passed back: who served it, and Route53's fail-open notes. */
const PASSED_BACK = ['content-type', 'x-served-by', 'x-route53-fail-open', 'x-route53-unhealthy', 'x-amzn-errortype', 'x-amzn-requestid'];

type Body = Record<string, unknown>;

function parseBody(raw: string, allowed: readonly string[]): Body {
  if (raw.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new FaultInputError(`the body is not JSON: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FaultInputError('the body must be a JSON object');
  const unknown = Object.keys(v).filter((k) => !allowed.includes(k));
  if (unknown.length) throw new FaultInputError(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: allowed are ${allowed.join(', ') || '(none)'}`);
  return v as Body;
}

export async function startAdminServer(opts: AdminOptions): Promise<AdminServer> {
  const c = opts.controls;
  const healthView = () => {
    const r = opts.router?.();
    return { settings: r?.settings ?? null, globalUrl: r?.url ?? null, failOpen: r?.failOpen() ?? false, regions: c.health() };
  };

  /** Answers [status, body]; throws FaultInputError / FaultConflictError for 400 / 409. */
  async function route(method: string, path: string, raw: string): Promise<[number, unknown]> {
    const get = (fn: () => unknown): [number, unknown] => {
      if (method !== 'GET') return [405, { error: `${method} ${path}: use GET` }];
      return [200, fn()];
    };
    const post = async (allowed: readonly string[], fn: (b: Body) => unknown): Promise<[number, unknown]> => {
      if (method !== 'POST') return [405, { error: `${method} ${path}: use POST` }];
      return [200, await fn(parseBody(raw, allowed))];
    };
    if (path === '/status') return get(() => ({ regions: c.regionsView(), health: healthView(), replication: c.replication(), notifier: c.notifier(), ...(opts.dynamodb ? { dynamodb: opts.dynamodb() } : {}) }));
    if (path === '/health') return get(healthView);
    if (path === '/replication') return get(() => c.replication());
    if (path === '/notifier') return get(() => c.notifier());
    if (path === '/replication/pause') return post(['region', 'duration', 'from', 'to'], (b) => c.pauseReplication(b));
    if (path === '/replication/resume') return post(['region', 'from', 'to'], (b) => c.resumeReplication(b));
    if (path === '/state') return post(['state', 'reason', 'region', 'functionName'], (b) => c.setState(b));
    if (path === '/drills/notifier-errors') return post(['region', 'duration'], (b) => c.notifierErrors(b, true));
    if (path === '/drills/notifier-errors/stop') return post(['region'], (b) => c.notifierErrors(b, false));
    const m = /^\/regions\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      const region = decodeURIComponent(m[1]);
      const action = m[2];
      const changes = opts.regionChanges;
      const unavailable = (): never => {
        throw new FaultConflictError('this emulator cannot add or remove regions');
      };
      const actions: Record<string, () => unknown> = {
        add: () => (changes ? changes.add(region) : unavailable()),
        remove: () => (changes ? changes.remove(region) : unavailable()),
        stop: () => c.stopRegion(region),
        start: () => c.startRegion(region),
        drain: () => c.drain(region, true),
        undrain: () => c.drain(region, false),
      };
      if (!actions[action]) throw new FaultInputError(`unknown region action ${JSON.stringify(action)}: one of ${Object.keys(actions).join(', ')}`);
      return post([], () => actions[action]());
    }
    return [404, { error: `no route ${method} ${path}`, routes: ADMIN_ROUTES }];
  }

  /** The console's routes (see the header); false when the path is not one of them. */
  async function consoleRoute(req: http.IncomingMessage, res: http.ServerResponse, rawPath: string, body: Buffer): Promise<boolean> {
    const method = (req.method ?? 'GET').toUpperCase();
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(value, null, 2)}\n`);
      return true;
    };
    const isConsole = rawPath === '/console' || rawPath.startsWith('/console/');
    if (!isConsole && rawPath.replace(/\/+$/, '') !== '/endpoints') return false;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!LOCAL_HOSTS.has(host)) return json(403, { error: `the console answers requests to 127.0.0.1 or localhost only, not to host ${JSON.stringify(req.headers.host ?? '')}` });
    if (rawPath.replace(/\/+$/, '') === '/endpoints') {
      if (method !== 'GET') return json(405, { error: `${method} /endpoints: use GET` });
      const e = opts.endpoints?.();
      return e === undefined ? json(503, { error: 'the emulator is still starting: no endpoints yet' }) : json(200, e);
    }
    if (rawPath === '/console/global/graphql') {
      if (method !== 'POST') return json(405, { error: `${method} ${rawPath}: use POST` });
      const r = opts.router?.();
      if (!r) return json(503, { error: 'the global endpoint is not serving' });
      const headers: Record<string, string> = {};
      for (const h of FORWARDED) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      let upstream: Response;
      try {
        upstream = await fetch(`${r.url}/graphql`, { method: 'POST', headers, body });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        return json(502, { error: `the global endpoint ${r.url} did not answer (${e.cause?.code ?? e.message})` });
      }
      const out: Record<string, string> = { 'cache-control': 'no-store' };
      for (const h of PASSED_BACK) {
        const v = upstream.headers.get(h);
        if (v !== null) out[h] = v;
      }
      const payload = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, out);
      res.end(payload);
      return true;
    }
    if (method !== 'GET' && method !== 'HEAD') return json(405, { error: `${method} ${rawPath}: use GET` });
    if (rawPath === '/console') {
      res.writeHead(301, { location: '/console/' });
      res.end();
      return true;
    }
    const name = rawPath === '/console/' ? 'index.html' : rawPath.slice('/console/'.length);
    const type = CONSOLE_TYPES[path.extname(name)];
    // one file name of this folder: no sub-folders, no dot files, nothing outside it
    if (!type || !/^[a-zA-Z0-9_-][a-zA-Z0-9_.-]*$/.test(name)) return json(404, { error: `no console file ${rawPath}` });
    let content: Buffer;
    try {
      content = await fs.promises.readFile(path.join(CONSOLE_DIR, name));
    } catch {
      return json(404, { error: `no console file ${rawPath}` });
    }
    res.writeHead(200, { 'content-type': type, 'content-length': String(content.length), 'cache-control': 'no-store', 'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff' });
    res.end(method === 'HEAD' ? undefined : content);
    return true;
  }

  const server = http.createServer((req, res) => {
    // The admin API changes what the emulator does (stop a region, fence writes). A page of any other site can send
    // a browser to 127.0.0.1 with a "simple" cross-origin POST that needs no preflight, so a changing request from a
    // browser must come from this origin (browsers always send Origin on a cross-origin POST), and every request
    // must be addressed to 127.0.0.1 or localhost (a DNS name rebound to 127.0.0.1 carries its own Host).
    const refusal = crossSiteRefusal(req, server);
    if (refusal) {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ error: refusal })}\n`);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawPath = new URL(req.url ?? '/', 'http://localhost').pathname;
      const body = Buffer.concat(chunks);
      consoleRoute(req, res, rawPath, body)
        .catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(`${JSON.stringify({ error: `console route failed: ${(err as Error).message}` })}\n`);
          return true;
        })
        .then((handled) => {
          if (!handled) adminRoute(req, res, rawPath, body);
        });
    });
  });

  function adminRoute(req: http.IncomingMessage, res: http.ServerResponse, rawPath: string, raw: Buffer): void {
    route((req.method ?? 'GET').toUpperCase(), rawPath.replace(/\/+$/, '') || '/', raw.toString('utf8'))
      .catch((err: unknown): [number, unknown] => {
        if (err instanceof FaultInputError) return [400, { error: err.message }];
        if (err instanceof FaultConflictError) return [409, { error: err.message }];
        return [500, { error: `admin API failed: ${(err as Error).message}` }];
      })
      .then(([status, body]) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify(body, null, 2)}\n`);
      });
  }
  await listen(server, opts.port ?? 0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
