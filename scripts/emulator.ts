/**
 * `npm run emulator -- <command> [options]`: the fault controls of a running emulator (`npm start`), a client of
 * its admin API (local/admin.ts) found through `adminUrl` in .emulator/endpoints.json. For failure drills by hand:
 * stop a region and watch the global endpoint move, pause replication, drain, flip the app state.
 * Prints each answer in words (`--json`: the admin API's JSON as it came); a refusal goes to stderr.
 * Exit codes: 0 done, 1 the emulator refused or is not reachable, 2 bad arguments.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { liveInstances, processAlive } from '../local/instances';
import { formatReadBack, raced, refusal } from './readBack';
import { runMain } from './runMain';

export const DEFAULT_ENDPOINTS = path.resolve(__dirname, '..', '.emulator', 'endpoints.json');

export const USAGE = `usage: npm run emulator -- <command> [options]

  status                          regions, health as the global endpoint sees it, replication, notifier backlog
  health                          the global endpoint's health checks per region
  stop <region>                   regional outage: endpoints down, notifier held, replication to/from it queued
  start <region>                  recovery: endpoints back, the region catches up
  drain <region>                  health λ DRAIN=true: /health answers 503, the global endpoint stops sending to it
  undrain <region>
  add-region <region>             add a region live: its tables, replication into it, a copy of every item (writes
                                  never stop), its servers and notifier, then the global endpoint's rotation once its
                                  health checks pass; prints each phase and how long it took
  remove-region <region>          remove one: drain (out of the rotation), wait for its requests and its writes to
                                  replicate out, then stop it; prints each phase and how long it took
  pause-replication --region R [--duration PT5M]
                                  approximates FIS aws:dynamodb:global-table-pause-replication: every pair into
                                  and out of R, ended by itself after --duration (ISO 8601, as FIS takes it).
                                  Unlike AWS (up to 5 minutes of replication after the action begins) it is
                                  immediate. Emulator-only: --from R / --to R (one direction), or no region (all)
  resume-replication [--region R | --from R] [--to R]
  notifier-errors --region R [--duration PT5M]
                                  the notifier-errors drill (FIS aws:lambda:invocation-error, as the deployed
                                  template of that name): R's notifier fails every invocation; retries, bisect and
                                  the DLQ behave as deployed
  stop-notifier-errors --region R
  lag                             replication lag and queue per region pair
  backlog                         notifier backlog per region
  state <active|fenced|failover> --reason "why" [--region R]   through the bundled state updater
                                  (same as: npm run state -- <state> --local)

  --endpoints F   the emulator's endpoints file (default .emulator/endpoints.json: the emulator started last;
                  each has its own, .emulator/<stack>-<port>/endpoints.json)
  --json          print the admin API's JSON answer as is (by default: in words)
  --help          this text`;

export interface EndpointsInfo {
  stack: string;
  regions: Record<string, unknown>;
  primaryRegion: string;
  adminUrl: string;
  globalUrl?: string;
  /** The emulator's process; absent in files of older emulators. */
  pid?: number;
  /** Its function logs and notifier DLQ files; absent in files of older emulators (they used .emulator/logs). */
  logDir?: string | null;
}

/** The emulators running now, for an error message: `--endpoints <file> (stack, url)` each. */
function runningNow(): string {
  const live = liveInstances();
  return live.length ? `; running now: ${live.map((s) => `--endpoints ${path.relative(process.cwd(), s.endpointsFile) || s.endpointsFile} (stack ${s.stack}${s.globalUrl ? `, ${s.globalUrl}` : ''})`).join(', ')}` : '';
}

