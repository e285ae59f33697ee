/**
 * Where each running emulator keeps its files, so that several can run side by side (say prod on one port, dev on
 * another) and the scripts still find the one they mean:
 *
 *   .emulator/<stack>-<port>/endpoints.json   one per running emulator, written once it serves, removed on stop
 *   .emulator/<stack>-<port>/token-secret     token mode's local secret, beside it (local/endpointsFile.ts)
 *   .emulator/<stack>-<port>/logs/            its function logs and notifier DLQ files, kept after it stops
 *   .emulator/endpoints.json                  a copy of the endpoints file of the emulator started last: what the
 *                                             scripts read by default (each takes --endpoints F for another one).
 *                                             When that emulator stops, the copy is replaced by the endpoints file
 *                                             of the newest emulator still running, or removed when none is.
 *
 * A copy rather than a symbolic link: Windows creates symbolic links only with developer mode or administrator
 * rights, and a copy reads the same on every OS (`require('./.emulator/endpoints.json')` in the README's examples).
 * An endpoints file names its emulator's process (`pid`), so a file left behind by a killed emulator is told apart
 * from a live one. Used by local/emulator.ts (writes) and the scripts (read); node built-ins only.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The folder of the default layout (git-ignored). */
export const EMULATOR_DIR = path.resolve(__dirname, '..', '.emulator');
/** The copy the scripts read by default, inside EMULATOR_DIR. */
export const CURRENT_NAME = 'endpoints.json';

/** What every endpoints file says about the emulator that wrote it (besides its endpoints). */
export interface InstanceStamp {
  stack: string;
  /** The emulator's process: alive while it runs. */
  pid: number;
  startedAt: string;
  /** The emulator's own endpoints file (the copy in EMULATOR_DIR names the original). */
  endpointsFile: string;
  globalUrl?: string;
}

let unnamed = 0;

/** `.emulator/<stack>-<port>`; an emulator on free ports (basePort 0, tests) gets `<stack>-pid<pid>-<n>`. */
export function instanceDir(stack: string, basePort: number, root: string = EMULATOR_DIR): string {
  unnamed += basePort ? 0 : 1;
  return path.join(root, basePort ? `${stack}-${basePort}` : `${stack}-pid${process.pid}-${unnamed}`);
}

/** Endpoints files of emulators in this process that are running (their pid is ours, so it cannot tell them apart). */
const runningHere = new Set<string>();

export function registerRunning(file: string, running: boolean): void {
  if (running) runningHere.add(path.resolve(file));
  else runningHere.delete(path.resolve(file));
}

/** Whether a process exists (signal 0 checks without signalling; EPERM: it exists but is another user's). */
export function processAlive(pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readStamp(file: string): InstanceStamp | undefined {
  try {
    const e = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<InstanceStamp>;
    return typeof e.pid === 'number' && typeof e.endpointsFile === 'string' && typeof e.stack === 'string' ? (e as InstanceStamp) : undefined;
  } catch {
    return undefined;
  }
}

/** The running emulator whose endpoints file `file` is, if any (a file left by a killed one has none). */
export function liveOwner(file: string): InstanceStamp | undefined {
  const stamp = readStamp(file);
  if (!stamp) return undefined;
  const mine = stamp.pid === process.pid;
  return (mine ? runningHere.has(path.resolve(stamp.endpointsFile)) : processAlive(stamp.pid)) ? stamp : undefined;
}

/** The emulators running now, from their endpoints files under `root`, newest first. */
export function liveInstances(root: string = EMULATOR_DIR): InstanceStamp[] {
  let dirs: string[];
  try {
    dirs = fs.readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  return dirs
    .map((d) => liveOwner(path.join(root, d, 'endpoints.json')))
    .filter((s): s is InstanceStamp => s !== undefined && fs.existsSync(s.endpointsFile))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** Writes a file whole or not at all (a reader never sees half of it). */
export function writeAtomically(file: string, text: string, mode?: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, text, mode === undefined ? undefined : { mode });
  fs.renameSync(tmp, file);
}

/** Makes `.emulator/endpoints.json` a copy of this emulator's endpoints file (it was started last). */
export function publishCurrent(text: string, root: string = EMULATOR_DIR): void {
  writeAtomically(path.join(root, CURRENT_NAME), text);
}

/**
 * The emulator whose endpoints file is `own` stops: if `.emulator/endpoints.json` is its copy, it becomes the copy
 * of the newest emulator still running, or goes when none runs. Answers that emulator's file, if any.
 */
export function retireCurrent(own: string, root: string = EMULATOR_DIR): string | undefined {
  const current = path.join(root, CURRENT_NAME);
  const stamp = readStamp(current);
  if (stamp && path.resolve(stamp.endpointsFile) !== path.resolve(own)) return undefined; // another emulator's copy: leave it
  const next = liveInstances(root).find((s) => path.resolve(s.endpointsFile) !== path.resolve(own));
  if (!next) {
    fs.rmSync(current, { force: true });
    return undefined;
  }
  publishCurrent(fs.readFileSync(next.endpointsFile, 'utf8'), root);
  return next.endpointsFile;
}
