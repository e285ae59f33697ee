/**
 * Fixtures for the local AppSync endpoint tests (test/appsync): one region's server on a free port, its executor
 * wired to DynamoDB Local tables (test/resolvers/support.ts), a raw `ws` realtime client that queues frames so a
 * test can wait for the next one, connect headers (API key or SigV4 over /graphql/connect) and a SigV4 signer for
 * start messages, as AWS's "Building a real-time WebSocket client" page describes them.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import WebSocket from 'ws';
import { startAppSyncServer, type AppSyncServer } from '../../local/appsync/server';
import type { ItemChangeInput } from '../../handlers/lib/streamRecord';
import { createFixture, EU, type Fixture, setState } from '../resolvers/support';

export const REGION = EU;
export const API_KEY = 'da2-localtestkey0000000000000';
export const CREDS = { accessKeyId: 'AKIDLOCALNOTIFIER', secretAccessKey: 'local-notifier-secret' };

export interface Region {
  fx: Fixture;
  server: AppSyncServer;
}

export async function startRegion(keepAliveMs?: number): Promise<Region> {
  const fx = await createFixture('multi-master', REGION);
  await setState(fx, 'active');
  const server = await startAppSyncServer({ region: REGION, executor: fx.api(REGION), apiKey: API_KEY, credentials: CREDS, keepAliveMs });
  return { fx, server };
}

export function hostOf(url: string): string {
  return new URL(url).host;
}

/** The connect/start auth headers of an API key caller. */
export function apiKeyHeaders(graphqlUrl: string, apiKey = API_KEY): Record<string, string> {
  return { host: hostOf(graphqlUrl), 'x-amz-date': new Date().toISOString().replace(/[:-]|\.\d{3}/g, ''), 'x-api-key': apiKey };
}

/** SigV4 headers for POST <graphqlUrl><suffix> with `body`, as a realtime client sends them (connect: suffix /connect, body {}). */
export async function iamHeaders(graphqlUrl: string, suffix: string, body: string, creds = CREDS, region = REGION): Promise<Record<string, string>> {
  const url = new URL(graphqlUrl);
  const signed = await new SignatureV4({ service: 'appsync', region, credentials: creds, sha256: Sha256 }).sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'https:',
      hostname: url.hostname,
      path: url.pathname + suffix,
      headers: { accept: 'application/json, text/javascript', 'content-encoding': 'amz-1.0', 'content-type': 'application/json; charset=UTF-8', host: url.host },
      body,
    }),
  );
  return signed.headers;
}

export function base64url(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

export interface Frame {
  type: string;
  id?: string;
  payload?: Record<string, unknown> & { errors?: { errorType: string; message: string; errorCode?: number }[]; data?: Record<string, unknown> };
}

/** A raw realtime client: frames are queued; next() waits for the next one. */
export class RealtimeClient {
  readonly frames: Frame[] = [];
  private waiters: ((f: Frame) => void)[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      const w = this.waiters.shift();
      if (w) w(frame);
      else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a socket; resolves once open (rejects on a refused upgrade). */
  static open(url: string, protocols: string[]): Promise<RealtimeClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, protocols);
      socket.once('open', () => resolve(new RealtimeClient(socket)));
      socket.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString() })));
      });
      socket.once('error', reject);
    });
  }

  /** Connects with the header subprotocol (Amplify v6's way) and does connection_init → connection_ack. */
  static async connect(realtimeUrl: string, headers: Record<string, string>): Promise<RealtimeClient> {
    const c = await RealtimeClient.open(realtimeUrl, ['graphql-ws', `header-${base64url(headers)}`]);
    c.send({ type: 'connection_init' });
    const ack = await c.next();
    if (ack.type !== 'connection_ack') throw new Error(`expected connection_ack, got ${JSON.stringify(ack)}`);
    return c;
  }

  send(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** The next frame, skipping `ka` unless asked for. */
  async next(opts: { timeoutMs?: number; keepKa?: boolean } = {}): Promise<Frame> {
    for (;;) {
      const frame = await this.nextRaw(opts.timeoutMs ?? 3000);
      if (frame.type !== 'ka' || opts.keepKa) return frame;
    }
  }

  /**
   * Every frame (ka aside) the server sent this socket before a marker: subscribes `markerId` here, runs
   * `publishMarker` (which publishes a change with that id), waits for its data frame and stops that subscription.
   * One socket keeps the server's order and the server delivers a publish before it answers it, so any frame owed
   * for something published before the marker is in the answer: "nothing arrived" without sleeping on it.
   * Deliveries of the marker to this socket's other subscriptions are left out.
   */
  async framesBefore(markerId: string, publishMarker: () => Promise<unknown>): Promise<Frame[]> {
    const before: Frame[] = [];
    const isMarker = (f: Frame) => f.type === 'data' && JSON.stringify(f.payload?.data ?? null).includes(JSON.stringify(markerId));
    const until = async (done: (f: Frame) => boolean): Promise<void> => {
      for (let f = await this.next(); !done(f); f = await this.next()) if (!isMarker(f)) before.push(f);
    };
    this.send({ id: markerId, type: 'start', payload: { data: JSON.stringify({ query: ON_CHANGE, variables: { id: markerId } }), extensions: { authorization: apiKeyHeaders(`http://${this.host}/graphql`) } } });
    await until((f) => f.type === 'start_ack' && f.id === markerId);
    await publishMarker();
    await until((f) => f.type === 'data' && f.id === markerId);
    this.send({ type: 'stop', id: markerId });
    await until((f) => f.type === 'complete' && f.id === markerId);
    return before;
  }

  private nextRaw(timeoutMs: number): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (f: Frame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends start with an API key (or the given) authorization and returns the answer frame. */
  async start(id: string, query: string, variables: Record<string, unknown> = {}, authorization?: Record<string, string>): Promise<Frame> {
    const data = JSON.stringify({ query, variables });
    this.send({ id, type: 'start', payload: { data, extensions: { authorization: authorization ?? apiKeyHeaders(`http://${this.host}/graphql`) } } });
    return this.next();
  }

  get host(): string {
    return new URL(this.socket.url).host;
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    return this.closed;
  }
}

export const ON_CHANGE = `subscription OnChange($id: ID) {
  onItemChange(id: $id) { id kind publishedRegion sequenceNumber changedAt item { id value version updatedAt updatedRegion } }
}`;

let seq = 0;
/** A change as the notifier would publish it. */
export function change(id: string, value = 'v', kind: ItemChangeInput['kind'] = 'UPDATED'): ItemChangeInput {
  seq += 1;
  const at = new Date(Date.UTC(2026, 0, 2, 3, 4, seq % 60)).toISOString();
  return {
    id,
    kind,
    item: { id, value, version: seq, updatedAt: at, updatedRegion: REGION },
    publishedRegion: REGION,
    sequenceNumber: String(1000 + seq),
    changedAt: at,
  };
}

/** POSTs a GraphQL request with an API key (or other headers). */
export async function post(graphqlUrl: string, body: unknown, headers: Record<string, string> = { 'x-api-key': API_KEY }): Promise<{ status: number; json: Record<string, unknown> & { errors?: { errorType: string; message: string }[]; data?: Record<string, unknown> | null } }> {
  const res = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as never };
}
