/**
 * The whole stack on one machine: config (through config/, from the real Pulumi.<stack>.yaml) → DynamoDB Local →
 * both tables in every region → the replicator (what the global table does) → one Region per configured region →
 * the global endpoint (local/router.ts: health checks like Route53, one API key) → the admin API (local/admin.ts,
 * fault controls of local/drills.ts) → `.emulator/endpoints.json`. `npm start` (local/start.ts) and the end-to-end
 * tests call startEmulator().
 *
 * Ports: with `basePort` B the global endpoint takes B, the admin API B+1, and region i takes B+10+10i (AppSync:
 * GraphQL + realtime) and B+11+10i (REST); basePort 0 picks free ports everywhere (tests).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../components/bundle';
import { ConfigError, type StackConfig } from '../config';
import { ensureBundles } from './bundles';
import { EMULATOR_POLL_MS } from './dynamodbStreams';
import { assertPortsFree } from './listen';
import { localSecretFile } from './endpointsFile';
import { ensureDynamoDBLocal, freePort, startDynamoDBLocal, type DynamoDBLocal } from './dynamodbLocal';
import { startAdminServer, type AdminServer } from './admin';
import { FaultControls } from './drills';
import { newApiKey, Region, type RegionAuth, type RegionEndpoints } from './region';
import { startReplicator, type Replicator, type ReplicatorOptions } from './replicator';
import { startSyncReplication } from './syncReplication';
import { describeHealth, startRouter, type HealthSettings, type Router } from './router';
import { checkJava, DEFAULT_BASE_PORT, emulatorConfig, fixedPorts } from './startup';
import { createRegionTables, createTable, localClient } from './tables';
import { AWS_REGIONS, missingServices } from '../config/regions';
import { FaultConflictError, FaultInputError } from './drills';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';

// The SDK's notice that releases after January 2027 need Node 22 is known (the lockfile pins versions for Node 20).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const DEFAULT_ENDPOINTS_FILE = path.join(ROOT, '.emulator', 'endpoints.json');
export const DEFAULT_LOG_DIR = path.join(ROOT, '.emulator', 'logs');

export interface EmulatorOptions {
  stack?: string;
  /** Overrides the stack's regions (validated like the stack file's). */
  regions?: readonly string[];
  /** See the header; default DEFAULT_BASE_PORT. */
  basePort?: number;
  replicationLag?: ReplicatorOptions['lagMs'];
  /** Where to write the endpoints file; null = don't write one. Default .emulator/endpoints.json */
  endpointsFile?: string | null;
  /** Folder holding Pulumi.<stack>.yaml (default: the project root). */
  projectDir?: string;
  /** Raw config keys (without the project prefix) laid over the stack file's, validated the same way. */
  configOverrides?: Readonly<Record<string, string>>;
  /** Folder for the functions' logs, one file per region and function; null = dropped. Default .emulator/logs */
  logDir?: string | null;
  /** Use this DynamoDB Local instead of starting one (it is then left running on stop). */
  dynamodbEndpoint?: string;
  /** A DynamoDB Local already starting (npm start boots the JVM before loading the emulator); stopped with it. */
  dynamodb?: Promise<DynamoDBLocal>;
  /** The global endpoint's health checks; default 1 s × 3 (Route53's 30 s × 3 scaled 1:30). */
  health?: Partial<HealthSettings>;
  /** The global endpoint's one API key (default: a fresh `da2-` key). */
  globalApiKey?: string;
  /** Token mode: the local HS256 secret (default: 48 random bytes, base64url). */
  tokenSecret?: string;
  /** One line per step. */
  log?: (line: string) => void;
}

export interface EndpointsFile {
  stack: string;
  regions: Record<string, RegionEndpoints>;
  dynamodbEndpoint: string;
  primaryRegion: string;
  writeMode: string;
  /** The global endpoint: POST /graphql (x-api-key: globalApiKey) and /live/... routed to a healthy region. */
  globalUrl: string;
  /** The key for GraphQL through globalUrl (the router swaps in the chosen region's AppSync key). */
  globalApiKey: string;
  /** The admin API (fault controls). */
  adminUrl: string;
  /** The browser console, served by the admin API (local/console/). */
  consoleUrl: string;
  /** What a client sends (issue 10): the one shared key, or a token from `npm run token -- --local`. */
  auth: EndpointsAuth;
}

