/**
 * `node --import tsx scripts/bench-idle.ts [-- --idle-seconds N] [--samples N] [--gap-seconds N]
 * [--contention on|off]`: what an idle emulator costs and how fast it still notifies. Starts the dev stack's
 * emulator in this process with its own DynamoDB Local, then:
 *   1. idle CPU: nothing written for `--idle-seconds` (default 20): CPU seconds of this process (process.cpuUsage:
 *      the emulator's servers, stream pollers, replicator) and of the DynamoDB Local JVM (utime + stime of
 *      /proc/<pid>/stat), each also as a share of one core;
 *   2. notify latency after idling: `--samples` times (default 5), after `--gap-seconds` (default 5) of nothing, a
 *      putItem in the first region, timed until a realtime subscriber in that region and one in the second region
 *      get its data frame.
 * A benchmark, not a test: it prints numbers and passes or fails nothing. Linux only (/proc).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Emulator } from '../local/emulator';
import { monotonicMs } from '../local/trace';
import { putItem, subscribe } from './bench/emulatorSession';
import { runMain } from './runMain';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every mainstream architecture). */
const CLOCK_TICKS_PER_S = 100;

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat, counted after the command name). */
function procCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

const ownCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const pct = (cpu: number, wall: number): string => `${((100 * cpu) / wall).toFixed(1)} %`;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

export async function main(argv: string[]): Promise<number> {
  let values: { 'idle-seconds'?: string; samples?: string; 'gap-seconds'?: string; contention?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { 'idle-seconds': { type: 'string' }, samples: { type: 'string' }, 'gap-seconds': { type: 'string' }, contention: { type: 'string' } },
    }));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const num = (name: keyof typeof values, fallback: number): number => {
    const raw = values[name];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be a whole number ≥ 0, got ${raw}`);
    return n;
  };
  let idleS: number;
  let samples: number;
  let gapS: number;
  try {
    idleS = num('idle-seconds', 20);
    samples = num('samples', 5);
    gapS = num('gap-seconds', 5);
    if (values.contention !== undefined && values.contention !== 'on' && values.contention !== 'off') throw new RangeError(`--contention must be on or off, got ${values.contention}`);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }

  const emulator = await Emulator.start({ stack: 'dev', basePort: 0, endpointsFile: null, logDir: null, dynamodbContention: values.contention !== 'off', log: () => undefined });
  try {
    const jvm = emulator.dynamodb.pid;
    if (jvm === undefined) throw new Error('the emulator did not start its own DynamoDB Local: no JVM to measure');
    const [a, b] = [...emulator.regions.keys()];
    console.log(`emulator: ${emulator.regions.size} regions (${[...emulator.regions.keys()].join(', ')}), contention front ${emulator.contention ? 'on' : 'off'}, DynamoDB Local pid ${jvm}`);

    // let start-up work (table creation, first polls, health checks warming) finish before measuring
    await emulator.replicator.idle();
    await sleep(2000);
    const wall0 = monotonicMs();
    const node0 = ownCpuSeconds();
    const jvm0 = procCpuSeconds(jvm);
    await sleep(idleS * 1000);
    const wall = (monotonicMs() - wall0) / 1000;
    const node = ownCpuSeconds() - node0;
    const java = procCpuSeconds(jvm) - jvm0;
    console.log(`idle ${wall.toFixed(1)} s: node ${node.toFixed(2)} s CPU (${pct(node, wall)} of a core), DynamoDB Local JVM ${java.toFixed(2)} s CPU (${pct(java, wall)}), together ${pct(node + java, wall)}`);

    if (samples > 0) {
      const heard = new Map<string, { [region: string]: number }>();
      let wake: (() => void) | undefined;
      const onData = (region: string) => (id: string, at: number) => {
        const h = heard.get(id) ?? {};
        h[region] ??= at;
        heard.set(id, h);
        if (h[a] !== undefined && h[b] !== undefined) wake?.();
      };
      const subs = [await subscribe(emulator.endpoints.regions[a], onData(a)), await subscribe(emulator.endpoints.regions[b], onData(b))];
      try {
        // one write not counted: the notifier's first invocation starts its sandbox
        const warm = `idle-warm-${Date.now().toString(36)}`;
        const warmed = new Promise<void>((resolve) => (wake = resolve));
        await putItem(emulator.endpoints.regions[a], warm);
        await warmed;
        const local: number[] = [];
        const remote: number[] = [];
        for (let i = 0; i < samples; i += 1) {
          await sleep(gapS * 1000);
          const id = `idle-${i}-${Date.now().toString(36)}`;
          const both = new Promise<void>((resolve) => (wake = resolve));
          const t0 = monotonicMs();
          await putItem(emulator.endpoints.regions[a], id);
          await both;
          const h = heard.get(id)!;
          local.push(h[a] - t0);
          remote.push(h[b] - t0);
        }
        const show = (xs: number[]): string => {
          const s = [...xs].sort((x, y) => x - y);
          return `p50 ${quantile(s, 0.5).toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join(', ')})`;
        };
        console.log(`notify after ${gapS} s idle, put in ${a} → subscriber in ${a}: ${show(local)}`);
        console.log(`notify after ${gapS} s idle, put in ${a} → subscriber in ${b}: ${show(remote)}`);
      } finally {
        for (const s of subs) s.close();
      }
    }
  } finally {
    await emulator.stop();
  }
  return 0;
}

runMain(module, main);
