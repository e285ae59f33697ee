/**
 * The emulator of one benchmark session, in a process of its own and started the way `npm start` starts it
 * (local/start.ts: the DynamoDB Local JVM boots while the emulator's modules load, then Emulator.start), so its
 * start time and its memory are what a user's `npm start` shows, with nothing of the benchmark's clients in them.
 * ./emulatorSession.ts forks it and talks to it over IPC:
 *
 *   → {ready, spec, regions, endpoints, loadMs, startMs, pid, jvmPid}   once every region serves
 *   ← {id, op: 'rss', gc?}     → {id, rss: {node, jvm}, heapUsedMiB, externalMiB, sandboxes}: MiB (VmRSS from /proc;
 *                                the main thread's V8 heap and external memory; a full GC first if asked) and the
 *                                Lambda sandboxes (worker threads) started so far
 *   ← {id, op: 'trace'}        → starts collecting local/trace.ts events;  'take' → {id, events} and clears them
 *   ← {id, op: 'subscriptions'} → {id, count}   active realtime subscriptions over every region
 *   ← {id, op: 'idle'}          → once the replicator and every notifier loop have nothing left to do
 *   ← {id, op: 'stop'}          → stops the emulator (JVM included) and exits
 *
 * Linux only for the memory figures.
 */
import fs from 'node:fs';
import { monotonicMs, onTrace, type TraceEvent } from '../../local/trace';

/** What the host sends back for one trace event: the region resolved, only what the benchmark reads. */
export interface HopEvent {
  point: TraceEvent['point'];
  region: string;
  ids: string[];
  at: number;
  frames?: number;
  from?: string;
}

export interface HostReady {
  ready: true;
  regions: string[];
  endpoints: Record<string, { graphqlUrl: string; realtimeUrl: string; apiKey: string }>;
  /** fork → this module running; module load + JVM start overlap → Emulator.start() resolved. */
  loadMs: number;
  startMs: number;
  pid: number;
  jvmPid: number | null;
}

export function rssMiB(pid: number | null | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const THREE_REGIONS = ['eu-west-1', 'ap-southeast-2', 'us-east-1'];

/** What a lost parent stops (the JVM is a child of this process and would outlive it). */
let running: { stop(): Promise<void> } | undefined;

async function host(spec: { regions: number; lag: 'zero' | 'realistic' }, forkedAt: number): Promise<void> {
  const send = (m: unknown): void => void process.send?.(m);
  const loadedAt = monotonicMs();
  const t0 = monotonicMs();
  const { ensureDynamoDBLocal, freePort, startDynamoDBLocal } = await import('../../local/dynamodbLocal');
  const { checkJava } = await import('../../local/startup');
  checkJava();
  ensureDynamoDBLocal();
  const dynamodb = startDynamoDBLocal({ port: await freePort() });
  dynamodb.catch(() => {});
  const { Emulator } = await import('../../local/emulator');
  const emulator = await Emulator.start({
    stack: 'dev',
    regions: spec.regions === 3 ? THREE_REGIONS : undefined,
    basePort: 0,
    replicationLag: spec.lag === 'realistic' ? 'realistic' : 0,
    endpointsFile: null,
    logDir: null,
    dynamodb,
  });
  const startMs = monotonicMs() - t0;
  running = emulator;
  const regionOf = new Map<object, string>();
  for (const [name, r] of emulator.regions) regionOf.set(r.executor, name);

  let events: HopEvent[] = [];
  let stopTrace: (() => void) | undefined;
  const collect = (e: TraceEvent): void => {
    const region = e.region ?? (e.scope ? regionOf.get(e.scope) : undefined);
    if (!region) return;
    if (e.point === 'appsync.request') {
      // only the notifier's publishes: the item id is the mutation input's
      const d = e.detail as { query?: string; variables?: { input?: { id?: unknown } } } | undefined;
      const id = d?.variables?.input?.id;
      if (!d?.query?.includes('publishItemChange') || typeof id !== 'string') return;
      events.push({ point: e.point, region, ids: [id], at: e.at });
      return;
    }
    events.push({
      point: e.point,
      region,
      ids: [...(e.ids ?? [])],
      at: e.at,
      ...(typeof e.detail?.frames === 'number' ? { frames: e.detail.frames } : {}),
      ...(typeof e.detail?.from === 'string' ? { from: e.detail.from } : {}),
    });
  };

  process.on('message', (raw) => {
    const m = raw as { id: number; op: string; gc?: boolean };
    const answer = (body: Record<string, unknown>): void => send({ id: m.id, ...body });
    const fail = (err: unknown): void => answer({ error: err instanceof Error ? err.stack ?? err.message : String(err) });
    switch (m.op) {
      case 'rss': {
        if (m.gc && typeof global.gc === 'function') global.gc();
        const mem = process.memoryUsage();
        const sandboxes = [...emulator.regions.values()].reduce((n, r) => n + Object.values(r.functions).reduce((k, f) => k + f.coldStarts, 0), 0);
        answer({ rss: { node: rssMiB(process.pid), jvm: rssMiB(emulator.dynamodb.pid) }, heapUsedMiB: mem.heapUsed / 1024 / 1024, externalMiB: mem.external / 1024 / 1024, sandboxes });
        return;
      }
      case 'trace':
        stopTrace ??= onTrace(collect);
        answer({});
        return;
      case 'take': {
        const out = events;
        events = [];
        answer({ events: out });
        return;
      }
      case 'subscriptions':
        answer({ count: [...emulator.regions.values()].reduce((n, r) => n + r.subscriptions(), 0) });
        return;
      case 'idle':
        (async () => {
          await emulator.replicator.idle();
          while ([...emulator.regions.values()].some((r) => r.notifierBacklog() > 0)) await new Promise((r) => setTimeout(r, 20));
        })().then(() => answer({}), fail);
        return;
      case 'stop':
        stopTrace?.();
        emulator.stop().then(
          () => {
            answer({});
            process.exit(0);
          },
          (err: unknown) => {
            fail(err);
            process.exit(1);
          }
        );
        return;
      default:
        fail(new Error(`unknown op ${JSON.stringify(m.op)}`));
    }
  });
  const ready: HostReady = {
    ready: true,
    regions: [...emulator.regions.keys()],
    endpoints: Object.fromEntries([...emulator.regions].map(([name, r]) => [name, { graphqlUrl: r.endpoints.graphqlUrl, realtimeUrl: r.endpoints.realtimeUrl, apiKey: r.endpoints.apiKey }])),
    loadMs: loadedAt - forkedAt,
    startMs,
    pid: process.pid,
    jvmPid: emulator.dynamodb.pid ?? null,
  };
  send(ready);
}

if (require.main === module && typeof process.send === 'function') {
  const [regions, lag, forkedAt] = process.argv.slice(2);
  host({ regions: Number(regions), lag: lag === 'realistic' ? 'realistic' : 'zero' }, Number(forkedAt)).catch((err: unknown) => {
    process.send?.({ failed: err instanceof Error ? err.stack ?? err.message : String(err) });
    process.exit(1);
  });
  // the parent gone (Ctrl-C on the bench): take the JVM down with us
  process.on('disconnect', () => {
    const stopping = running?.stop() ?? Promise.resolve();
    stopping.finally(() => process.exit(0)).catch(() => undefined);
  });
}
