/**
 * What `npm start` needs before the emulator's heavy modules load: the stack's config, the ports it will take, the
 * Java check and its message, the error type for problems a user can fix, and the default port — so bad config and
 * a port in use are reported before any JVM starts. Kept free of heavy imports so local/start.ts can check Java and
 * boot the DynamoDB Local JVM first, and load the emulator while the JVM starts.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseConfig, projectKeys, readStackFile, type StackConfig, stackWarnings } from '../config';

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


/** `npm start -- --auth token` without a token stack: the issuer and audience the emulator's tokens carry. */
export const LOCAL_TOKEN_ISSUER = 'global-appsync-emulator';
export const LOCAL_TOKEN_AUDIENCE = 'global-appsync';

/**
 * Token mode for the emulator, whatever the stack deploys: `--auth token` turns a stack of another mode into token
 * mode with the local issuer and audience; a token stack keeps its issuer, audience and ttlSeconds. Either way the
 * emulator signs and verifies with its own local secret (a JWKS or public key has no private half here, and the
 * stack's secret is encrypted in its file), so a token stack that names no key source yet still starts.
 * Answers the `auth` value to use and a note, or undefined to leave the stack's as it is.
 */
export function localTokenAuth(rawAuth: string | undefined, secret: string, forced: boolean): { auth: string; note: string } | undefined {
  let obj: Record<string, unknown> | undefined;
  try {
    const v = rawAuth === undefined || rawAuth === '' ? {} : (JSON.parse(rawAuth) as unknown);
    obj = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    obj = undefined;
  }
  if (!obj) return undefined; // not an object: parseConfig names the problem
  if (obj.mode === 'token') {
    if (['secret', 'jwksUrl', 'publicKey'].some((f) => obj[f] !== undefined)) return undefined;
    return { auth: JSON.stringify({ ...obj, secret }), note: 'auth.mode token names no key source: the emulator uses its local secret (`pulumi up` needs auth.secret, auth.jwksUrl or auth.publicKey)' };
  }
  if (!forced) return undefined;
  return {
    auth: JSON.stringify({ mode: 'token', issuer: LOCAL_TOKEN_ISSUER, audience: LOCAL_TOKEN_AUDIENCE, secret }),
    note: `--auth token: served in token mode (issuer ${LOCAL_TOKEN_ISSUER}, audience ${LOCAL_TOKEN_AUDIENCE}); the stack deploys auth.mode ${typeof obj.mode === 'string' ? obj.mode : 'apiKey'}`,
  };
}

/**
 * The stack's config through config/; --regions replaces the list (pinned home/primary regions it drops are reset);
 * `local.auth` serves the stack in that client auth mode instead (`npm start -- --auth token`). `warnings`: what the
 * stack file holds that deserves a word before `pulumi up` (config/warnings.ts), read before any local override.
 */
export function emulatorConfig(
  stack: string,
  regions: readonly string[] | undefined,
  projectDir?: string,
  overrides: Readonly<Record<string, string>> = {},
  local: { auth?: 'apiKey' | 'token'; tokenSecret?: string } = {},
): { config: StackConfig; notes: string[]; warnings: string[] } {
  const file = projectKeys(readStackFile(stack, projectDir));
  const raw = { ...file, ...overrides };
  const notes: string[] = [];
  if (local.auth === 'apiKey' && raw.auth !== undefined) {
    notes.push('--auth apiKey: served with API keys; the stack deploys another auth.mode');
    delete raw.auth;
  } else {
    const token = localTokenAuth(raw.auth, local.tokenSecret ?? randomBytes(48).toString('base64url'), local.auth === 'token');
    if (token) {
      raw.auth = token.auth;
      notes.push(token.note);
    }
  }
  if (regions) {
    raw.regions = JSON.stringify(regions);
    for (const key of ['homeRegion', 'primaryRegion'] as const) {
      if (raw[key] !== undefined && !regions.includes(raw[key])) {
        notes.push(`${key} ${raw[key]} is not among --regions: using ${regions[0]}`);
        delete raw[key];
      }
    }
  }
  const config = parseConfig(raw, { stack });
  return { config, notes, warnings: stackWarnings({ raw: file, regions: config.regions, stack, file: `Pulumi.${stack}.yaml` }) };
}

/** Every fixed port of an emulator at `basePort`: router, admin, then AppSync and REST per region. */
export function fixedPorts(basePort: number, regionCount: number): number[] {
  return [basePort, basePort + 1, ...Array.from({ length: regionCount }, (_, i) => [basePort + 10 + 10 * i, basePort + 11 + 10 * i]).flat()];
}