/**
 * apiKey: `globalApiKey` as x-api-key on REST (every region, and /live/ of the global URL) and on the global
 * /graphql; each region's `apiKey` on its own AppSync URL (GraphQL and realtime). token: `Authorization: <JWT>`
 * everywhere; the emulator verifies HS256 tokens with a local secret in `token-secret` beside the endpoints file.
 */
export type EndpointsAuth =
  | { mode: 'apiKey'; globalApiKey: string; header: 'x-api-key' }
  | { mode: 'token'; issuer: string; audience: string; header: 'authorization'; secretFile: string | null; tokenCommand: string };

/** One step of add-region / remove-region, as the admin API answers it. */
export interface RegionPhase {
  phase: string;
  /** what it waited for */
  waitedFor: string;
  ms: number;
  detail?: Record<string, unknown>;
}

export interface RegionChange {
  region: string;
  action: 'add' | 'remove';
  regions: string[];
  phases: RegionPhase[];
  totalMs: number;
}

export { checkJava, DEFAULT_BASE_PORT, emulatorConfig, fixedPorts, JAVA_HINT, StartError } from './startup';

export class Emulator {
  /** One region change at a time (add-region / remove-region). */
  private changing?: string;

  private constructor(
    readonly config: StackConfig,
    readonly dynamodb: DynamoDBLocal,
    readonly replicator: Replicator,
    readonly regions: Map<string, Region>,
    readonly endpointsFile: string | null,
    readonly router: Router,
    readonly admin: AdminServer,
    readonly controls: FaultControls,
    readonly globalApiKey: string,
    /** The emulator's client auth; in token mode it holds the local HS256 secret (tests mint tokens with it). */
    readonly auth: RegionAuth,
    private readonly startOptions: { basePort: number; logDir?: string; regionsEndpoint: string },
  ) {}

  get endpoints(): EndpointsFile {
    const regions: Record<string, RegionEndpoints> = {};
    for (const [name, r] of this.regions) regions[name] = r.endpoints;
    return {
      stack: this.config.stack,
      regions,
      dynamodbEndpoint: this.dynamodb.endpoint,
      primaryRegion: this.config.primaryRegion,
      writeMode: this.config.writeMode,
      globalUrl: this.router.url,
      globalApiKey: this.auth.mode === 'token' ? '' : this.globalApiKey,
      adminUrl: this.admin.url,
      consoleUrl: `${this.admin.url}/console/`,
      auth:
        this.auth.mode === 'token'
          ? { mode: 'token', issuer: this.auth.issuer, audience: this.auth.audience, header: 'authorization', secretFile: this.endpointsFile ? localSecretFile(this.endpointsFile) : null, tokenCommand: 'npm run token -- --local --sub <subject> --ttl 1h' }
          : { mode: 'apiKey', globalApiKey: this.globalApiKey, header: 'x-api-key' },
    };
  }

  region(name: string): Region {
    const r = this.regions.get(name);
    if (!r) throw new Error(`no region ${name} in this emulator (regions: ${[...this.regions.keys()].join(', ')})`);
    return r;
  }

