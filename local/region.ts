/**
 * One emulated region: what `pulumi up` deploys per region, started and stopped together.
 *   - AppSync endpoint (local/appsync/server.ts): schema/schema.graphql + the manifest's APPSYNC_JS resolvers on the
 *     executor, this region's data sources (local items, primary items, app-config), API key (or, in token mode,
 *     the authorizer function) + IAM auth, realtime; client credentials as RegionAuth says;
 *   - the six *bundled* Lambda functions (local/lambdaHost.ts) with the environment components/lambdaEnv.ts gives
 *     them in this region;
 *   - the REST endpoint (local/rest.ts) invoking them;
 *   - the notifier loop (local/notifierLoop.ts): this region's items stream → the bundled notifier → SigV4
 *     publishItemChange on this region's AppSync endpoint.
 * `stopEndpoints()`/`startEndpoints()` take the region's HTTP endpoints away and back on the same ports (a regional
 * outage as clients see it); the functions and the notifier keep their state.
 * `suspend()`/`resume()` are the emulator's regional outage (local/drills.ts adds replication): endpoints down AND
 * the notifier held — its event source mapping stops invoking, the stream keeps every record (Lambda resumes a
 * mapping from its checkpoint), so after `resume()` the notifier publishes what it had not yet published, in order.
 * `setDrained()` flips the health λ's DRAIN variable through components/lambdaEnv.ts (as `drainRegions` deploys it).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HANDLER_NAMES, type HandlerName } from '../components/bundle';
import { DRILLS } from '../config/drills';
import { lambdaEnvironments, type LambdaEnvArgs } from '../components/lambdaEnv';
import { stateUpdaterFunctionName } from '../config/names';
import type { StackConfig } from '../config';
import { resolverFiles } from '../schema/resolvers/manifest';
import { createGraphQLExecutor, type GraphQLExecutor } from './appsync/graphql';
import { loadResolverModule } from './appsync/runner';
import { startAppSyncServer, type AppSyncServer } from './appsync/server';
import { EMULATOR_IDLE_MAX_MS, EMULATOR_POLL_MS } from './dynamodbStreams';
import { LambdaHost } from './lambdaHost';
import { appendOnFailure, localDlqFile, startNotifierLoop, type NotifierLoop } from './notifierLoop';
import { pathToFileURL } from 'node:url';
import { startRestServer, type RestServer } from './rest';
import type { RestAuth } from './restAuth';
import { LOCAL_CREDENTIALS, localClient } from './tables';
import { emulatedWriteBound, type EmulatedWriteBound } from './writeBound';

/**
 * Function timeouts as deployed (components: lambda.ts default 10 s, health 5 s, notifier 60 s); the items function's
 * follows the emulator's write bound (local/writeBound.ts: its deployed 10 s unless the bound is scaled down).
 */
const TIMEOUT_MS: Record<Exclude<HandlerName, 'items'>, number> = { health: 5_000, state: 10_000, stateUpdater: 10_000, notifier: 60_000, authorizer: 10_000 };

/** Appends lines to a file (created empty), like a CloudWatch log stream. */
function fileLog(file: string): (line: string) => void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const out = fs.createWriteStream(file, { flags: 'w' });
  return (line) => out.write(`${new Date().toISOString()} ${line}\n`);
}

