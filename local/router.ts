/**
 * The emulator's global endpoint: what Route53 latency records + health checks + the project's one-key API layer
 * give clients in AWS (one name for every region), on one 127.0.0.1 port.
 *
 * Health, as Route53 decides it (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html):
 *   - every region's `GET <restUrl>/health` (the bundled health λ through the region's REST endpoint, the path the
 *     deployed health check polls) is requested every `intervalMs` after the previous answer; an answer with a
 *     status from 200 to 399 within `timeoutMs` is a pass (redirects are not followed: a 3xx is itself a pass, as
 *     for Route53), anything else (503, refused connection, timeout) a fail;
 *   - a region's status changes only after `failureThreshold` consecutive checks the other way (healthy → unhealthy
 *     after N fails, unhealthy → healthy after N passes), and a new check counts as healthy until then;
 *   - deployed (components/healthCheck.ts HEALTH_CHECK, imported here so the two cannot drift): 30 s interval,
 *     threshold 3; Route53's checker must connect within 4 s and get the status within 2 s after connecting. Here
 *     the interval is scaled down 1:30 for a laptop (1 s × 3); the answer deadline stays 2 s, not scaled, because a
 *     scaled 67 ms would fail a busy laptop's cold Lambda worker rather than detect an outage. So a refused
 *     connection (what a stopped region gives) fails at once and is detected in about threshold × interval, but a
 *     region that accepts connections and never answers is detected only after threshold × (interval + 2 s): 9 s at
 *     the defaults (Route53: 3 × (30 s + up to 6 s)). Pass `timeoutMs` to shorten it.
 *   - one checker here; Route53 runs checkers in several locations, each with its own count, and calls an endpoint
 *     healthy while more than 18 % of them say so: an outage is detected when nearly all checkers have seen
 *     `failureThreshold` failures, a recovery as soon as a few have seen as many passes, so in AWS recovery is
 *     typically faster than detection; here both take the same number of checks.
 * Routing (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html):
 * the preferred region (header `x-preferred-region` or query parameter `region`, standing in for the latency
 * Route53 measures) when it is healthy, else the first healthy region in config order (config order stands in for
 * latency order); every proxied answer carries `x-served-by: <region>`. When NO region is healthy, Route53 fails
 * open: it treats every record as healthy and routes by policy (handlers/health.ts counts on it). So does this
 * router: the preferred region, else the first, with `x-route53-fail-open: true` and `x-route53-unhealthy` naming
 * each region's last failure (also in the admin API's /health, `failOpen`).
 * Unlike DNS, the choice is made per request (no record TTL, no client DNS cache): failover takes the detection time.
 *
 * Proxied: `POST /graphql` → the region's AppSync endpoint, `/live/...` → the region's REST endpoint (API Gateway
 * stage path); redirects are passed to the client, not followed. API keys: an AppSync key belongs to one API, so
 * to one region; a client of the global name holds ONE key (`globalApiKey` in the endpoints file), and the router
 * swaps in the chosen region's AppSync key server-side, as each region's API Gateway `/graphql` integration does
 * deployed (apiKey mode: one API Gateway key, the same value in every region, which also guards REST under /live/).
 * In token mode (`authMode: 'token'`) nothing is swapped: the caller's Authorization goes to the chosen region,
 * whose authorizer function decides. Either way failover never requires a different credential. SigV4 (IAM) callers sign for one region's host, so they use regional URLs; realtime
 * WebSockets too (API Gateway cannot proxy them).
 * A region that fails between two checks makes the request fail with 502 (as a client would see until DNS moves).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HEALTH_CHECK, ROUTE53_ANSWER_WITHIN_MS } from '../components/healthCheck';
import { listen, readBody } from './listen';

/** Route53's values as deployed (components/healthCheck.ts, shared with components/globalRouting.ts). */
export const ROUTE53_HEALTH = {
  requestIntervalMs: HEALTH_CHECK.requestInterval * 1000,
  failureThreshold: HEALTH_CHECK.failureThreshold,
  answerWithinMs: ROUTE53_ANSWER_WITHIN_MS,
} as const;
export const DEFAULT_HEALTH = { intervalMs: 1_000, failureThreshold: 3 } as const;
export const PREFERRED_HEADER = 'x-preferred-region';
export const PREFERRED_QUERY = 'region';
/** Set (to "true") on answers routed while no region is healthy (Route53 fails open). */
export const FAIL_OPEN_HEADER = 'x-route53-fail-open';
/** With FAIL_OPEN_HEADER: each region's last failure, `region: reason; ...` (non-ASCII escaped as \uXXXX). */
export const UNHEALTHY_HEADER = 'x-route53-unhealthy';

