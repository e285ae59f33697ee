/**
 * What `npm start` needs before the emulator's heavy modules load: the stack's config, the ports it will take, the
 * Java check and its message, the error type for problems a user can fix, and the default port — so bad config and
 * a port in use are reported before any JVM starts. Kept free of heavy imports so local/start.ts can check Java and
 * boot the DynamoDB Local JVM first, and load the emulator while the JVM starts.
 */
import { spawnSync } from 'node:child_process';
import { parseConfig, projectKeys, readStackFile, type StackConfig } from '../config';

export const DEFAULT_BASE_PORT = 4010;

/** A problem the user can fix (Java missing, a port in use, bad config): printed as one message, no stack trace. */
export class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartError';
  }
}

export const JAVA_HINT =
  'DynamoDB Local (AWS\'s own jar) needs a Java 17+ JDK (java and javac): ' +
  'Debian/Ubuntu: sudo apt-get install openjdk-17-jdk-headless; macOS: brew install openjdk@17; ' +
  'Windows: winget install Microsoft.OpenJDK.17. Then run npm start again.';

export function checkJava(): void {
  for (const cmd of ['java', 'javac']) {
    const r = spawnSync(cmd, ['-version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new StartError(`${cmd} was not found. ${JAVA_HINT}`);
    const m = /version "?(\d+)/.exec(`${r.stderr}${r.stdout}`);
    if (m && Number(m[1]) < 17) throw new StartError(`${cmd} is version ${m[1]}. ${JAVA_HINT}`);
  }
}


/** The stack's config through config/; --regions replaces the list (pinned home/primary regions it drops are reset). */
export function emulatorConfig(
  stack: string,
  regions: readonly string[] | undefined,
  projectDir?: string,
  overrides: Readonly<Record<string, string>> = {},
): { config: StackConfig; notes: string[] } {
  const raw = { ...projectKeys(readStackFile(stack, projectDir)), ...overrides };
  const notes: string[] = [];
  if (regions) {
    raw.regions = JSON.stringify(regions);
    for (const key of ['homeRegion', 'primaryRegion'] as const) {
      if (raw[key] !== undefined && !regions.includes(raw[key])) {
        notes.push(`${key} ${raw[key]} is not among --regions: using ${regions[0]}`);
        delete raw[key];
      }
    }
  }
  return { config: parseConfig(raw, { stack }), notes };
}

/** Every fixed port of an emulator at `basePort`: router, admin, then AppSync and REST per region. */
export function fixedPorts(basePort: number, regionCount: number): number[] {
  return [basePort, basePort + 1, ...Array.from({ length: regionCount }, (_, i) => [basePort + 10 + 10 * i, basePort + 11 + 10 * i]).flat()];
}