/** Reads the endpoints file of a running emulator; the error says how to get one, and names the emulators running. */
export function readEndpoints(file: string = DEFAULT_ENDPOINTS): EndpointsInfo {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no emulator endpoints file at ${file}: start the emulator first (npm start), or pass --endpoints${runningNow()}`);
  }
  const e = JSON.parse(text) as Partial<EndpointsInfo>;
  if (typeof e.adminUrl !== 'string' || !e.regions || typeof e.stack !== 'string' || typeof e.primaryRegion !== 'string') {
    throw new Error(`${file} has no adminUrl (or stack, regions, primaryRegion): it was written by an older emulator; restart npm start`);
  }
  // a file left by an emulator that was killed (no Ctrl-C): say so rather than "does not answer"
  if (typeof e.pid === 'number' && e.pid !== process.pid && !processAlive(e.pid)) {
    throw new Error(`${file} was written by an emulator that is no longer running (process ${e.pid}): start one (npm start), or pass --endpoints${runningNow()}`);
  }
  return e as EndpointsInfo;
}

/** One admin API call; throws with the API's error message on a non-2xx answer or when the emulator is down. */
export async function adminCall(adminUrl: string, method: 'GET' | 'POST', route: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${adminUrl}${route}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new Error(`the emulator's admin API at ${adminUrl} does not answer (${e.cause?.code ?? e.message}): is npm start still running?`);
  }
  const text = await res.text();
  const answer = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) throw new Error(`${method} ${route} → ${res.status}: ${(answer as { error?: string })?.error ?? text}`);
  return answer;
}

class UsageError extends Error {}

interface Command {
  method: 'GET' | 'POST';
  route: string;
  body?: Record<string, unknown>;
  /** The answer in words (stdout; nothing when empty); --json prints it as it came instead. */
  render: (answer: unknown) => string;
  /** Why the emulator declined what was asked although the call succeeded (a refused state change): stderr, exit 1. */
  refused?: (answer: unknown) => string | undefined;
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(1)} ms`);

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

type Pair = { from: string; to: string; paused: boolean; pausedBy: string[]; pending: number; lastLagMs: number | null; maxLagMs: number | null; applied: number; superseded: number };
type Health = { region: string; healthy: boolean; consecutiveFailures: number; lastFailure: string | null; served: number };
type Notifier = { region: string; backlog: number; held: boolean };

const renderLag = (a: unknown) =>
  table([
    ['from', 'to', 'paused', 'pending', 'last lag', 'max lag', 'applied', 'superseded'],
    ...(a as Pair[]).map((p) => [p.from, p.to, p.paused ? `yes (${p.pausedBy.join(', ')})` : 'no', String(p.pending), ms(p.lastLagMs), ms(p.maxLagMs), String(p.applied), String(p.superseded)]),
  ]);
const renderHealth = (a: unknown) => {
  const h = a as { settings: { intervalMs: number; failureThreshold: number } | null; failOpen?: boolean; regions: Health[] };
  const head = h.settings ? `checks every ${h.settings.intervalMs} ms, ${h.settings.failureThreshold} failures = unhealthy\n` : '';
  const open = h.failOpen ? 'NO region is healthy: the global endpoint fails open as Route53 does (routes as if every region were healthy)\n' : '';
  return head + open + table([['region', 'healthy', 'failures in a row', 'last failure', 'requests served'], ...h.regions.map((r) => [r.region, r.healthy ? 'yes' : 'NO', String(r.consecutiveFailures), r.lastFailure ?? '-', String(r.served)])]);
};
const renderChange = (a: unknown) => {
  const c = a as { region: string; action: string; regions: string[]; phases: Array<{ phase: string; waitedFor: string; ms: number; detail?: Record<string, unknown> }>; totalMs: number };
  const rows = c.phases.map((p) => [p.phase, `${p.ms} ms`, p.waitedFor + (p.detail ? ` ${JSON.stringify(p.detail)}` : '')]);
  return `${c.action === 'add' ? 'added' : 'removed'} ${c.region} in ${c.totalMs} ms; regions now ${c.regions.join(', ')}\n${table([['phase', 'took', 'waited for'], ...rows])}`;
};
const renderBacklog = (a: unknown) => table([['region', 'backlog', 'notifier'], ...(a as Notifier[]).map((n) => [n.region, String(n.backlog), n.held ? 'held (region stopped)' : 'running'])]);

type RegionView = { region: string; running: boolean; drained: boolean; notifierBacklog: number; subscriptions: number };
const pairs = (list: Array<[string, string]>) => list.map(([a, b]) => `${a} → ${b}`).join(', ');
const until = (endsAt: string | null, otherwise: string) => (endsAt ? `until ${endsAt} (then it ends by itself)` : `until ${otherwise}`);

/** The answers of the commands that change something, in words (the admin API's shapes: local/drills.ts). */
const renderRegion: Record<'stop' | 'start' | 'drain' | 'undrain', (v: RegionView) => string> = {
  stop: (v) => `${v.region} stopped (a regional outage): its endpoints refuse connections, its notifier is held and replication to and from it queues; \`start ${v.region}\` ends it`,
  start: (v) => `${v.region} started: its endpoints answer on the same ports and it catches up (notifier backlog ${v.notifierBacklog})`,
  drain: (v) => `${v.region} drained: its /health answers 503, so the global endpoint stops sending to it once the checks fail; \`undrain ${v.region}\` ends it`,
  undrain: (v) => `${v.region} undrained: its /health answers 200 again, and the global endpoint sends to it once the checks pass`,
};
const renderPause = (a: unknown) => {
  const p = a as { paused: Array<[string, string]>; endsAt: string | null; approximation: string };
  return `replication paused: ${pairs(p.paused)}, ${until(p.endsAt, 'resume-replication')}\n${p.approximation}`;
};
const renderResume = (a: unknown) => {
  const r = a as { resumed: Array<[string, string]>; stillPausedByOutage: Array<[string, string]> };
  const still = r.stillPausedByOutage.length ? `\nstill paused while a region is stopped: ${pairs(r.stillPausedByOutage)}` : '';
  return `${r.resumed.length ? `replication resumed: ${pairs(r.resumed)}` : 'nothing to resume'}${still}`;
};
const renderNotifierErrors = (a: unknown) => {
  const n = a as { drill: string; action: string; region: string; failing: boolean; endsAt: string | null };
  return n.failing
    ? `${n.drill} on ${n.region}: every invocation of its notifier fails (as FIS ${n.action}), ${until(n.endsAt, `stop-notifier-errors --region ${n.region}`)}; retries, bisect and the DLQ behave as deployed`
    : `${n.drill} on ${n.region} stopped: its notifier delivers again`;
};
/** `state`: which updater and why, what it set, then the read-back as `npm run state -- <state> --local` prints it. */
const renderState = (a: unknown) => {
  const { region, why, answer } = a as { region: string; why: string; answer: { ok?: boolean; changed?: boolean; state?: string; previousState?: string | null; version?: number; reason?: string } };
  if (answer?.ok !== true) return ''; // refused: the reason goes to stderr
  const head = `region ${region}: ${why}`;
  const what = answer.changed === false ? `already ${answer.state}: nothing changed` : `state ${answer.state} (was ${answer.previousState ?? 'unset'}), version ${answer.version}: ${answer.reason}`;
  return [head, what, ...formatReadBack(answer)].join('\n');
};