export interface RouteTarget {
  region: string;
  /** e.g. http://127.0.0.1:4021/live */
  restUrl: string;
  graphqlUrl: string;
  /** the region's own AppSync API key */
  apiKey: string;
}

export interface HealthSettings {
  intervalMs: number;
  failureThreshold: number;
  /** how long an answer may take; default 2000 (Route53's) */
  timeoutMs?: number;
}

export interface RouterOptions {
  /** In config order (the fallback order). */
  targets: readonly RouteTarget[];
  /** The one key clients of the global endpoint send as x-api-key for GraphQL (apiKey mode). */
  globalApiKey: string;
  /**
   * `token` (auth.mode token): no key check or swap here; the caller's Authorization goes through unchanged and the
   * chosen region's authorizer decides, as behind the deployed global name. Default `apiKey`.
   */
  authMode?: 'apiKey' | 'token';
  health?: Partial<HealthSettings>;
  port?: number;
}

export interface RegionHealth {
  region: string;
  healthy: boolean;
  consecutiveFailures: number;
  consecutivePasses: number;
  checks: number;
  lastStatus: number | null;
  /** Why the last check failed (status and body reason, or the connection error); null after a pass. */
  lastFailure: string | null;
  lastCheckedAt: string | null;
  /** When the status last changed (null: never, healthy since start). */
  changedAt: string | null;
  /** Requests proxied to this region. */
  served: number;
  /**
   * Whether the region is in the rotation at all: false while a region being added has not yet passed its health
   * checks (addTarget → join), and once a region is being removed (removeTarget).
   */
  inRotation: boolean;
  /** When an added region joined the rotation (epoch ms), null for the regions the router started with. */
  joinedAt: number | null;
}

export interface Router {
  readonly url: string;
  readonly port: number;
  readonly settings: Required<HealthSettings>;
  health(): RegionHealth[];
  /** True while no region is healthy: requests are then routed as if all were (Route53 fails open). */
  failOpen(): boolean;
  /** Resolves once `region`'s status is `healthy` (used by drills to time detection). */
  waitFor(region: string, healthy: boolean, timeoutMs?: number): Promise<void>;
  /**
   * A region being added: health-checked from now on, unhealthy until `failureThreshold` checks pass, and out of the
   * rotation until join(). (Route53 counts a new health check healthy until it has data; the deployed stack creates
   * the latency record only after the region's readiness gate, components/regionReady.ts — this is that gate.)
   */
  addTarget(target: RouteTarget): void;
  /**
   * Puts a healthy added region in the rotation. `warmup` starts now; requests routed to the region wait for it
   * (once), so its first answers come after it — the emulator passes the replicator's catch-up, so the region's first
   * answer holds every write acknowledged before it joined.
   */
  join(region: string, warmup?: () => Promise<void>): Promise<void>;
  /** Resolves once no proxied request to `region` is in flight. */
  quiesce(region: string): Promise<void>;
  /** Takes a region out of the rotation and stops checking it (its answers in flight still complete). */
  removeTarget(region: string): Promise<void>;
  /**
   * Stepping the checks by hand (tests of the health rules): pauseChecks stops the periodic checks once the ones in
   * flight are recorded; checkNow runs one check of `region` and answers its health after it; resumeChecks
   * restarts the periodic checks.
   */
  pauseChecks(): Promise<void>;
  checkNow(region: string): Promise<RegionHealth>;
  resumeChecks(): void;
  close(): Promise<void>;
}

/**
 * "health checks every 1 s, 3 failures = unhealthy (Route53: 30 s × 3, scaled 1:30)"; a threshold other than
 * Route53's is said so: "... (Route53: 30 s × 3; interval scaled 1:300, threshold 2 instead of 3)".
 */
export function describeHealth(s: HealthSettings): string {
  const secs = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;
  const ratio = ROUTE53_HEALTH.requestIntervalMs / s.intervalMs;
  const scale = Number.isInteger(ratio) ? `1:${ratio}` : `1:${ratio.toFixed(1)}`;
  const route53 = `Route53: ${secs(ROUTE53_HEALTH.requestIntervalMs)} × ${ROUTE53_HEALTH.failureThreshold}`;
  const how = s.failureThreshold === ROUTE53_HEALTH.failureThreshold ? `${route53}, scaled ${scale}` : `${route53}; interval scaled ${scale}, threshold ${s.failureThreshold} instead of ${ROUTE53_HEALTH.failureThreshold}`;
  return `health checks every ${secs(s.intervalMs)}, ${s.failureThreshold} failure${s.failureThreshold === 1 ? '' : 's'} = unhealthy (${how})`;
}