  static async start(opts: EmulatorOptions = {}): Promise<Emulator> {
    const log = opts.log ?? (() => {});
    const stack = opts.stack ?? 'dev';
    const basePort = opts.basePort ?? DEFAULT_BASE_PORT;
    const { config, notes } = emulatorConfig(stack, opts.regions, opts.projectDir, opts.configOverrides);
    log(`stack ${stack}: ${config.regions.join(', ')} (primary ${config.primaryRegion}, ${config.writeMode})`);
    for (const n of notes) log(`  note: ${n}`);
    if (config.auth.mode !== 'apiKey' && config.auth.mode !== 'token') log(`  note: auth.mode ${config.auth.mode} is served locally as API keys (plus IAM for the notifier)`);
    if (config.auth.mode === 'token' && !config.auth.secret) log(`  note: auth.mode token verifies ${config.auth.jwksUrl ? 'jwksUrl' : 'publicKey'} tokens in AWS; locally HS256 tokens with a local secret (npm run token -- --local)`);

    // every fixed port is checked before anything starts, so a port in use costs no JVM start and leaves nothing behind
    if (basePort) {
      try {
        await assertPortsFree(fixedPorts(basePort, config.regions.length));
      } catch (err) {
        await opts.dynamodb?.then((d) => d.stop()).catch(() => {});
        throw err;
      }
    }
    if (!opts.dynamodbEndpoint && !opts.dynamodb) {
      checkJava();
      ensureDynamoDBLocal();
    }
    // the JVM takes seconds to answer: bundle the handlers meanwhile (with its port chosen first, the JVM is spawned
    // before startDynamoDBLocal's first await, so the synchronous bundling below does not hold it back)
    const starting: Promise<DynamoDBLocal> = opts.dynamodb
      ? opts.dynamodb
      : opts.dynamodbEndpoint
      ? Promise.resolve({ endpoint: opts.dynamodbEndpoint, port: Number(new URL(opts.dynamodbEndpoint).port), stop: async () => {} })
      : startDynamoDBLocal({ port: await freePort() });
    let rebuilt: string[];
    try {
      rebuilt = ensureBundles();
    } catch (err) {
      await (await starting).stop();
      throw err;
    }
    log(rebuilt.length ? `bundles rebuilt: ${rebuilt.join(', ')}` : 'bundles up to date (dist/handlers)');
    const dynamodb = await starting;
    log(`DynamoDB Local on ${dynamodb.endpoint}`);
    const regions = new Map<string, Region>();
    let replicator: Replicator | undefined;
    let router: Router | undefined;
    let admin: AdminServer | undefined;
    let controls: FaultControls | undefined;
    // set once everything serves: the console's GET /endpoints answers 503 until then
    const served: { emulator?: Emulator } = {};
    const globalApiKey = opts.globalApiKey ?? newApiKey();
    // token mode: issuer, audience and cache TTL as configured; the key is a fresh local secret (the stack's secret is
    // encrypted in its stack file, and a JWKS or public key has no private half here), so `npm run token -- --local`
    // mints tokens offline
    const auth: RegionAuth =
      config.auth.mode === 'token'
        ? { mode: 'token', issuer: config.auth.issuer, audience: config.auth.audience, ttlSeconds: config.auth.ttlSeconds, secret: opts.tokenSecret ?? randomBytes(48).toString('base64url') }
        : { mode: 'apiKey', sharedKey: globalApiKey };
    try {
      await Promise.all(config.regions.map((r) => createRegionTables(dynamodb.endpoint, r, { items: config.tableName, appConfig: config.appConfigTableName })));
      log(`tables ${config.tableName}, ${config.appConfigTableName} in ${config.regions.length} regions (state: active)`);
      // consistency strong (MRSC): every write is in every region before it is acknowledged (local/syncReplication.ts),
      // so the regions reach DynamoDB Local through that front; eventual: the asynchronous replicator
      let regionsEndpoint = dynamodb.endpoint;
      if (config.consistency === 'strong' && config.regions.length > 1) {
        const sync = await startSyncReplication({ endpoint: dynamodb.endpoint, regions: [...config.regions], tables: [config.tableName, config.appConfigTableName] });
        replicator = sync;
        regionsEndpoint = sync.url;
        log(`replication: synchronous (consistency strong), ${config.regions.length} regions${config.witnessRegion ? ` (witness ${config.witnessRegion} not emulated)` : ''}; replicationLag does not apply`);
      } else {
        replicator = await startReplicator({
          endpoint: dynamodb.endpoint,
          regions: [...config.regions],
          tables: [config.tableName, config.appConfigTableName],
          lagMs: opts.replicationLag ?? 0,
          // streams read every 50 ms (Lambda polls a shard 4 times a second): fast enough to feel instant, and an
          // idle emulator no longer keeps DynamoDB Local busy
          intervalMs: EMULATOR_POLL_MS / 2,
        });
        log(`replicator: ${config.regions.length * (config.regions.length - 1)} region pairs, lag ${describeLag(opts.replicationLag)}`);
      }
      const started = await Promise.allSettled(
        config.regions.map((region, i) =>
          Region.start({
            region,
            config,
            dynamodbEndpoint: regionsEndpoint,
            logDir: opts.logDir === undefined ? DEFAULT_LOG_DIR : (opts.logDir ?? undefined),
            auth,
            ports: basePort ? { graphql: basePort + 10 + 10 * i, rest: basePort + 11 + 10 * i } : { graphql: 0, rest: 0 },
          }),
        ),
      );
      started.forEach((s, i) => {
        if (s.status === 'fulfilled') regions.set(config.regions[i], s.value);
      });
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      for (const r of regions.values()) log(`region ${r.name}: AppSync ${r.endpoints.graphqlUrl}, REST ${r.endpoints.restUrl}`);
      if (opts.logDir !== null) log(`function logs: ${path.relative(process.cwd(), opts.logDir ?? DEFAULT_LOG_DIR) || '.'}/<region>.<function>.log`);
      // A deployed health λ is warm (Route53 calls it every few seconds): warm each region's before the first check.
      await Promise.all([...regions.values()].map((r) => fetch(`${r.endpoints.restUrl}/health`).then((res) => res.arrayBuffer(), () => undefined)));
      router = await startRouter({
        targets: config.regions.map((name) => ({ region: name, ...(regions.get(name) as Region).endpoints })),
        globalApiKey,
        authMode: auth.mode,
        health: opts.health,
        port: basePort || 0,
      });
      log(`global endpoint ${router.url} (${describeHealth(router.settings)})`);
      const r = router;
      controls = new FaultControls({ config, regions, replicator, router: () => r });
      admin = await startAdminServer({
        controls,
        router: () => r,
        endpoints: () => served.emulator?.endpoints,
        regionChanges: {
          add: (region) => (served.emulator as Emulator).addRegion(region),
          remove: (region) => (served.emulator as Emulator).removeRegion(region),
        },
        port: basePort ? basePort + 1 : 0,
      });
      log(`admin API ${admin.url} (npm run emulator -- --help)`);
    } catch (err) {
      await admin?.close();
      await router?.close();
      await Promise.all([...regions.values()].map((r) => r.stop()));
      await replicator?.stop();
      await dynamodb.stop();
      throw err;
    }
    const endpointsFile = opts.endpointsFile === undefined ? DEFAULT_ENDPOINTS_FILE : opts.endpointsFile;
    const logDir = opts.logDir === undefined ? DEFAULT_LOG_DIR : (opts.logDir ?? undefined);
    const emulator = new Emulator(config, dynamodb, replicator, regions, endpointsFile, router, admin as AdminServer, controls as FaultControls, globalApiKey, auth, { basePort, ...(logDir ? { logDir } : {}), regionsEndpoint: dynamodb.endpoint });
    served.emulator = emulator;
    emulator.writeEndpoints();
    return emulator;
  }

