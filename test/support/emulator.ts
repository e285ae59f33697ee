/**
 * The end-to-end tests' emulator: the real Emulator (local/emulator.ts) on free ports, on the test run's DynamoDB
 * Local with tables of its own (a unique tableName), writing its endpoints file into a temp folder, plus the small
 * clients the tests talk to it with (GraphQL over HTTP, REST, the raw realtime client of test/appsync/support.ts).
 * Credentials: `rest()` sends the running test emulator's client credential by itself — the shared key
 * in apiKey mode, a token minted with its local secret in token mode — for any URL under one of its REST or global
 * URLs; `credentialHeaders(t)` gives the same headers for other callers, `mintTestToken(t, sub)` a token.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Emulator, type EmulatorOptions, type EndpointsFile } from '../../local/emulator';
import { mintToken } from '../../scripts/token';
import { dynamoLocalEndpoint, uniqueTableName } from './dynamodb';
import { apiKeyHeaders, ON_CHANGE, RealtimeClient, type Frame } from '../appsync/support';
import { eventually } from './eventually';

export { ON_CHANGE, RealtimeClient, type Frame };
export { eventually };

export interface TestEmulator {
  emulator: Emulator;
  endpoints: EndpointsFile;
  endpointsFile: string;
  stop(): Promise<void>;
}

/**
 * The write bound of the end-to-end tests that wait it out (fenced → active, a failover's writesFrom): 10 s instead of
 * AWS's 30 s. The emulator then ends GraphQL requests at 10 s and the items function at 9 s (local/writeBound.ts), far
 * above what a request or an items cold start takes on a loaded 2-core machine (well under a second). The tests also
 * check that a change is refused before the bound, with their next call after the change: 10 s leaves that call room
 * on a machine loaded by four test files at once.
 */
export const TEST_WRITE_BOUND_MS = 10_000;

export async function startTestEmulator(
  overrides: Record<string, string> = {},
  opts: { replicationLag?: number; regions?: string[]; health?: EmulatorOptions['health']; writeBoundMs?: number } = {},
): Promise<TestEmulator> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ga-e2e-'));
  const endpointsFile = path.join(dir, 'endpoints.json');
  const emulator = await Emulator.start({
    stack: 'dev',
    basePort: 0,
    dynamodbEndpoint: dynamoLocalEndpoint(),
    endpointsFile,
    logDir: path.join(dir, 'logs'),
    regions: opts.regions,
    replicationLag: opts.replicationLag ?? 0,
    health: opts.health,
    writeBoundMs: opts.writeBoundMs,
    configOverrides: { tableName: `${uniqueTableName('e2e')}-items`, ...overrides },
  });
  const endpoints = JSON.parse(fs.readFileSync(endpointsFile, 'utf8')) as EndpointsFile;
  const t: TestEmulator = {
    emulator,
    endpoints,
    endpointsFile,
    stop: async () => {
      for (const [prefix, owner] of credentialOwners) if (owner === t) credentialOwners.delete(prefix);
      await emulator.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const r of Object.values(endpoints.regions)) credentialOwners.set(r.restUrl, t);
  credentialOwners.set(endpoints.globalUrl, t);
  return t;
}

/** URL prefix (a region's restUrl, a global URL) → the test emulator serving it, for rest()'s credential. */
const credentialOwners = new Map<string, TestEmulator>();

/** A token the emulator's authorizer accepts (token mode): HS256 with its local secret, its issuer and audience. */
export function mintTestToken(t: TestEmulator, sub = 'e2e-user', ttlSeconds = 3600): Promise<string> {
  const auth = t.emulator.auth;
  if (auth.mode !== 'token') throw new Error('mintTestToken: this emulator runs auth.mode apiKey');
  return mintToken({ secret: auth.secret, issuer: auth.issuer, audience: auth.audience, sub, ttlSeconds });
}

/** The headers a client of `t` sends on REST and the global endpoint: x-api-key (shared key) or Authorization (token). */
export async function credentialHeaders(t: TestEmulator): Promise<Record<string, string>> {
  return t.emulator.auth.mode === 'token' ? { authorization: await mintTestToken(t) } : { 'x-api-key': t.emulator.auth.sharedKey };
}

async function credentialFor(url: string): Promise<Record<string, string>> {
  for (const [prefix, t] of credentialOwners) if (url.startsWith(prefix)) return credentialHeaders(t);
  return {};
}

export interface GqlAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function gql(url: string, apiKey: string, query: string, variables: Record<string, unknown> = {}): Promise<GqlAnswer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
}

export async function rest(url: string, method: string, body?: unknown, headers?: Record<string, string>): Promise<GqlAnswer> {
  const credential = headers ?? (await credentialFor(url));
  const res = await fetch(url, { method, headers: { ...credential, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A realtime subscriber on one region: connected, started, collecting data frames. */
export class Subscriber {
  readonly data: Record<string, unknown>[] = [];
  private constructor(
    readonly client: RealtimeClient,
    readonly id: string,
  ) {}

  /** `credential`: the region's API key, or (token mode) `{authorization: <token>}`. */
  static async open(realtimeUrl: string, graphqlUrl: string, credential: string | { authorization: string }, variables: Record<string, unknown> = {}): Promise<Subscriber> {
    const auth = typeof credential === 'string' ? apiKeyHeaders(graphqlUrl, credential) : { host: new URL(graphqlUrl).host, ...credential };
    const client = await RealtimeClient.connect(realtimeUrl, auth);
    const id = `sub-${Math.random().toString(16).slice(2)}`;
    const data = JSON.stringify({ query: ON_CHANGE, variables });
    client.send({ id, type: 'start', payload: { data, extensions: { authorization: auth } } });
    const ack = await client.next();
    if (ack.type !== 'start_ack') throw new Error(`expected start_ack, got ${JSON.stringify(ack)}`);
    const s = new Subscriber(client, id);
    client.socket.on('message', () => s.drain());
    return s;
  }

  private drain(): void {
    for (let f = this.client.frames.shift(); f; f = this.client.frames.shift()) {
      if (f.type === 'data' && f.id === this.id) this.data.push((f.payload?.data as Record<string, unknown>).onItemChange as Record<string, unknown>);
    }
  }

  /** Changes received so far for an id, in arrival order. */
  changes(id: string): Record<string, unknown>[] {
    this.drain();
    return this.data.filter((c) => c.id === id);
  }

  close(): Promise<unknown> {
    return this.client.close();
  }
}

let markers = 0;
/**
 * Waits until nothing more will reach these subscribers: replication idle, every region's notifier backlog empty,
 * then per subscriber a marker written in its region after that and heard (one socket delivers in order, so all
 * that was published before the marker has arrived). Marker ids start with `zz-marker-`.
 */
export async function settleSubscribers(t: TestEmulator, subs: Array<[string, Subscriber]>): Promise<void> {
  await t.emulator.replicator.idle();
  await eventually('every notifier backlog empty', () => t.emulator.controls.notifier().every((n) => n.backlog === 0), 30_000);
  for (const [region, sub] of subs) {
    const id = `zz-marker-${(markers += 1)}`;
    const ep = t.endpoints.regions[region];
    const put = await gql(ep.graphqlUrl, ep.apiKey, 'mutation M($input: PutItemInput!) { putItem(input: $input) { id } }', { input: { id, value: 'marker' } });
    if (!put.body?.data?.putItem) throw new Error(`the marker write in ${region} failed: ${JSON.stringify(put.body)}`);
    await eventually(`${region} subscriber heard ${id}`, () => sub.changes(id).length > 0, 10_000);
  }
}
