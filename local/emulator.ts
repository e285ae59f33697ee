/**
 * The whole stack on one machine: config (through config/, from the real Pulumi.<stack>.yaml) → DynamoDB Local →
 * the contention front (local/contention.ts: transaction conflicts and per-partition throughput as DynamoDB answers
 * them; on unless `dynamodbContention: false`) → both tables in every region → the replicator (what the global table
 * does) → one Region per configured region →
 * the global endpoint (local/router.ts: health checks like Route53, one API key) → the admin API (local/admin.ts,
 * fault controls of local/drills.ts) → `.emulator/<stack>-<port>/endpoints.json`, copied to `.emulator/endpoints.json`
 * (local/instances.ts). `npm start` (local/start.ts) and the end-to-end tests call Emulator.start().
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
import { EMULATOR_IDLE_MAX_MS, EMULATOR_POLL_MS, MAX_IDLE_MS } from './dynamodbStreams';
import { assertPortsFree } from './listen';
import { localSecretFile } from './endpointsFile';
import { CURRENT_NAME, EMULATOR_DIR, instanceDir, liveOwner, publishCurrent, registerRunning, retireCurrent, writeAtomically } from './instances';
import { ensureDynamoDBLocal, freePort, startDynamoDBLocal, type DynamoDBLocal } from './dynamodbLocal';
import { startAdminServer, type AdminServer, type DynamoDBView } from './admin';
import { FaultControls } from './drills';
import { newApiKey, Region, type RegionAuth, type RegionEndpoints } from './region';
import { startReplicator, type Replicator, type ReplicatorOptions } from './replicator';
import { startSyncReplication, type SyncReplication } from './syncReplication';
import { startContentionFront, type ContentionFront, type ContentionOptions } from './contention';
import { describeHealth, startRouter, type HealthSettings, type Router } from './router';
import { checkJava, DEFAULT_BASE_PORT, emulatorConfig, fixedPorts, StartError } from './startup';
import { createRegionTables } from './tables';
import { createTable, localClient } from './tables';
import { AWS_REGIONS, missingServices } from '../config/regions';
import { FaultConflictError, FaultInputError } from './drills';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { describeWriteBound, emulatedWriteBound, type EmulatedWriteBound } from './writeBound';

// The SDK's notice that releases after January 2027 need Node 22 is known (the lockfile pins versions for Node 20).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The copy of the last started emulator's endpoints file, which the scripts read by default (local/instances.ts). */
export const DEFAULT_ENDPOINTS_FILE = path.join(ROOT, '.emulator', 'endpoints.json');
/** Where emulators wrote their logs before each had its own folder; scripts fall back to it for such endpoints files. */
export const DEFAULT_LOG_DIR = path.join(ROOT, '.emulator', 'logs');