  /**
   * Adds a region to the running emulator with nothing lost and no empty answers, in the order a deployed region comes
   * in (components/regionReady.ts): its tables; replication into it (new writes stream in from now); the copy of every
   * item (last writer wins against what streamed in meanwhile); its servers and notifier; its health checks; the
   * global endpoint's rotation (its first routed answer waits for the catch-up of everything acknowledged before);
   * the endpoints file. Writes are never stopped. Answers each phase and how long it took.
   */
  async addRegion(region: string): Promise<RegionChange> {
    if (typeof region !== 'string' || !AWS_REGIONS.includes(region)) throw new FaultInputError(`region ${JSON.stringify(region)} is not an AWS region of the aws partition (e.g. us-west-2)`);
    const missing = missingServices(region);
    if (missing.length > 0) throw new FaultInputError(`region ${region}: ${missing.join(', ')} not available there, so the stack cannot be deployed to it`);
    if (this.regions.has(region)) throw new FaultConflictError(`region ${region} is already one of this emulator's regions (${[...this.regions.keys()].join(', ')})`);
    const { addRegion, backfill, catchUp } = this.replicator;
    if (!addRegion || !backfill || !catchUp) throw new FaultConflictError(`consistency ${this.config.consistency}: a region cannot be added (multi-Region strong consistency takes exactly three regions, or two and a witness)`);
    const down = [...this.regions.values()].filter((r) => !r.running).map((r) => r.name);
    if (down.length > 0) throw new FaultConflictError(`region ${down.join(', ')} is stopped: start it first (the copy needs every region's writes)`);
    return this.change(region, 'add', async (step) => {
      const names = { items: this.config.tableName, appConfig: this.config.appConfigTableName };
      await step('tables', 'both tables created, empty, in the new region', async () => {
        const client = localClient(this.dynamodb.endpoint, region);
        try {
          await createTable(client, names.items);
          await createTable(client, names.appConfig);
        } finally {
          client.destroy();
        }
      });
      await step('replicate', 'replication into and out of the region started (every write from now on is queued for it)', () => addRegion(region));
      const source = this.config.primaryRegion;
      await step('backfill', `every item copied from ${source}, after the other regions applied what their streams held; a newer replicated image is never overwritten`, async () => ({ source, ...(await backfill(region, source)) }));
      const index = this.regions.size;
      const all = [...this.regions.keys(), region];
      const r = await step('start', 'AppSync, REST and the notifier serving (the notifier reading its stream before the endpoints open)', () =>
        Region.start({
          region,
          config: { ...this.config, regions: all },
          dynamodbEndpoint: this.startOptions.regionsEndpoint,
          ...(this.startOptions.logDir ? { logDir: this.startOptions.logDir } : {}),
          auth: this.auth,
          ports: this.startOptions.basePort ? { graphql: this.startOptions.basePort + 10 + 10 * index, rest: this.startOptions.basePort + 11 + 10 * index } : { graphql: 0, rest: 0 },
          added: true,
        }),
      );
      this.regions.set(region, r);
      for (const other of this.regions.values()) other.setStateRegions(all);
      await step('health', `${this.router.settings.failureThreshold} health checks in a row passing (/health reads the table and the app state)`, async () => {
        this.router.addTarget({ region, ...r.endpoints });
        await this.router.waitFor(region, true, 120_000);
      });
      await step('join', 'in the global endpoint\'s rotation; its first routed answer waited for every write acknowledged before to be applied there', () => this.router.join(region, () => catchUp(region)));
      await step('endpoints', 'the endpoints file rewritten (temp file + rename)', async () => this.writeEndpoints());
    });
  }

