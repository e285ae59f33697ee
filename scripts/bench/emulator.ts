/**
 * Series 6, the emulator itself: time to ready (fork → every region serving, the DynamoDB Local JVM's start
 * included, as `npm start` does it) and resident memory (the emulator's process with its worker threads + the
 * JVM, VmRSS from /proc), idle right after ready and again after the load of the other series in the same session
 * (notify, fan-out). Every session the run starts counts: 2 and 3 regions, each at lag 0 and `realistic`.
 *
 * Targets: ready ≤ 5 s; ≤ 600 MB resident for 2 regions after load.
 */
import type { Rss, Session } from './emulatorSession';
import { everySession } from './emulatorSession';
import { type Row, type Series, sessionName, type SessionSpec, stats } from './series';

const READY_S = 5;
const MEMORY_MIB = 600;

interface Measured {
  spec: SessionSpec;
  readyMs: number;
  /** fork → the host module running (node starting, tsx loading it). */
  loadMs: number;
  startMs: number;
  idle: Rss;
  after: Rss;
}

const total = (r: Rss): number | null => (r.node === null || r.jvm === null ? null : r.node + r.jvm);

export function emulatorSeries(): Series<Session> {
  const measured: Measured[] = [];
  return {
    id: 6,
    key: 'emulator',
    name: 'Emulator start and memory',
    sessions: (ctx) => everySession(ctx.quick),
    async inSession(session) {
      // runs after every other series of the session (series order): this is "after load"
      const after = await session.rss();
      measured.push({
        spec: session.spec,
        readyMs: session.readyMs,
        loadMs: session.loadMs,
        startMs: session.startMs,
        idle: session.idleRss,
        after: { node: after.node, jvm: after.jvm, heapUsedMiB: after.heapUsedMiB, sandboxes: after.sandboxes },
      });
    },
    async finish() {
      const rows: Row[] = [];
      for (const regions of [2, 3] as const) {
        const of = measured.filter((m) => m.spec.regions === regions);
        if (of.length === 0) continue;
        const ready = stats(of.map((m) => m.readyMs / 1000));
        const r2 = (v: number): number => Math.round(v * 100) / 100;
        const readyRow: Row = {
          case: `${regions} regions: fork → ready (${of.length} start${of.length > 1 ? 's' : ''})`,
          unit: 's',
          stats: { count: ready.count, p50: r2(ready.p50), p95: r2(ready.p95), p99: r2(ready.p99), max: r2(ready.max) },
          extra: `Emulator.start() ${(stats(of.map((m) => m.startMs)).p50 / 1000).toFixed(2)} s of it`,
          target: { text: `≤ ${READY_S} s`, met: ready.max <= READY_S },
          detail: {
            starts: of.map((m) => ({ session: sessionName(m.spec), readyMs: Math.round(m.readyMs), loadMs: Math.round(m.loadMs), startMs: Math.round(m.startMs), idle: m.idle, after: m.after })),
          },
        };
        if (!readyRow.target!.met) {
          const load = stats(of.map((m) => m.loadMs)).p50 / 1000;
          const start = stats(of.map((m) => m.startMs)).p50 / 1000;
          readyRow.why = `node starting the host ${load.toFixed(1)} s, then ${start.toFixed(
            1
          )} s to every region serving: the JVM boots while the emulator's modules load (tsx compiles them, or takes them from its cache), then tables, resolvers, servers`;
          readyRow.fix = 'load the emulator from precompiled JavaScript, and make DynamoDB Local answer sooner (a smaller class path, CDS)';
        }
        rows.push(readyRow);
        for (const phase of ['idle', 'after'] as const) {
          const m = of.find((x) => x.spec.lag === 'zero') ?? of[0];
          const rss = m[phase];
          const sum = total(rss);
          const row: Row = {
            case: `${regions} regions: resident memory ${phase === 'idle' ? 'idle (just ready)' : 'after the notify and fan-out load'} (${sessionName(m.spec)})`,
            unit: 'MiB',
            figure: { label: 'node + JVM', value: sum === null ? NaN : Math.round(sum), unit: 'MiB' },
            extra: `node ${rss.node === null ? '?' : Math.round(rss.node)} (main heap ${Math.round(rss.heapUsedMiB)}, ${rss.sandboxes} Lambda sandboxes started) + JVM ${
              rss.jvm === null ? '?' : Math.round(rss.jvm)
            }`,
            detail: { session: sessionName(m.spec), ...rss },
          };
          if (regions === 2 && phase === 'after') {
            row.target = { text: `≤ ${MEMORY_MIB} MB`, met: sum !== null && sum <= MEMORY_MIB };
            if (!row.target.met) {
              row.why = `node ${Math.round(rss.node ?? 0)} MiB: the main thread (heap ${Math.round(rss.heapUsedMiB)} MiB in use, plus tsx and code) and ${
                rss.sandboxes
              } Lambda sandboxes, each a worker thread with its own V8 isolate and bundle; DynamoDB Local's JVM ${Math.round(rss.jvm ?? 0)} MiB`;
              row.fix = 'one sandbox per bundle shared by the regions (each region its own environment inside it), and a capped JVM heap for DynamoDB Local (-Xmx)';
            }
          }
          rows.push(row);
        }
      }
      return { available: true, rows };
    },
  };
}