function parseCommand(argv: readonly string[]): { cmd: Command; endpoints: string; json: boolean } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        reason: { type: 'string', short: 'r' },
        region: { type: 'string' },
        duration: { type: 'string' },
        endpoints: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return 'help';
  const [name, ...rest] = positionals;
  if (!name) throw new UsageError('a command is required');
  const only = (allowed: string[]) => {
    const given = (['from', 'to', 'reason', 'region', 'duration'] as const).filter((k) => v[k] !== undefined && !allowed.includes(k));
    if (given.length) throw new UsageError(`${name} takes no --${given.join(', --')}`);
  };
  const args = (n: number, what: string) => {
    if (rest.length !== n) throw new UsageError(n === 0 ? `${name} takes no arguments, got: ${rest.join(' ')}` : `${name} needs ${what}${rest.length ? `, got: ${rest.join(' ')}` : ''}`);
  };
  let cmd: Command;
  switch (name) {
    case 'status':
      only([]);
      args(0, '');
      cmd = { method: 'GET', route: '/status', render: (a) => {
        const s = a as { regions: Array<{ region: string; running: boolean; drained: boolean; subscriptions: number }>; health: unknown; replication: unknown; notifier: unknown };
        const regions = table([['region', 'endpoints', 'drained', 'subscriptions'], ...s.regions.map((r) => [r.region, r.running ? 'up' : 'STOPPED', r.drained ? 'yes' : 'no', String(r.subscriptions)])]);
        return `${regions}\n\n${renderHealth(s.health)}\n\n${renderLag(s.replication)}\n\n${renderBacklog(s.notifier)}`;
      } };
      break;
    case 'health':
      only([]);
      args(0, '');
      cmd = { method: 'GET', route: '/health', render: renderHealth };
      break;
    case 'lag':
      only([]);
      args(0, '');
      cmd = { method: 'GET', route: '/replication', render: renderLag };
      break;
    case 'backlog':
      only([]);
      args(0, '');
      cmd = { method: 'GET', route: '/notifier', render: renderBacklog };
      break;
    case 'stop':
    case 'start':
    case 'drain':
    case 'undrain':
      only([]);
      args(1, 'a region, e.g. eu-west-1');
      cmd = { method: 'POST', route: `/regions/${encodeURIComponent(rest[0])}/${name}`, render: (a) => renderRegion[name](a as RegionView) };
      break;
    case 'add-region':
    case 'remove-region':
      only([]);
      args(1, 'a region, e.g. us-west-2');
      cmd = { method: 'POST', route: `/regions/${encodeURIComponent(rest[0])}/${name.split('-')[0]}`, render: renderChange };
      break;
    case 'pause-replication':
    case 'resume-replication':
      only(name === 'pause-replication' ? ['region', 'duration', 'from', 'to'] : ['region', 'from', 'to']);
      args(0, '');
      if (v.region !== undefined && (v.from !== undefined || v.to !== undefined)) throw new UsageError(`${name}: give --region R (both directions, as FIS) or --from/--to, not both`);
      cmd = {
        method: 'POST',
        route: `/replication/${name.split('-')[0]}`,
        body: { ...(v.region ? { region: v.region } : {}), ...(v.duration ? { duration: v.duration } : {}), ...(v.from ? { from: v.from } : {}), ...(v.to ? { to: v.to } : {}) },
        render: name === 'pause-replication' ? renderPause : renderResume,
      };
      break;
    case 'notifier-errors':
    case 'stop-notifier-errors':
      only(name === 'notifier-errors' ? ['region', 'duration'] : ['region']);
      args(0, '');
      if (!v.region) throw new UsageError(`${name} needs --region R`);
      cmd = { method: 'POST', route: name === 'notifier-errors' ? '/drills/notifier-errors' : '/drills/notifier-errors/stop', body: { region: v.region, ...(v.duration ? { duration: v.duration } : {}) }, render: renderNotifierErrors };
      break;
    case 'state':
      only(['reason', 'region']);
      args(1, 'a state: active, fenced or failover');
      if (!v.reason?.trim()) throw new UsageError('state needs --reason "why"');
      cmd = {
        method: 'POST',
        route: '/state',
        body: { state: rest[0], reason: v.reason, ...(v.region ? { region: v.region } : {}) },
        render: renderState,
        refused: (a) => {
          const { region, answer } = a as { region: string; answer: unknown };
          const why = refusal(answer);
          if (why) return `refused by ${region}'s state updater: ${why}`;
          return raced(answer) ? `${region}'s change was raced by another region's (the read-back says how): check GET /state in each region` : undefined;
        },
      };
      break;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  }
  return { cmd, endpoints: v.endpoints ? path.resolve(v.endpoints) : DEFAULT_ENDPOINTS, json: v.json ?? false };
}

export async function main(argv: readonly string[], io: { out?: (l: string) => void; err?: (l: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((l: string) => console.log(l));
  const err = io.err ?? ((l: string) => console.error(l));
  let parsed;
  try {
    parsed = parseCommand(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`error: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    out(USAGE);
    return 0;
  }
  try {
    const { adminUrl } = readEndpoints(parsed.endpoints);
    const answer = await adminCall(adminUrl, parsed.cmd.method, parsed.cmd.route, parsed.cmd.body);
    const refused = parsed.cmd.refused?.(answer);
    // a refused change is said on stderr only (nothing happened); --json still prints the answer as it came
    const text = parsed.json ? JSON.stringify(answer, null, 2) : parsed.cmd.render(answer);
    if (text) out(text);
    if (refused) err(`error: ${refused}`);
    return refused ? 1 : 0;
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 1;
  }
}

runMain(module, main);