  /**
   * Removes a region: drained first (its /health answers 503 until the global endpoint's checks take it out of the
   * rotation), its requests in flight answered, every write it accepted replicated to the others; then its servers and
   * notifier stop, its replication and tables go, and the endpoints file is rewritten. Answers each phase's time.
   */
  async removeRegion(region: string): Promise<RegionChange> {
    const r = this.regions.get(region);
    if (!r) throw new FaultInputError(`region ${JSON.stringify(region)} is not one of this emulator's regions: ${[...this.regions.keys()].join(', ')}`);
    if (region === this.config.primaryRegion || region === this.config.homeRegion) {
      throw new FaultConflictError(`region ${region} is the stack's ${region === this.config.primaryRegion ? 'primaryRegion' : 'homeRegion'}: move it first (pulumi config set primaryRegion ...), then remove the region`);
    }
    if (this.regions.size <= 2) throw new FaultConflictError(`region ${region} is one of the last two: the emulator keeps at least two regions`);
    const { drainOut, removeRegion } = this.replicator;
    if (!drainOut || !removeRegion) throw new FaultConflictError(`consistency ${this.config.consistency}: a region cannot be removed (multi-Region strong consistency takes exactly three regions, or two and a witness)`);
    if (!r.running) throw new FaultConflictError(`region ${region} is stopped: start it first, so that what it accepted can replicate out before it goes`);
    return this.change(region, 'remove', async (step) => {
      await step('drain', `/health answers 503 (DRAIN) and ${this.router.settings.failureThreshold} health checks failed: out of the rotation`, async () => {
        r.setDrained(true);
        await this.router.waitFor(region, false, 120_000);
      });
      await step('quiesce', 'every request the global endpoint had sent to the region answered', () => this.router.quiesce(region));
      await step('replicate-out', 'every write the region accepted applied in every other region', () => drainOut(region));
      await step('stop', 'servers and notifier stopped, replication to and from it ended, its tables deleted', async () => {
        await this.router.removeTarget(region);
        await r.stop();
        this.regions.delete(region);
        await removeRegion(region);
        const all = [...this.regions.keys()];
        for (const other of this.regions.values()) other.setStateRegions(all);
        const client = localClient(this.dynamodb.endpoint, region);
        try {
          for (const t of [this.config.tableName, this.config.appConfigTableName]) await client.send(new DeleteTableCommand({ TableName: t }));
        } finally {
          client.destroy();
        }
      });
      await step('endpoints', 'the endpoints file rewritten (temp file + rename)', async () => this.writeEndpoints());
    });
  }