export interface EmulatorOptions {
  stack?: string;
  /** Overrides the stack's regions (validated like the stack file's). */
  regions?: readonly string[];
  /** See the header; default DEFAULT_BASE_PORT. */
  basePort?: number;
  replicationLag?: ReplicatorOptions['lagMs'];
  /**
   * Where to write the endpoints file; null = don't write one. Default: .emulator/<stack>-<port>/endpoints.json,
   * copied to .emulator/endpoints.json (local/instances.ts). A file a running emulator owns is refused.
   */
  endpointsFile?: string | null;
  /** The folder of the default layout (default .emulator in the project); tests give a temporary one. */
  emulatorDir?: string;
  /** Folder holding Pulumi.<stack>.yaml (default: the project root). */
  projectDir?: string;
  /** Raw config keys (without the project prefix) laid over the stack file's, validated the same way. */
  configOverrides?: Readonly<Record<string, string>>;
  /** Folder for the functions' logs, one file per region and function; null = dropped. Default .emulator/<stack>-<port>/logs */
  logDir?: string | null;
  /** Use this DynamoDB Local instead of starting one (it is then left running on stop). */
  dynamodbEndpoint?: string;
  /**
   * The contention front (local/contention.ts) between the regions and DynamoDB: true (default), false, or its
   * options (tests: a frozen clock, a hold before forwarding).
   */
  dynamodbContention?: boolean | Omit<ContentionOptions, 'endpoint'>;
  /** A DynamoDB Local already starting (npm start boots the JVM before loading the emulator); stopped with it. */
  dynamodb?: Promise<DynamoDBLocal>;
  /** The global endpoint's health checks; default 1 s × 3 (Route53's 30 s × 3 scaled 1:30). */
  health?: Partial<HealthSettings>;
  /**
   * The write bound in ms (local/writeBound.ts): default AWS's 30 s; a shorter one (stateCacheMs + 2000 to 30000)
   * scales the request limits it is made of, which the emulator then enforces (`npm start -- --write-bound`).
   */
  writeBoundMs?: number;
  /** The global endpoint's one API key (default: a fresh `da2-` key). */
  globalApiKey?: string;
  /** Token mode: the local HS256 secret (default: 48 random bytes, base64url). */
  tokenSecret?: string;
  /** Serve this client auth mode whatever the stack deploys (`npm start -- --auth token`; local/startup.ts). */
  auth?: 'apiKey' | 'token';
  /**
   * The longest pause between two polls of a quiet stream (notifier loops, replicator), from EMULATOR_POLL_MS to
   * MAX_IDLE_MS; default EMULATOR_IDLE_MAX_MS. Tests set an hour to show that writes wake the pollers.
   */
  streamIdleMaxMs?: number;
  /** One line per step. */
  log?: (line: string) => void;
}

