/**
 * The emulator's fault controls (what the admin API, local/admin.ts, exposes): the operations a failure drill
 * needs, each one what its AWS counterpart does to the deployed stack.
 *
 *   - stopRegion / startRegion: a regional outage. The region's endpoints go down (clients get refused
 *     connections, so the global endpoint's health checks fail), its notifier is held (Region.suspend) and
 *     replication to and from it is paused, as a global table queues replication to an unreachable replica: writes
 *     accepted elsewhere wait, and on recovery the region catches up in order (its notifier publishes them to its
 *     new subscribers; subscriptions do not survive an outage — AppSync has no replay). Not emulated: the region's
 *     DynamoDB replica itself stays reachable for other regions' direct calls (writeMode primary's
 *     "write global" path), because DynamoDB Local is one process for every region.
 *   - drain / undrain: the health λ's DRAIN variable (components/lambdaEnv.ts, as `drainRegions` deploys it), so
 *     /health answers 503 "region X is drained by the DRAIN environment variable".
 *   - pauseReplication / resumeReplication: an APPROXIMATION of AWS FIS's action
 *     `aws:dynamodb:global-table-pause-replication`
 *     (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#global-table-pause-replication).
 *     FIS targets one replica table (the experiment's region) and cuts replication to AND from it; its parameter
 *     is `duration` (ISO 8601, e.g. PT5M) and the action ends by itself; writes keep being accepted everywhere and
 *     queue, then flow again, last writer wins. The FIS shape here is `region` (every pair into and out of it)
 *     with an optional `duration` after which the pause ends by itself; `from`/`to` (one direction, or every pair)
 *     and a pause with no end are emulator-only extras. Onset differs: AWS documents that replication may go on
 *     for up to 5 minutes after the action begins
 *     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-CoreConcepts.html); here the
 *     pause is immediate — a drill that passes here can still see a few minutes of replicated writes in AWS.
 *     A pause asked for by the user and one caused by an outage are tracked apart: starting a region never
 *     resumes a pair the user paused, and a user resume never resumes a pair into or out of a stopped region.
 *   - notifierErrors: the `notifier-errors` drill (FIS aws:lambda:invocation-error): the region's notifier fails.
 *   - setState: the app state through the region's bundled state updater λ (the same function `npm run state`
 *     invokes in AWS), default region chosen as scripts/state.ts chooses it (local/stateRegion.ts).
 *   - replication(): lag and queue per pair; notifier(): backlog per region; health(): the router's view.
 * Every bad input throws a FaultInputError naming what was wrong (the admin API answers it as 400).
 */
import type { StackConfig } from '../config';
import { DRILLS, PAUSE_REPLICATION_ACTION } from '../config/drills';
import { APP_STATES } from '../schema/rules';
import type { Region } from './region';
import type { PairStats, Replicator } from './replicator';
import type { RegionHealth, Router } from './router';
import { defaultRegion } from './stateRegion';

/** The FIS action this control approximates: the same id the drill templates use (config/drills.ts). */
export const PAUSE_ACTION = PAUSE_REPLICATION_ACTION;
/** Said with every pause answer: what differs from the FIS action (see header). */
export const PAUSE_APPROXIMATION = 'approximation: immediate onset (AWS: replication may continue up to 5 minutes after the action begins); FIS targets one replica (region), from/to are emulator-only';
/** The longest pause the emulator takes (an FIS experiment runs at most 12 hours). */
const MAX_PAUSE_MS = 12 * 3600_000;

/** An ISO 8601 duration as FIS takes it (PT30S, PT5M, PT1H30M, fractional seconds allowed) → ms; else null. */
export function parseIsoDuration(text: string): number | null {
  const m = /^PT(?=\d|\.\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?|\.\d+)S)?$/.exec(text);
  if (!m || text === 'PT') return null;
  const ms = ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
  return Math.round(ms);
}

export interface PauseInput {
  region?: unknown;
  from?: unknown;
  to?: unknown;
  duration?: unknown;
}

/** Bad input from the caller (unknown region, bad state...): the admin API answers 400 with the message. */
export class FaultInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultInputError';
  }
}

/** The request cannot be served in the emulator's current condition (e.g. the region is stopped): 409. */
export class FaultConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultConflictError';
  }
}

export interface PairView extends PairStats {
  /** Why the pair is paused: 'user' (pause-replication) and/or 'outage of <region>'. */
  pausedBy: string[];
}

export interface RegionView {
  region: string;
  running: boolean;
  drained: boolean;
  notifierBacklog: number;
  subscriptions: number;
}

export interface FaultControlsOptions {
  config: StackConfig;
  regions: ReadonlyMap<string, Region>;
  replicator: Replicator;
  router?: () => Router | undefined;
}

export class FaultControls {
  /** Pairs the user paused ("from>to"), with the timer that ends a timed pause (undefined: until resumed). */
  private readonly userPaused = new Map<string, NodeJS.Timeout | undefined>();
  private readonly down = new Set<string>();
  /** region → the timer that ends its notifier-errors drill */
  private readonly notifierTimers = new Map<string, NodeJS.Timeout>();
  constructor(private readonly o: FaultControlsOptions) {}