  private async change(region: string, action: 'add' | 'remove', body: (step: <T>(phase: string, waitedFor: string, run: () => Promise<T>) => Promise<T>) => Promise<void>): Promise<RegionChange> {
    if (this.changing) throw new FaultConflictError(`${this.changing} is under way: one region change at a time`);
    this.changing = `${action}-region ${region}`;
    const started = performance.now();
    const phases: RegionPhase[] = [];
    try {
      await body(async (phase, waitedFor, run) => {
        const t = performance.now();
        const out = await run();
        const detail = out && typeof out === 'object' && !(out instanceof Region) ? { detail: out as Record<string, unknown> } : {};
        phases.push({ phase, waitedFor, ms: Math.round(performance.now() - t), ...detail });
        return out;
      });
    } catch (err) {
      const done = phases.map((p) => p.phase).join(', ') || 'none';
      throw new Error(`${action}-region ${region} failed after phases ${done}: ${(err as Error).message}`);
    } finally {
      this.changing = undefined;
    }
    return { region, action, regions: [...this.regions.keys()], phases, totalMs: Math.round(performance.now() - started) };
  }

  /** Writes the endpoints file atomically (scripts never see half a file). */
  writeEndpoints(): void {
    if (!this.endpointsFile) return;
    fs.mkdirSync(path.dirname(this.endpointsFile), { recursive: true });
    if (this.auth.mode === 'token') fs.writeFileSync(localSecretFile(this.endpointsFile), `${this.auth.secret}\n`, { mode: 0o600 });
    const tmp = `${this.endpointsFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(this.endpoints, null, 2)}\n`);
    fs.renameSync(tmp, this.endpointsFile);
  }

  async stop(): Promise<void> {
    if (this.endpointsFile) fs.rmSync(this.endpointsFile, { force: true });
    if (this.endpointsFile) fs.rmSync(localSecretFile(this.endpointsFile), { force: true });
    await this.admin.close();
    this.controls.dispose();
    await this.router.close();
    await Promise.all([...this.regions.values()].map((r) => r.stop()));
    await this.replicator.stop();
    await this.dynamodb.stop();
  }
}

function describeLag(lag: ReplicatorOptions['lagMs']): string {
  if (lag === undefined || lag === 0) return '0 ms';
  if (typeof lag === 'number') return `${lag} ms`;
  if (lag === 'realistic') return 'realistic (measured inter-region latencies, local/latency.ts)';
  return 'custom';
}

export { ConfigError };