export function resolveHealth(h: Partial<HealthSettings> = {}): Required<HealthSettings> {
  const intervalMs = h.intervalMs ?? DEFAULT_HEALTH.intervalMs;
  const failureThreshold = h.failureThreshold ?? DEFAULT_HEALTH.failureThreshold;
  if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs > 60_000) throw new Error(`health check intervalMs must be an integer from 10 to 60000, got ${intervalMs}`);
  // Route53 accepts 1 to 10 (HealthCheckConfig.FailureThreshold)
  if (!Number.isInteger(failureThreshold) || failureThreshold < 1 || failureThreshold > 10) throw new Error(`health check failureThreshold must be an integer from 1 to 10 (as Route53's), got ${failureThreshold}`);
  const timeoutMs = h.timeoutMs ?? ROUTE53_HEALTH.answerWithinMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 10) throw new Error(`health check timeoutMs must be an integer ≥ 10, got ${timeoutMs}`);
  return { intervalMs, failureThreshold, timeoutMs };
}

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'content-encoding']);
const MAX_BODY = 10 * 1024 * 1024;

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startRouter(opts: RouterOptions): Promise<Router> {
  const settings = resolveHealth(opts.health);
  if (!opts.targets?.length) throw new Error('router: at least one region (target) is required');
  const tokenMode = opts.authMode === 'token';
  if (!tokenMode && (typeof opts.globalApiKey !== 'string' || opts.globalApiKey.length < 8)) throw new Error('router: globalApiKey must be a string of at least 8 characters');
  const targets = [...opts.targets];
  const names = (): string[] => targets.map((t) => t.region);
  const fresh = (region: string, healthy: boolean): RegionHealth => ({ region, healthy, consecutiveFailures: 0, consecutivePasses: 0, checks: 0, lastStatus: null, lastFailure: null, lastCheckedAt: null, changedAt: null, served: 0, inRotation: healthy, joinedAt: null });
  const state = new Map<string, RegionHealth>(targets.map((t) => [t.region, fresh(t.region, true)]));
  /** region → requests proxied to it and not yet answered */
  const inFlightTo = new Map<string, number>();
  /** region → its join warm-up, while requests routed to it must wait for it */
  const warming = new Map<string, Promise<void>>();
  const watchers = new Set<() => void>();
  let closed = false;

  const record = (h: RegionHealth, pass: boolean, status: number | null, failure: string | null): void => {
    h.checks += 1;
    h.lastStatus = status;
    h.lastFailure = failure;
    h.lastCheckedAt = new Date().toISOString();
    if (pass) {
      h.consecutivePasses += 1;
      h.consecutiveFailures = 0;
      if (!h.healthy && h.consecutivePasses >= settings.failureThreshold) {
        h.healthy = true;
        h.changedAt = h.lastCheckedAt;
      }
    } else {
      h.consecutiveFailures += 1;
      h.consecutivePasses = 0;
      if (h.healthy && h.consecutiveFailures >= settings.failureThreshold) {
        h.healthy = false;
        h.changedAt = h.lastCheckedAt;
      }
    }
    for (const w of watchers) w();
  };

  const checkOnce = async (t: RouteTarget): Promise<void> => {
    const h = state.get(t.region) as RegionHealth;
    try {
      // redirect 'manual': Route53 takes a 3xx as a pass and does not follow it
      const res = await fetch(`${t.restUrl}/health`, { redirect: 'manual', signal: AbortSignal.timeout(settings.timeoutMs) });
      const text = await res.text();
      if (res.status >= 200 && res.status < 400) return record(h, true, res.status, null);
      let reason = text.slice(0, 300);
      try {
        reason = (JSON.parse(text) as { reason?: string; message?: string }).reason ?? (JSON.parse(text) as { message?: string }).message ?? reason;
      } catch {
        // not JSON: keep the text
      }
      record(h, false, res.status, `HTTP ${res.status}: ${reason}`);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      record(h, false, null, why);
    }
  };

  const timers = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let paused = false;
  const loop = (t: RouteTarget): void => {
    if (closed || paused || !state.has(t.region)) return;
    const run = checkOnce(t).finally(() => {
      inFlight.delete(run);
      if (!closed && !paused && state.has(t.region)) timers.set(t.region, setTimeout(() => loop(t), settings.intervalMs));
    });
    inFlight.add(run);
  };

  const routable = (): RouteTarget[] => targets.filter((t) => state.get(t.region)?.inRotation);
  const failingOpen = (): boolean => routable().every((t) => !state.get(t.region)?.healthy);
  /** The target, and whether it was chosen failing open (no region healthy: every region counts as healthy). */
  const choose = (preferred: string | undefined): { target: RouteTarget; failOpen: boolean } => {
    const inRotation = routable();
    const byName = (n: string) => inRotation.find((t) => t.region === n);
    if (failingOpen()) return { target: (preferred && byName(preferred)) || inRotation[0], failOpen: true };
    if (preferred && byName(preferred) && state.get(preferred)?.healthy) return { target: byName(preferred) as RouteTarget, failOpen: false };
    return { target: inRotation.find((t) => state.get(t.region)?.healthy) as RouteTarget, failOpen: false };
  };
  /** `region: last failure; ...` as an HTTP header value (printable ASCII only). */
  const unhealthyHeader = (): string =>
    [...state.values()]
      .map((h) => `${h.region}: ${h.lastFailure ?? 'unhealthy'}`)
      .join('; ')
      .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

  async function handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const isGraphql = url.pathname === '/graphql';
    const isRest = url.pathname.startsWith('/live/');
    if (!isGraphql && !isRest) {
      return sendJson(res, 404, { message: `no route for ${method} ${url.pathname}: the global endpoint serves POST /graphql and the REST API under /live/ (e.g. /live/items/{id}, /live/health)` });
    }
    if (isGraphql && method !== 'POST') return sendJson(res, 405, { message: `${method} /graphql: the global endpoint takes POST /graphql only` }, { allow: 'POST' });

    const headerPref = req.headers[PREFERRED_HEADER];
    const preferred = (Array.isArray(headerPref) ? headerPref[0] : headerPref) ?? url.searchParams.get(PREFERRED_QUERY) ?? undefined;
    if (preferred !== undefined && !names().includes(preferred)) {
      return sendJson(res, 400, { message: `preferred region ${JSON.stringify(preferred)} (${PREFERRED_HEADER} header or ?${PREFERRED_QUERY}=) is not one of this stack's regions: ${names().join(', ')}` });
    }
    const { target, failOpen } = choose(preferred);
    const routedBy: Record<string, string> = { 'x-served-by': target.region, ...(failOpen ? { [FAIL_OPEN_HEADER]: 'true', [UNHEALTHY_HEADER]: unhealthyHeader() } : {}) };

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && k !== PREFERRED_HEADER && v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    let upstreamUrl: string;
    if (isGraphql && tokenMode) {
      upstreamUrl = target.graphqlUrl;
    } else if (isGraphql) {
      if (headers['x-api-key'] !== opts.globalApiKey) {
        const why = headers['x-api-key'] === undefined
          ? 'send the global API key (globalApiKey in .emulator/endpoints.json) as x-api-key; SigV4 callers use a regional URL'
          : 'x-api-key is not the global API key (globalApiKey in .emulator/endpoints.json; a regional AppSync key works only on its own region\'s URL)';
        return sendJson(res, 401, { errors: [{ errorType: 'UnauthorizedException', message: `You are not authorized to make this call: ${why}` }] }, { 'x-amzn-errortype': 'UnauthorizedException' });
      }
      headers['x-api-key'] = target.apiKey;
      delete headers.authorization;
      upstreamUrl = target.graphqlUrl;
    } else {
      url.searchParams.delete(PREFERRED_QUERY);
      upstreamUrl = `${target.restUrl}${url.pathname.slice('/live'.length)}${url.search}`;
    }
    const h = state.get(target.region) as RegionHealth;
    h.served += 1;
    inFlightTo.set(target.region, (inFlightTo.get(target.region) ?? 0) + 1);
    try {
      await proxy(target, upstreamUrl, method, headers, body, res, routedBy, failOpen);
    } finally {
      inFlightTo.set(target.region, (inFlightTo.get(target.region) ?? 1) - 1);
      for (const w of watchers) w();
    }
  }

  async function proxy(target: RouteTarget, upstreamUrl: string, method: string, headers: Record<string, string>, body: Buffer, res: http.ServerResponse, routedBy: Record<string, string>, failOpen: boolean): Promise<void> {
    const warmup = warming.get(target.region);
    if (warmup) await warmup;
    let upstream: Response;
    try {
      // redirect 'manual': the client gets the region's 3xx as API Gateway would send it
      upstream = await fetch(upstreamUrl, { method, headers, redirect: 'manual', body: method === 'GET' || method === 'HEAD' ? undefined : body });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = failOpen
        ? `no region is healthy, so the global endpoint fails open as Route53 does and sent this to ${target.region} anyway (${unhealthyHeader()})`
        : `it is still marked healthy until ${settings.failureThreshold} health checks fail`;
      return sendJson(res, 502, { message: `region ${target.region} did not answer (${e.cause?.code ?? e.message}); ${why}`, errorType: 'RegionUnreachable', region: target.region }, routedBy);
    }
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!HOP_BY_HOP.has(k)) out[k] = v;
    });
    const payload = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, { ...out, ...routedBy });
    res.end(payload);
  }

  const server = http.createServer((req, res) => {
    readBody(req, MAX_BODY)
      .then((body) => (body === undefined ? sendJson(res, 413, { message: 'Request Too Long' }) : handle(req, body, res)))
      .catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { message: `global endpoint failed: ${(err as Error).message}` });
        else res.destroy();
      });
  });
  await listen(server, opts.port ?? 0);
  const { port } = server.address() as AddressInfo;
  for (const t of targets) loop(t);
  const until = (what: string, done: () => boolean, timeoutMs = 120_000): Promise<void> =>
    done()
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            watchers.delete(w);
            reject(new Error(`router: ${what} not within ${timeoutMs} ms`));
          }, timeoutMs);
          const w = () => {
            if (!done()) return;
            clearTimeout(timer);
            watchers.delete(w);
            resolve();
          };
          watchers.add(w);
        });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    settings,
    health: () => [...state.values()].map((h) => ({ ...h })),
    failOpen: failingOpen,
    waitFor(region, healthy, timeoutMs = 60_000) {
      const h = state.get(region);
      if (!h) return Promise.reject(new Error(`router: no region ${region} (regions: ${names().join(', ')})`));
      if (h.healthy === healthy) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(w);
          reject(new Error(`router: ${region} not ${healthy ? 'healthy' : 'unhealthy'} after ${timeoutMs} ms (last check: ${h.lastFailure ?? 'pass'})`));
        }, timeoutMs);
        const w = () => {
          if (h.healthy !== healthy) return;
          clearTimeout(timer);
          watchers.delete(w);
          resolve();
        };
        watchers.add(w);
      });
    },
    addTarget(target) {
      if (state.has(target.region)) throw new Error(`router: ${target.region} is already one of the regions (${names().join(', ')})`);
      targets.push(target);
      state.set(target.region, fresh(target.region, false));
      loop(target);
    },
    async join(region, warmup) {
      const h = state.get(region);
      if (!h) throw new Error(`router: no region ${region} (regions: ${names().join(', ')})`);
      if (!h.healthy) throw new Error(`router: ${region} has not passed ${settings.failureThreshold} health checks (last: ${h.lastFailure ?? 'none yet'}); it does not join the rotation`);
      const w = warmup?.();
      if (w) warming.set(region, w);
      h.inRotation = true;
      h.joinedAt = Date.now();
      for (const x of watchers) x();
      try {
        await w;
      } finally {
        if (warming.get(region) === w) warming.delete(region);
      }
    },
    quiesce: (region) => until(`requests to ${region} to finish`, () => (inFlightTo.get(region) ?? 0) === 0),
    async removeTarget(region) {
      const h = state.get(region);
      if (!h) throw new Error(`router: no region ${region} (regions: ${names().join(', ')})`);
      h.inRotation = false;
      state.delete(region);
      targets.splice(targets.findIndex((t) => t.region === region), 1);
      clearTimeout(timers.get(region));
      timers.delete(region);
      await until(`requests to ${region} to finish`, () => (inFlightTo.get(region) ?? 0) === 0);
    },
    async pauseChecks() {
      paused = true;
      for (const t of timers.values()) clearTimeout(t);
      await Promise.allSettled([...inFlight]);
    },
    async checkNow(region) {
      const target = targets.find((t) => t.region === region);
      if (!target) throw new Error(`router: no region ${region} (regions: ${names().join(', ')})`);
      await checkOnce(target);
      return { ...(state.get(region) as RegionHealth) };
    },
    resumeChecks() {
      if (!paused) return;
      paused = false;
      for (const t of targets) loop(t);
    },
    async close() {
      closed = true;
      for (const t of timers.values()) clearTimeout(t);
      await Promise.allSettled([...inFlight]);
      for (const t of timers.values()) clearTimeout(t);
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