export interface EndpointsFile {
  stack: string;
  regions: Record<string, RegionEndpoints>;
  dynamodbEndpoint: string;
  /**
   * The DynamoDB endpoint the regions' functions and resolvers use: the contention front (in consistency strong with
   * the synchronous replication behind it), or with the front off DynamoDB Local itself (or the replication front).
   */
  regionsDynamodbEndpoint: string;
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
  /** What a client sends: the one shared key, or a token from `npm run token -- --local`. */
  auth: EndpointsAuth;
  /** The emulator's process (alive while it runs) and start time: several emulators can run side by side. */
  pid: number;
  startedAt: string;
  /** This emulator's own endpoints file (.emulator/endpoints.json is a copy of the last one started), or null. */
  endpointsFile: string | null;
  /** Its function logs and notifier DLQ files, or null when dropped. */
  logDir: string | null;
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
    /** The contention front, null when started with `dynamodbContention: false`. */
    readonly contention: ContentionFront | null,
    readonly regionsDynamodbEndpoint: string,
    /** Where its logs go (null: dropped), and whether .emulator/endpoints.json copies its endpoints file. */
    readonly logDir: string | null,
    private readonly current: string | null,
    /** Its base port (0: free ports): where an added region's ports are (see the header). */
    private readonly basePort: number,
    /** The write bound its regions enforce (local/writeBound.ts). */
    readonly writeBound: EmulatedWriteBound,
    /** The stream pollers' longest pause on a quiet stream (EmulatorOptions.streamIdleMaxMs). */
    private readonly streamIdleMaxMs: number,
  ) {}

  readonly startedAt = new Date().toISOString();

  get endpoints(): EndpointsFile {
    const regions: Record<string, RegionEndpoints> = {};
    for (const [name, r] of this.regions) regions[name] = r.endpoints;
    return {
      stack: this.config.stack,
      regions,
      dynamodbEndpoint: this.dynamodb.endpoint,
      regionsDynamodbEndpoint: this.regionsDynamodbEndpoint,
      primaryRegion: this.config.primaryRegion,
      writeMode: this.config.writeMode,
      globalUrl: this.router.url,
      globalApiKey: this.auth.mode === 'token' ? '' : this.globalApiKey,
      adminUrl: this.admin.url,
      consoleUrl: `${this.admin.url}/console/`,
      auth:
        this.auth.mode === 'token'
          ? { mode: 'token', issuer: this.auth.issuer, audience: this.auth.audience, header: 'authorization', secretFile: this.endpointsFile ? localSecretFile(this.endpointsFile) : null, tokenCommand: tokenCommand(this.endpointsFile) }
          : { mode: 'apiKey', globalApiKey: this.globalApiKey, header: 'x-api-key' },
      pid: process.pid,
      startedAt: this.startedAt,
      endpointsFile: this.endpointsFile,
      logDir: this.logDir,
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
    const tokenSecret = opts.tokenSecret ?? randomBytes(48).toString('base64url');
    const streamIdleMaxMs = opts.streamIdleMaxMs ?? EMULATOR_IDLE_MAX_MS;
    if (!Number.isInteger(streamIdleMaxMs) || streamIdleMaxMs < EMULATOR_POLL_MS || streamIdleMaxMs > MAX_IDLE_MS) {
      throw new RangeError(`streamIdleMaxMs must be an integer from ${EMULATOR_POLL_MS} to ${MAX_IDLE_MS} (milliseconds), got ${String(opts.streamIdleMaxMs)}`);
    }
    const { config, notes, warnings } = emulatorConfig(stack, opts.regions, opts.projectDir, opts.configOverrides, { auth: opts.auth, tokenSecret });
    log(`stack ${stack}: ${config.regions.join(', ')} (primary ${config.primaryRegion}, ${config.writeMode})`);
    for (const w of warnings) log(`  warning: ${w}`);
    for (const n of notes) log(`  note: ${n}`);
    if (config.auth.mode !== 'apiKey' && config.auth.mode !== 'token') log(`  note: auth.mode ${config.auth.mode} is served locally as API keys (plus IAM for the notifier)`);
    if (config.auth.mode === 'token' && !config.auth.secret) log(`  note: auth.mode token verifies ${config.auth.jwksUrl ? 'jwksUrl' : 'publicKey'} tokens in AWS; locally HS256 tokens with a local secret (npm run token -- --local)`);
    let writeBound: EmulatedWriteBound;
    try {
      writeBound = emulatedWriteBound(opts.writeBoundMs, config.stateCacheMs);
    } catch (err) {
      await opts.dynamodb?.then((d) => d.stop()).catch(() => {});
      throw err;
    }

    // default layout: a folder per emulator (local/instances.ts), so several can run side by side
    const root = opts.emulatorDir ?? EMULATOR_DIR;
    const dir = instanceDir(stack, basePort, root);
    const endpointsFile = opts.endpointsFile === undefined ? path.join(dir, 'endpoints.json') : opts.endpointsFile;
    const logDir = opts.logDir === undefined ? path.join(dir, 'logs') : opts.logDir;
    // every fixed port is checked before anything starts, so a port in use costs no JVM start and leaves nothing behind;
    // so is the endpoints file: another running emulator's is never overwritten
    try {
      const owner = endpointsFile ? liveOwner(endpointsFile) : undefined;
      if (owner) {
        throw new StartError(
          `${shown(endpointsFile as string)} is the endpoints file of a running emulator (stack ${owner.stack}, process ${owner.pid}${owner.globalUrl ? `, ${owner.globalUrl}` : ''}): ` +
            'stop that one first, or give this one another --endpoints',
        );
      }
      if (basePort) await assertPortsFree(fixedPorts(basePort, config.regions.length));
    } catch (err) {
      await opts.dynamodb?.then((d) => d.stop()).catch(() => {});
      throw err;
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
    const regions = new Map<string, Region>();
    let replicator: Replicator | undefined;
    let sync: SyncReplication | undefined;
    let contention: ContentionFront | null = null;
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
        ? { mode: 'token', issuer: config.auth.issuer, audience: config.auth.audience, ttlSeconds: config.auth.ttlSeconds, secret: tokenSecret }
        : { mode: 'apiKey', sharedKey: globalApiKey };
    try {
      // The regions' path to DynamoDB: contention front → (consistency strong: synchronous replication) → DynamoDB
      // Local. Contention first, as a region's DynamoDB endpoint meets it before anything is replicated; the
      // replication's own copies go straight to DynamoDB Local (a global table's replication is the service's own).
      // The stream pollers (notifier loops, replicator) back off to EMULATOR_IDLE_MAX_MS while their streams are
      // quiet; every write that lands wakes them (a poll already due within EMULATOR_POLL_MS is left alone), so a
      // write is still read within EMULATOR_POLL_MS. Signals: the contention front (every write of the regions'
      // functions and resolvers), the replicator and the synchronous replication (their own writes). With the front
      // off, the regions' writes are read within EMULATOR_IDLE_MAX_MS.
      const pokeNotifier = (region: string): void => regions.get(region)?.pokeNotifier();
      const pokeAll = (): void => {
        for (const r of regions.values()) r.pokeNotifier();
        replicator?.poke?.();
      };
      let regionsEndpoint = dynamodb.endpoint;
      if (config.consistency === 'strong' && config.regions.length > 1) {
        sync = await startSyncReplication({ endpoint: dynamodb.endpoint, regions: [...config.regions], tables: [config.tableName, config.appConfigTableName], onWrite: pokeNotifier });
        regionsEndpoint = sync.url;
      }
      if (opts.dynamodbContention !== false) {
        const given = typeof opts.dynamodbContention === 'object' ? opts.dynamodbContention : {};
        const onWrite: ContentionOptions['onWrite'] = (w) => {
          pokeAll();
          given.onWrite?.(w);
        };
        contention = await startContentionFront({ log, ...given, onWrite, endpoint: regionsEndpoint });
        regionsEndpoint = contention.url;
      }
      log(`DynamoDB Local on ${dynamodb.endpoint}, ${contention ? `contention front on ${contention.url} (transaction conflicts; per partition key 1,000 write and 3,000 read units/s)` : 'contention front off'}`);
      await Promise.all(config.regions.map((r) => createRegionTables(dynamodb.endpoint, r, { items: config.tableName, appConfig: config.appConfigTableName })));
      log(`tables ${config.tableName}, ${config.appConfigTableName} in ${config.regions.length} regions (state: active)`);
      // consistency strong (MRSC): every write is in every region before it is acknowledged (local/syncReplication.ts);
      // eventual: the asynchronous replicator
      if (sync) {
        replicator = sync;
        log(`replication: synchronous (consistency strong), ${config.regions.length} regions${config.witnessRegion ? ` (witness ${config.witnessRegion} not emulated)` : ''}; replicationLag does not apply`);
      } else {
        replicator = await startReplicator({
          endpoint: dynamodb.endpoint,
          regions: [...config.regions],
          tables: [config.tableName, config.appConfigTableName],
          lagMs: opts.replicationLag ?? 0,
          // streams read every 50 ms while writes come (Lambda polls a shard 4 times a second): fast enough to feel
          // instant; a quiet stream 4 times a second, so an idle emulator leaves DynamoDB Local mostly idle
          intervalMs: EMULATOR_POLL_MS / 2,
          idleMaxMs: streamIdleMaxMs,
          onWrite: pokeNotifier,
        });
        log(`replicator: ${config.regions.length * (config.regions.length - 1)} region pairs, lag ${describeLag(opts.replicationLag)}`);
      }
      const started = await Promise.allSettled(
        config.regions.map((region, i) =>
          Region.start({
            region,
            config,
            dynamodbEndpoint: regionsEndpoint,
            logDir: logDir ?? undefined,
            auth,
            writeBound,
            ports: basePort ? { graphql: basePort + 10 + 10 * i, rest: basePort + 11 + 10 * i } : { graphql: 0, rest: 0 },
            streamIdleMaxMs,
          }),
        ),
      );
      started.forEach((s, i) => {
        if (s.status === 'fulfilled') regions.set(config.regions[i], s.value);
      });
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      for (const r of regions.values()) log(`region ${r.name}: AppSync ${r.endpoints.graphqlUrl}, REST ${r.endpoints.restUrl}`);
      log(describeWriteBound(writeBound));
      if (logDir !== null) log(`function logs: ${shown(logDir)}/<region>.<function>.log`);
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
      const front = contention;
      const syncFront = sync;
      admin = await startAdminServer({
        controls,
        router: () => r,
        endpoints: () => served.emulator?.endpoints,
        regionChanges: {
          add: (region) => (served.emulator as Emulator).addRegion(region),
          remove: (region) => (served.emulator as Emulator).removeRegion(region),
        },
        port: basePort ? basePort + 1 : 0,
        dynamodb: () => dynamodbView(front, syncFront),
      });
      log(`admin API ${admin.url} (npm run emulator -- --help)`);
    } catch (err) {
      await admin?.close();
      await router?.close();
      await Promise.all([...regions.values()].map((r) => r.stop()));
      await contention?.stop();
      await (replicator ?? sync)?.stop();
      await dynamodb.stop();
      throw err;
    }
    const emulator = new Emulator(config, dynamodb, replicator, regions, endpointsFile, router, admin as AdminServer, controls as FaultControls, globalApiKey, auth, contention, contention?.url ?? (sync ? sync.url : dynamodb.endpoint), logDir, opts.endpointsFile === undefined ? root : null, basePort, writeBound, streamIdleMaxMs);
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
          dynamodbEndpoint: this.regionsDynamodbEndpoint,
          ...(this.logDir ? { logDir: this.logDir } : {}),
          auth: this.auth,
          writeBound: this.writeBound,
          ports: this.basePort ? { graphql: this.basePort + 10 + 10 * index, rest: this.basePort + 11 + 10 * index } : { graphql: 0, rest: 0 },
          added: true,
          streamIdleMaxMs: this.streamIdleMaxMs,
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

  /** Where .emulator/endpoints.json is when this emulator keeps it (default layout), else null. */
  get currentFile(): string | null {
    return this.current ? path.join(this.current, CURRENT_NAME) : null;
  }

  /**
   * Writes the endpoints file atomically (scripts never see half a file) and, in the default layout, makes
   * .emulator/endpoints.json its copy: this emulator is the one started last.
   */
  writeEndpoints(): void {
    if (!this.endpointsFile) return;
    fs.mkdirSync(path.dirname(this.endpointsFile), { recursive: true });
    if (this.auth.mode === 'token') writeAtomically(localSecretFile(this.endpointsFile), `${this.auth.secret}\n`, 0o600);
    const text = `${JSON.stringify(this.endpoints, null, 2)}\n`;
    writeAtomically(this.endpointsFile, text);
    registerRunning(this.endpointsFile, true);
    if (this.current) publishCurrent(text, this.current);
  }

  async stop(): Promise<void> {
    if (this.endpointsFile) {
      fs.rmSync(this.endpointsFile, { force: true });
      fs.rmSync(localSecretFile(this.endpointsFile), { force: true });
      registerRunning(this.endpointsFile, false);
      // .emulator/endpoints.json follows the newest emulator still running, so its scripts keep working
      if (this.current) retireCurrent(this.endpointsFile, this.current);
    }
    await this.admin.close();
    this.controls.dispose();
    await this.router.close();
    await Promise.all([...this.regions.values()].map((r) => r.stop()));
    await this.contention?.stop();
    await this.replicator.stop();
    await this.dynamodb.stop();
  }
}

function dynamodbView(contention: ContentionFront | null, sync: SyncReplication | undefined): DynamoDBView {
  return { contention: contention ? contention.stats() : 'off', replicatedWriteConflicts: sync ? sync.writeConflicts() : null };
}

/** A path as printed: relative to the working directory when inside it. */
function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/**
 * The command that prints a token for this emulator, runnable as it is: `-s` keeps npm's banner out of a `$(...)`,
 * and --endpoints names this emulator's file (another may be the one .emulator/endpoints.json copies). npm runs a
 * script in the project root, so a path inside it is given relative to the root.
 */
export function tokenCommand(endpointsFile: string | null): string {
  let where = '';
  if (endpointsFile) {
    const rel = path.relative(ROOT, endpointsFile);
    const p = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : endpointsFile;
    where = ` --endpoints ${/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`}`;
  }
  return `npm run -s token -- --local${where} --sub local-user --ttl 1h`;
}

function describeLag(lag: ReplicatorOptions['lagMs']): string {
  if (lag === undefined || lag === 0) return '0 ms';
  if (typeof lag === 'number') return `${lag} ms`;
  if (lag === 'realistic') return 'realistic (measured inter-region latencies, local/latency.ts)';
  return 'custom';
}

export { ConfigError };
