/**
 * The benchmark's side of an emulator session: forks ./emulatorHost.ts (the emulator in its own process, started as
 * `npm start` starts it), and gives the series what they use: its endpoints, its start time, its memory, the
 * local/trace.ts events of its pieces, and clients — realtime subscribers and GraphQL writes — that run here, in the
 * benchmark's process, and time what they see on the same monotonic clock as the trace.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import WebSocket from 'ws';
import { monotonicMs } from '../../local/trace';
import type { HopEvent, HostReady } from './emulatorHost';

/** An emulator running in a child process for the series that need one. */
export interface SessionSpec {
  regions: 2 | 3;
  lag: 'zero' | 'realistic';
}

/** The sessions the emulator series measure: 2 and 3 regions at lag 0 and realistic (--quick: 2 regions, lag 0). */
export function everySession(quick: boolean): SessionSpec[] {
  if (quick) return [{ regions: 2, lag: 'zero' }];
  return [
    { regions: 2, lag: 'zero' },
    { regions: 2, lag: 'realistic' },
    { regions: 3, lag: 'zero' },
    { regions: 3, lag: 'realistic' },
  ];
}

export const sessionName = (s: SessionSpec): string => `${s.regions} regions, lag ${s.lag === 'zero' ? '0' : 'realistic'}`;

export interface Rss {
  node: number | null;
  jvm: number | null;
  /** The emulator's main-thread V8 heap in use, and the Lambda sandboxes (worker threads) started so far. */
  heapUsedMiB: number;
  sandboxes: number;
}

export interface Session {
  spec: SessionSpec;
  regions: string[];
  endpoints: HostReady['endpoints'];
  /** fork → ready (what `npm start` takes to print its endpoints), and Emulator.start() alone. */
  readyMs: number;
  /** fork → the host module running (node starting, tsx loading what the host imports first). */
  loadMs: number;
  startMs: number;
  /** Resident memory right after ready, before any load. */
  idleRss: Rss;
  rss(opts?: { gc?: boolean }): Promise<Rss & { externalMiB: number }>;
  trace(): Promise<void>;
  take(): Promise<HopEvent[]>;
  subscriptions(): Promise<number>;
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSession(spec: SessionSpec): Promise<Session> {
  const forkedAt = monotonicMs();
  const child: ChildProcess = fork(path.join(__dirname, 'emulatorHost.ts'), [String(spec.regions), spec.lag, String(forkedAt)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-4000)));
  const ready = await new Promise<HostReady>((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      const msg = m as HostReady | { failed: string };
      if ('failed' in msg) reject(new Error(`the emulator did not start: ${msg.failed}`));
      else if ('ready' in msg) resolve(msg);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`the emulator process exited with ${code} before it was ready${stderr ? `:\n${stderr}` : ''}`)));
  });
  const readyMs = monotonicMs() - forkedAt;
  let seq = 0;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  child.on('message', (m) => {
    const msg = m as { id?: number; error?: string };
    if (msg.id === undefined) return;
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p?.reject(new Error(msg.error));
    else p?.resolve(msg as Record<string, unknown>);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`the emulator process exited (${code})${stderr ? `:\n${stderr}` : ''}`));
    pending.clear();
  });
  const ask = (op: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = (seq += 1);
      pending.set(id, { resolve, reject });
      child.send({ id, op, ...extra });
    });
  const rss = async (opts: { gc?: boolean } = {}) => {
    const r = await ask('rss', { gc: opts.gc === true });
    return { ...(r.rss as Pick<Rss, 'node' | 'jvm'>), heapUsedMiB: r.heapUsedMiB as number, externalMiB: r.externalMiB as number, sandboxes: r.sandboxes as number };
  };
  const idleRss = await rss();
  return {
    spec,
    regions: ready.regions,
    endpoints: ready.endpoints,
    readyMs,
    loadMs: ready.loadMs,
    startMs: ready.startMs,
    idleRss: { node: idleRss.node, jvm: idleRss.jvm, heapUsedMiB: idleRss.heapUsedMiB, sandboxes: idleRss.sandboxes },
    rss,
    trace: async () => void (await ask('trace')),
    take: async () => (await ask('take')).events as HopEvent[],
    subscriptions: async () => (await ask('subscriptions')).count as number,
    idle: async () => void (await ask('idle')),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await ask('stop').catch(() => undefined);
      await exited;
    },
  };
}

// ---- clients ---------------------------------------------------------------------------------------------------

export interface RegionEndpoint {
  graphqlUrl: string;
  realtimeUrl: string;
  apiKey: string;
}

const authHeaders = (e: RegionEndpoint): Record<string, string> => ({
  host: new URL(e.graphqlUrl).host,
  'x-amz-date': new Date().toISOString().replace(/[:-]|\.\d{3}/g, ''),
  'x-api-key': e.apiKey,
});

export interface Subscriber {
  close(): void;
}

/**
 * One realtime connection with one `onItemChange` subscription (every item), speaking AppSync's protocol with the
 * region's API key; `onData(id, at)` gets each data frame's item id and its arrival on the monotonic clock.
 */
export function subscribe(e: RegionEndpoint, onData: (id: string, at: number) => void): Promise<Subscriber> {
  const header = Buffer.from(JSON.stringify(authHeaders(e))).toString('base64url');
  const socket = new WebSocket(e.realtimeUrl, ['graphql-ws', `header-${header}`]);
  return new Promise<Subscriber>((resolve, reject) => {
    const fail = (err: Error): void => {
      socket.terminate();
      reject(err);
    };
    socket.once('error', fail);
    socket.on('message', (raw) => {
      const at = monotonicMs();
      const f = JSON.parse(raw.toString()) as { type: string; payload?: { data?: { onItemChange?: { id?: string } } } };
      if (f.type === 'data') {
        const id = f.payload?.data?.onItemChange?.id;
        if (typeof id === 'string') onData(id, at);
      } else if (f.type === 'connection_ack') {
        socket.send(
          JSON.stringify({ id: 's', type: 'start', payload: { data: JSON.stringify({ query: 'subscription { onItemChange { id kind } }' }), extensions: { authorization: authHeaders(e) } } })
        );
      } else if (f.type === 'start_ack') {
        socket.off('error', fail);
        socket.on('error', () => socket.terminate());
        resolve({ close: () => socket.close() });
      } else if (f.type === 'error' || f.type === 'connection_error') {
        fail(new Error(`realtime ${e.realtimeUrl} refused the subscription: ${JSON.stringify(f)}`));
      }
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
  });
}

/** Opens `n` subscribers, `parallel` connection handshakes at a time. */
export async function subscribeMany(e: RegionEndpoint, n: number, onData: (id: string, at: number) => void, parallel = 50): Promise<Subscriber[]> {
  const out: Subscriber[] = [];
  for (let i = 0; i < n; i += parallel) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, () => subscribe(e, onData)))));
  }
  return out;
}

/** putItem through the region's AppSync endpoint (GraphQL over HTTP, API key); resolves when it answered. */
export async function putItem(e: RegionEndpoint, id: string): Promise<void> {
  const res = await fetch(e.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': e.apiKey },
    body: JSON.stringify({ query: 'mutation P($id: ID!) { putItem(input: {id: $id, value: "bench"}) { id } }', variables: { id } }),
  });
  const body = (await res.json()) as { errors?: unknown[] };
  if (!res.ok || body.errors?.length) throw new Error(`putItem ${id} on ${e.graphqlUrl}: ${res.status} ${JSON.stringify(body.errors ?? body)}`);
}