/** An AppSync-style API key: `da2-` and 26 lower-case letters and digits. */
export function newApiKey(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `da2-${[...randomBytes(26)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

export interface RegionOptions {
  region: string;
  config: StackConfig;
  dynamodbEndpoint: string;
  /** 0 = any free port */
  ports: { graphql: number; rest: number };
  apiKey?: string;
  /** Folder for the functions' logs (<region>.<function>.log); undefined = dropped. */
  logDir?: string;
  /** Client credentials (`auth.mode` as deployed); default: API keys with no shared REST key checked. */
  auth?: RegionAuth;
  /** The write bound and the request limits it is made of (local/writeBound.ts); default AWS's. */
  writeBound?: EmulatedWriteBound;
  /**
   * A region added to a running emulator (its tables were just filled by copying): the notifier reads its stream
   * from the latest record on — the copy is not a change anyone made — and start() resolves only once it holds that
   * position. The emulator publishes the region's URLs after that, so a subscriber hears every change from the
   * moment it subscribes.
   */
  added?: boolean;
  /** The notifier loop's longest pause between polls of a quiet stream; default EMULATOR_IDLE_MAX_MS. */
  streamIdleMaxMs?: number;
}

/**
 * How clients authenticate, as deployed: `apiKey` — AppSync takes this region's key, REST and the REST /graphql
 * path take the ONE `sharedKey` of every region; `token` — the bundled authorizer function (this region's copy,
 * environment from components/lambdaEnv.ts) decides on every path, AppSync as AWS_LAMBDA, REST as a REQUEST
 * authorizer; no API key at all.
 */
export type RegionAuth =
  | { mode: 'apiKey'; sharedKey: string }
  | { mode: 'token'; issuer: string; audience: string; ttlSeconds: number; secret: string };

export interface RegionEndpoints {
  graphqlUrl: string;
  realtimeUrl: string;
  restUrl: string;
  apiKey: string;
}

export class Region {
  readonly name: string;
  readonly apiKey: string;
  readonly functions: Record<HandlerName, LambdaHost>;
  readonly executor: GraphQLExecutor;
  private appsync?: AppSyncServer;
  private rest?: RestServer;
  private notifier?: NotifierLoop;
  private ports: { graphql: number; rest: number };
  private lastEndpoints?: RegionEndpoints;
  /** While suspended: resolves when the region resumes (held notifier invocations wait on it). */
  private hold?: { promise: Promise<void>; release: () => void };
  private stopping = false;
  private drained = false;
  private notifierFailing = false;
  private readonly envArgs: LambdaEnvArgs<string>;
  private readonly auth?: RegionAuth;
  private readonly clients = new Map<string, DynamoDBClient>();

  private constructor(opts: RegionOptions) {
    const { region, config } = opts;
    this.name = region;
    this.apiKey = opts.apiKey ?? newApiKey();
    this.ports = { ...opts.ports };
    const bound = opts.writeBound ?? emulatedWriteBound(undefined, config.stateCacheMs);
    this.executor = createGraphQLExecutor({
      settings: { region, primaryRegion: config.primaryRegion, writeMode: config.writeMode, consistency: config.consistency },
      dataSources: {
        localItems: { tableName: config.tableName, region },
        primaryItems: { tableName: config.tableName, region: config.primaryRegion },
        appConfig: { tableName: config.appConfigTableName, region },
        primaryAppConfig: { tableName: config.appConfigTableName, region: config.primaryRegion },
      },
      clientFor: (r) => {
        let c = this.clients.get(r);
        if (!c) this.clients.set(r, (c = localClient(opts.dynamodbEndpoint, r)));
        return c;
      },
      // API keys, or in token mode AWS_LAMBDA (@aws_lambda); IAM for the notifier either way
      authMode: opts.auth?.mode === 'token' ? 'lambda' : 'apiKey',
      // AppSync's request limit (30 s), or the scaled write bound's
      requestLimitMs: bound.graphqlRequestLimitMs,
    });
    this.auth = opts.auth;
    // Load every resolver now (bundle + evaluate, cached per settings), as AppSync has them deployed before the first
    // request: otherwise the first call to each field pays for esbuild.
    const settings = { region, primaryRegion: config.primaryRegion, writeMode: config.writeMode, consistency: config.consistency };
    for (const file of resolverFiles()) loadResolverModule(file, settings);
    // graphqlUrl is known only once the AppSync server listens: the notifier's environment is set then
    this.envArgs = {
      itemsTable: config.tableName,
      appConfigTable: config.appConfigTableName,
      primaryRegion: config.primaryRegion,
      writeMode: config.writeMode,
      graphqlUrl: '',
      consistency: config.consistency,
      ...(opts.auth?.mode === 'token' ? { auth: { mode: 'token' as const, issuer: opts.auth.issuer, audience: opts.auth.audience, ttlSeconds: opts.auth.ttlSeconds, secret: opts.auth.secret } } : {}),
      // the notifier's DLQ is a file next to the function logs (`npm run replay-dlq -- --local` reads it)
      ...(opts.logDir ? { notifierDlqUrl: pathToFileURL(localDlqFile(opts.logDir, region)).href } : {}),
      stateRegions: config.regions,
      stateCacheMs: config.stateCacheMs,
      // the limits this region enforces: the updater's STATE_WRITE_BOUND_MS is computed from them
      requestLimits: { itemsTimeoutMs: bound.itemsTimeoutMs, graphqlRequestLimitMs: bound.graphqlRequestLimitMs },
      // the drills fail back once the write bound has passed, not after the deployed default of 60 s in fenced,
      // which is tested on its own
      minFencedSeconds: 0,
    };
    const env = lambdaEnvironments<string>(this.envArgs);
    const fns = {} as Record<HandlerName, LambdaHost>;
    for (const handler of HANDLER_NAMES) {
      fns[handler] = new LambdaHost({
        handler,
        region,
        functionName: handler === 'stateUpdater' ? stateUpdaterFunctionName(config.project, config.stack) : `${config.project}-${config.stack}-${handler}`,
        environment: env[handler] as Record<string, string>,
        dynamodbEndpoint: opts.dynamodbEndpoint,
        credentials: LOCAL_CREDENTIALS,
        timeoutMs: handler === 'items' ? bound.itemsTimeoutMs : TIMEOUT_MS[handler],
        log: opts.logDir ? fileLog(path.join(opts.logDir, `${region}.${handler}.log`)) : undefined,
      });
    }
    this.functions = fns;
  }

  static async start(opts: RegionOptions): Promise<Region> {
    const r = new Region(opts);
    const notifier = (): Promise<NotifierLoop> =>
      startNotifierLoop({
        endpoint: opts.dynamodbEndpoint,
        region: opts.region,
        table: opts.config.tableName,
        invoke: (event) => r.invokeNotifier(event),
        ...(opts.logDir ? { onDiscard: (range) => appendOnFailure(localDlqFile(opts.logDir as string, opts.region), range) } : {}),
        intervalMs: EMULATOR_POLL_MS,
        idleMaxMs: opts.streamIdleMaxMs ?? EMULATOR_IDLE_MAX_MS,
        ...(opts.added ? { from: 'LATEST' as const } : {}),
      });
    try {
      await r.startEndpoints();
      r.notifier = await notifier();
      // an added region's URLs are published only after this: its LATEST position is taken before anyone can subscribe
      if (opts.added) await r.notifier.poller.caughtUp();
    } catch (err) {
      await r.stop();
      throw err;
    }
    return r;
  }

  /** The region's URLs; unchanged while its endpoints are stopped (they come back on the same ports). */
  get endpoints(): RegionEndpoints {
    if (!this.lastEndpoints) throw new Error(`region ${this.name} has not served yet`);
    return { ...this.lastEndpoints };
  }

  get suspended(): boolean {
    return this.hold !== undefined;
  }

  get isDrained(): boolean {
    return this.drained;
  }

  /** The event source mapping's invoke: waits while the region is suspended (see header). */
  private async invokeNotifier(event: unknown): Promise<unknown> {
    while (this.hold) await this.hold.promise;
    if (this.stopping) throw new Error(`region ${this.name} is stopping`);
    // the notifier-errors drill (FIS aws:lambda:invocation-error, preventExecution): the handler is not run
    if (this.notifierFailing) throw new Error(`injected fault: ${DRILLS.notifierErrors.actionId} (drill ${DRILLS.notifierErrors.name}) in ${this.name}`);
    return this.functions.notifier.invoke(event);
  }

  /** The notifier-errors drill: every notifier invocation fails without running the handler, until turned off. */
  setNotifierErrors(on: boolean): void {
    this.notifierFailing = on;
  }

  get notifierErrors(): boolean {
    return this.notifierFailing;
  }

  /** A regional outage as this region sees it: endpoints down (connections dropped), the notifier held. */
  async suspend(): Promise<void> {
    if (!this.hold) {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => (release = resolve));
      this.hold = { promise, release };
    }
    await this.stopEndpoints();
  }

  /** Back from suspend(): endpoints on the same ports first, then the notifier goes on from where it stopped. */
  async resume(): Promise<void> {
    await this.startEndpoints();
    const hold = this.hold;
    this.hold = undefined;
    hold?.release();
  }

  /** The regions the state updater knows (STATE_REGIONS, components/lambdaEnv.ts), after a region is added or removed. */
  setStateRegions(regions: readonly string[]): void {
    this.envArgs.stateRegions = [...regions];
    const env = lambdaEnvironments<string>({ ...this.envArgs, drain: this.drained });
    this.functions.stateUpdater.updateEnvironment({ STATE_REGIONS: env.stateUpdater.STATE_REGIONS });
  }

  /** Sets the health λ's DRAIN variable (components/lambdaEnv.ts): drained → /health answers 503 saying why. */
  setDrained(drained: boolean): void {
    if (this.drained === drained) return;
    this.drained = drained;
    const env = lambdaEnvironments<string>({ ...this.envArgs, drain: drained });
    this.functions.health.updateEnvironment({ DRAIN: env.health.DRAIN });
  }

  get running(): boolean {
    return !!this.appsync && !!this.rest;
  }

  /** Records of this region's items stream not yet handed to the notifier successfully. */
  notifierBacklog(): number {
    return this.notifier?.backlog() ?? 0;
  }

  notifierStats() {
    return this.notifier?.stats();
  }

  /** Something may have been written to this region's items table: the notifier loop reads its stream soon. */
  pokeNotifier(): void {
    this.notifier?.poller.poke();
  }

  /** Resolves once the notifier loop has read its stream up to date and handed everything written before over. */
  async notifierSettled(): Promise<void> {
    await this.notifier?.poller.settled();
  }

  subscriptions(): number {
    return this.appsync?.subscriptions() ?? 0;
  }

  /** Serves the AppSync and REST endpoints (again, on the same ports after stopEndpoints). */
  async startEndpoints(): Promise<void> {
    if (this.running) return;
    const token = this.auth?.mode === 'token';
    this.appsync = await startAppSyncServer({
      region: this.name,
      executor: this.executor,
      ...(token ? { lambda: (event) => this.functions.authorizer.invoke(event) } : { apiKey: this.apiKey }),
      credentials: LOCAL_CREDENTIALS,
      port: this.ports.graphql,
    });
    this.ports.graphql = this.appsync.port;
    if (this.functions.notifier.environment.APPSYNC_URL !== this.appsync.graphqlUrl) {
      this.functions.notifier.updateEnvironment({ APPSYNC_URL: this.appsync.graphqlUrl });
    }
    const restAuth: RestAuth | undefined =
      this.auth?.mode === 'token' ? { mode: 'token', authorizer: this.functions.authorizer } : this.auth ? { mode: 'apiKey', key: this.auth.sharedKey } : undefined;
    this.rest = await startRestServer({ region: this.name, functions: this.functions, graphqlUrl: this.appsync.graphqlUrl, port: this.ports.rest, auth: restAuth, appsyncApiKey: this.apiKey });
    this.ports.rest = this.rest.port;
    // token mode: no API key exists (apiKey '' in the endpoints file; `auth` there says what to send instead)
    this.lastEndpoints = { graphqlUrl: this.appsync.graphqlUrl, realtimeUrl: this.appsync.realtimeUrl, restUrl: this.rest.restUrl, apiKey: token ? '' : this.apiKey };
  }

  /** Closes the AppSync (HTTP + realtime) and REST endpoints; connections are dropped, ports freed. */
  async stopEndpoints(): Promise<void> {
    const { appsync, rest } = this;
    this.appsync = undefined;
    this.rest = undefined;
    await Promise.all([appsync?.close(), rest?.close()]);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const hold = this.hold;
    this.hold = undefined;
    hold?.release();
    await this.notifier?.stop();
    this.notifier = undefined;
    await this.stopEndpoints();
    await Promise.all(Object.values(this.functions).map((f) => f.stop()));
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}
