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
 * Answers are JSON. Bad input → 400 {error} naming what was wrong; an unknown path → 404 listing the routes; a
 * known path with another method → 405; a request the emulator cannot serve now (state updater of a stopped
 * region) → 409.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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

export interface AdminOptions {
  controls: FaultControls;
  router?: () => Router | undefined;
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
  'POST /replication/pause {region?, duration?, from?, to?}',
  'POST /replication/resume {region?, from?, to?}',
  'POST /state {state, reason, region?, functionName?}',
  'POST /drills/notifier-errors {region, duration?}',
  'POST /drills/notifier-errors/stop {region}',
] as const;

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
      const actions: Record<string, () => unknown> = {
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

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
      route((req.method ?? 'GET').toUpperCase(), path, Buffer.concat(chunks).toString('utf8'))
        .catch((err: unknown): [number, unknown] => {
          if (err instanceof FaultInputError) return [400, { error: err.message }];
          if (err instanceof FaultConflictError) return [409, { error: err.message }];
          return [500, { error: `admin API failed: ${(err as Error).message}` }];
        })
        .then(([status, body]) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(`${JSON.stringify(body, null, 2)}\n`);
        });
    });
  });
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