  /** The regions now (regions are added and removed while the emulator runs). */
  private get names(): string[] {
    return [...this.o.regions.keys()];
  }

  region(name: unknown): Region {
    if (typeof name !== 'string' || !name) throw new FaultInputError(`region is required: one of ${this.names.join(', ')}`);
    const r = this.o.regions.get(name);
    if (!r) throw new FaultInputError(`region ${JSON.stringify(name)} is not one of this emulator's regions: ${this.names.join(', ')}`);
    return r;
  }

  private pairs(from: unknown, to: unknown): Array<[string, string]> {
    for (const [what, v] of [['from', from], ['to', to]] as const) {
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string' || !this.o.regions.has(v)) throw new FaultInputError(`${what} ${JSON.stringify(v)} is not one of this emulator's regions: ${this.names.join(', ')}`);
    }
    const f = (from ?? undefined) as string | undefined;
    const t = (to ?? undefined) as string | undefined;
    if (f !== undefined && f === t) throw new FaultInputError(`from and to are both ${f}: a replication pair is two different regions`);
    const out: Array<[string, string]> = [];
    for (const a of this.names) for (const b of this.names) if (a !== b && (f === undefined || a === f) && (t === undefined || b === t)) out.push([a, b]);
    return out;
  }

  /** Applies the effective pause of every pair: paused by the user or by an outage at either end. */
  private sync(): void {
    for (const [a, b] of this.pairs(undefined, undefined)) {
      if (this.userPaused.has(`${a}>${b}`) || this.down.has(a) || this.down.has(b)) this.o.replicator.pause(a, b);
      else this.o.replicator.resume(a, b);
    }
  }

  /** The outage; `stoppedAt` is when the region's endpoints were down (drills time detection from it). */
  async stopRegion(name: unknown): Promise<RegionView & { stoppedAt: string }> {
    const r = this.region(name);
    this.down.add(r.name);
    this.sync();
    await r.suspend();
    return { ...this.regionView(r), stoppedAt: new Date().toISOString() };
  }

  async startRegion(name: unknown): Promise<RegionView> {
    const r = this.region(name);
    // endpoints (and the notifier) first, so that replicated catch-up writes are published to a serving AppSync
    await r.resume();
    this.down.delete(r.name);
    this.sync();
    return this.regionView(r);
  }

  drain(name: unknown, drained: boolean): RegionView {
    const r = this.region(name);
    r.setDrained(drained);
    return this.regionView(r);
  }

  /** Pairs for a pause/resume request: `region` (both directions, FIS's shape) or from/to (emulator extra). */
  private pausePairs(input: PauseInput): Array<[string, string]> {
    const given = (v: unknown) => v !== undefined && v !== null;
    if (!given(input.region)) return this.pairs(input.from, input.to);
    if (given(input.from) || given(input.to)) throw new FaultInputError('give region (every pair into and out of it, as FIS pauses one replica) or from/to, not both');
    const r = this.region(input.region).name;
    return [...this.pairs(r, undefined), ...this.pairs(undefined, r)];
  }

  pauseReplication(input: PauseInput = {}): { action: string; approximation: string; paused: Array<[string, string]>; endsAt: string | null } {
    let durationMs: number | null = null;
    if (input.duration !== undefined && input.duration !== null) {
      durationMs = typeof input.duration === 'string' ? parseIsoDuration(input.duration) : null;
      if (durationMs === null || durationMs <= 0 || durationMs > MAX_PAUSE_MS) {
        throw new FaultInputError(`duration ${JSON.stringify(input.duration)} is not an ISO 8601 duration from PT0.001S to PT12H as FIS takes it (e.g. PT30S, PT5M)`);
      }
    }
    const pairs = this.pausePairs(input);
    for (const [a, b] of pairs) {
      const key = `${a}>${b}`;
      clearTimeout(this.userPaused.get(key));
      this.userPaused.set(key, undefined);
    }
    // consistency strong: FIS's target replica is cut off (it refuses writes; local/syncReplication.ts)
    const target = input.region === undefined || input.region === null ? undefined : this.region(input.region).name;
    if (target) this.o.replicator.isolate?.(target, true);
    if (durationMs !== null) {
      // the action ends by itself, as FIS's does when its duration is over
      const timer = setTimeout(() => {
        for (const [a, b] of pairs) if (this.userPaused.get(`${a}>${b}`) === timer) this.userPaused.delete(`${a}>${b}`);
        if (target) this.o.replicator.isolate?.(target, false);
        this.sync();
      }, durationMs);
      timer.unref();
      for (const [a, b] of pairs) this.userPaused.set(`${a}>${b}`, timer);
    }
    this.sync();
    return { action: PAUSE_ACTION, approximation: PAUSE_APPROXIMATION, paused: pairs, endsAt: durationMs === null ? null : new Date(Date.now() + durationMs).toISOString() };
  }

  resumeReplication(input: PauseInput = {}): { action: string; resumed: Array<[string, string]>; stillPausedByOutage: Array<[string, string]> } {
    if (input.duration !== undefined) throw new FaultInputError('duration belongs to pause-replication');
    const pairs = this.pausePairs(input);
    for (const [a, b] of pairs) {
      clearTimeout(this.userPaused.get(`${a}>${b}`));
      this.userPaused.delete(`${a}>${b}`);
    }
    if (input.region !== undefined && input.region !== null) this.o.replicator.isolate?.(this.region(input.region).name, false);
    this.sync();
    return { action: PAUSE_ACTION, resumed: pairs, stillPausedByOutage: pairs.filter(([a, b]) => this.down.has(a) || this.down.has(b)) };
  }

  /**
   * The `notifier-errors` drill (config/drills.ts; in AWS the FIS template of the same name runs
   * aws:lambda:invocation-error with preventExecution on the region's notifier): every invocation of the region's
   * notifier fails without running the handler, for `duration` (ISO 8601) or until stopped. The stream mapping's
   * retry, bisect and record-age semantics apply as deployed (local/notifierLoop.ts), so a long drill sends records
   * to the DLQ exactly as in AWS.
   */
  notifierErrors(input: { region?: unknown; duration?: unknown }, on = true): { drill: string; action: string; region: string; failing: boolean; endsAt: string | null } {
    const r = this.region(input.region);
    clearTimeout(this.notifierTimers.get(r.name));
    this.notifierTimers.delete(r.name);
    let durationMs: number | null = null;
    if (on && input.duration !== undefined && input.duration !== null) {
      durationMs = typeof input.duration === 'string' ? parseIsoDuration(input.duration) : null;
      if (durationMs === null || durationMs <= 0 || durationMs > MAX_PAUSE_MS) {
        throw new FaultInputError(`duration ${JSON.stringify(input.duration)} is not an ISO 8601 duration from PT0.001S to PT12H as FIS takes it (e.g. PT30S, PT5M)`);
      }
      const timer = setTimeout(() => r.setNotifierErrors(false), durationMs);
      timer.unref();
      this.notifierTimers.set(r.name, timer);
    } else if (!on && input.duration !== undefined) {
      throw new FaultInputError('duration belongs to starting the drill');
    }
    r.setNotifierErrors(on);
    return { drill: DRILLS.notifierErrors.name, action: DRILLS.notifierErrors.actionId, region: r.name, failing: on, endsAt: durationMs === null ? null : new Date(Date.now() + durationMs).toISOString() };
  }

  /** Ends timed pauses' and drills' timers (the emulator is stopping). */
  dispose(): void {
    for (const t of this.userPaused.values()) clearTimeout(t);
    for (const t of this.notifierTimers.values()) clearTimeout(t);
  }

  async setState(input: { state?: unknown; reason?: unknown; region?: unknown; functionName?: unknown }): Promise<{ region: string; why: string; answer: unknown }> {
    const { state, reason } = input;
    if (typeof state !== 'string' || !(APP_STATES as readonly string[]).includes(state)) throw new FaultInputError(`state must be one of ${APP_STATES.join(', ')}, got ${JSON.stringify(state)}`);
    if (typeof reason !== 'string' || reason.trim() === '') throw new FaultInputError('reason is required: say why the state changes');
    let region: Region;
    let why = 'given';
    if (input.region === undefined || input.region === null) {
      const d = defaultRegion(state, this.o.config.stack, { regions: this.names, primaryRegion: this.o.config.primaryRegion });
      region = this.region(d.region);
      why = d.why;
    } else region = this.region(input.region);
    const fn = region.functions.stateUpdater;
    if (input.functionName !== undefined && input.functionName !== fn.name) {
      throw new FaultInputError(`functionName ${JSON.stringify(input.functionName)} is not this emulator's state updater (${fn.name})`);
    }
    if (region.suspended) throw new FaultConflictError(`region ${region.name} is stopped (a regional outage): its state updater cannot be invoked; use another region`);
    const answer = await fn.invoke({ newState: state, reason });
    return { region: region.name, why, answer };
  }

  regionView(r: Region): RegionView {
    return { region: r.name, running: r.running, drained: r.isDrained, notifierBacklog: r.notifierBacklog(), subscriptions: r.subscriptions() };
  }

  regionsView(): RegionView[] {
    return [...this.o.regions.values()].map((r) => this.regionView(r));
  }

  replication(): PairView[] {
    return this.o.replicator.stats().map((p) => ({
      ...p,
      pausedBy: [
        ...(this.userPaused.has(`${p.from}>${p.to}`) ? ['user'] : []),
        ...[p.from, p.to].filter((r) => this.down.has(r)).map((r) => `outage of ${r}`),
      ],
    }));
  }

  notifier(): Array<{ region: string; backlog: number; held: boolean; failing: boolean; stats: unknown }> {
    return [...this.o.regions.values()].map((r) => ({ region: r.name, backlog: r.notifierBacklog(), held: r.suspended, failing: r.notifierErrors, stats: r.notifierStats() ?? null }));
  }

  health(): RegionHealth[] {
    return this.o.router?.()?.health() ?? [];
  }
}
