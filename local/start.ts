/**
 * `npm start [-- --stack dev|prod] [--regions a,b,c] [--port N] [--replication-lag 0|<ms>|realistic] [--endpoints F]
 *   [--health-interval <ms>] [--failure-threshold N] [--auth apiKey|token] [--dynamodb-contention on|off]
 *   [--write-bound <ms>]`
 *
 * Runs the whole stack locally (local/emulator.ts), prints one line per step and then the endpoints of every
 * region, the global endpoint (with its health-check scale) and the admin API, writes .emulator/<stack>-<port>/endpoints.json
 * (copied to .emulator/endpoints.json: local/instances.ts) once everything serves, and stops everything (the DynamoDB Local JVM
 * included) on Ctrl-C / SIGTERM. A problem the user can fix (config, Java, a port in use, a bad flag) is one
 * message without a stack trace: exit code 2 for bad arguments or config, 1 otherwise.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config';
import { ensureDynamoDBLocal, freePort, startDynamoDBLocal, type DynamoDBLocal } from './dynamodbLocal';
import type { Emulator } from './emulator';
import { checkJava, DEFAULT_BASE_PORT, emulatorConfig, fixedPorts, StartError } from './startup';
import { assertPortsFree, PortInUseError } from './listen';
import { DEFAULT_HEALTH, describeHealth } from './router';
import { emulatedWriteBound, MAX_EMULATED_WRITE_BOUND_MS, WriteBoundError } from './writeBound';

export const USAGE = `usage: npm start [-- --stack S] [--regions a,b,c] [--port N] [--replication-lag 0|<ms>|realistic] [--endpoints F]
                    [--health-interval MS] [--failure-threshold N] [--auth apiKey|token] [--dynamodb-contention on|off]
                    [--write-bound MS]

  --stack             Pulumi stack whose Pulumi.<stack>.yaml is read (default: dev)
  --regions           regions to emulate instead of the stack's (validated the same way)
  --port              first port (default ${DEFAULT_BASE_PORT}): the global endpoint takes N, the admin API N+1,
                      region i N+10+10i (AppSync) and N+11+10i (REST)
  --replication-lag   delay before a write reaches the other regions: 0 (default), milliseconds, or
                      realistic (measured inter-region latencies)
  --endpoints         where to write the endpoints file (default .emulator/<stack>-<port>/endpoints.json, copied to
                      .emulator/endpoints.json, which scripts read by default; one a running emulator owns is refused)
  --health-interval   the global endpoint's health-check interval in ms (default ${DEFAULT_HEALTH.intervalMs}: Route53's 30 s scaled 1:30)
  --failure-threshold consecutive failed (or passed) checks that flip a region's health, 1-10 (default ${DEFAULT_HEALTH.failureThreshold}, as Route53)
  --auth              serve this client auth mode whatever the stack deploys: token (tokens signed with a local
                      secret the emulator makes; it prints the command that mints one) or apiKey
  --dynamodb-contention on (default): DynamoDB answers as under load in AWS (transaction conflicts, 1,000 write
                      and 3,000 read units/s per partition key); off: DynamoDB Local's own answers
  --write-bound       the write bound in ms, from stateCacheMs + 2000 to ${MAX_EMULATED_WRITE_BOUND_MS} (default, AWS's): how long the
                      state updater waits after a fence; the emulator ends GraphQL requests at it and the items
                      function at it minus stateCacheMs, so the bound still holds`;

class UsageError extends Error {}

export function parseStartArgs(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: 'string', default: 'dev' },
        regions: { type: 'string' },
        port: { type: 'string', default: String(DEFAULT_BASE_PORT) },
        'replication-lag': { type: 'string', default: '0' },
        endpoints: { type: 'string' },
        'health-interval': { type: 'string', default: String(DEFAULT_HEALTH.intervalMs) },
        'failure-threshold': { type: 'string', default: String(DEFAULT_HEALTH.failureThreshold) },
        auth: { type: 'string' },
        'dynamodb-contention': { type: 'string', default: 'on' },
        'write-bound': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1024 || port > 65_400) throw new UsageError(`--port ${values.port}: a whole number from 1024 to 65400`);
  const lagRaw = values['replication-lag'] ?? '0';
  let lag: number | 'realistic';
  if (lagRaw === 'realistic') lag = 'realistic';
  else {
    lag = Number(lagRaw);
    if (!/^\d+$/.test(lagRaw) || lag > 600_000) throw new UsageError(`--replication-lag ${lagRaw}: 0, a number of milliseconds up to 600000, or realistic`);
  }
  const intervalRaw = values['health-interval'] ?? '';
  const intervalMs = Number(intervalRaw);
  if (!/^\d+$/.test(intervalRaw) || intervalMs < 10 || intervalMs > 60_000) throw new UsageError(`--health-interval ${intervalRaw}: a whole number of milliseconds from 10 to 60000`);
  const thresholdRaw = values['failure-threshold'] ?? '';
  const failureThreshold = Number(thresholdRaw);
  if (!/^\d+$/.test(thresholdRaw) || failureThreshold < 1 || failureThreshold > 10) throw new UsageError(`--failure-threshold ${thresholdRaw}: a whole number from 1 to 10 (Route53's range)`);
  const auth = values.auth;
  if (auth !== undefined && auth !== 'apiKey' && auth !== 'token') {
    throw new UsageError(`--auth ${auth}: token or apiKey${/jwt|bearer/i.test(auth) ? ' (did you mean token?)' : auth.toLowerCase() === 'apikey' ? ' (did you mean apiKey?)' : ''}`);
  }
  const contentionRaw = values['dynamodb-contention'] ?? 'on';
  if (contentionRaw !== 'on' && contentionRaw !== 'off') throw new UsageError(`--dynamodb-contention ${contentionRaw}: on or off`);
  const boundRaw = values['write-bound'];
  if (boundRaw !== undefined && (!/^\d+$/.test(boundRaw) || Number(boundRaw) > MAX_EMULATED_WRITE_BOUND_MS)) {
    throw new UsageError(`--write-bound ${boundRaw}: a whole number of milliseconds up to ${MAX_EMULATED_WRITE_BOUND_MS} (AWS's bound), at least stateCacheMs + 2000`);
  }
  const regions = values.regions?.split(',').map((s) => s.trim()).filter(Boolean);
  if (values.regions !== undefined && !regions?.length) throw new UsageError('--regions: give at least one region, e.g. --regions eu-west-1,ap-southeast-2');
  return {
    help: values.help ?? false,
    stack: values.stack ?? 'dev',
    regions,
    port,
    lag,
    endpointsFile: values.endpoints ? path.resolve(values.endpoints) : undefined,
    health: { intervalMs, failureThreshold },
    auth: auth as 'apiKey' | 'token' | undefined,
    dynamodbContention: contentionRaw === 'on',
    writeBoundMs: boundRaw === undefined ? undefined : Number(boundRaw),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** A problem the user can fix is one message and an exit code (2: config, 1: Java, a port); anything else is a bug. */
function exitOnUserError(err: unknown): never {
  if (err instanceof ConfigError || err instanceof WriteBoundError) {
    console.error(err.message);
    process.exit(2);
  }
  if (err instanceof StartError || err instanceof PortInUseError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseStartArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const t0 = Date.now();
  const log = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}`);
  // config and ports first (no JVM for a mistake), then Java, then the JVM boots while the emulator's modules load
  let dynamodb: Promise<DynamoDBLocal>;
  try {
    const { config } = emulatorConfig(args.stack, args.regions, undefined, {}, { auth: args.auth });
    // the bound's least value depends on the stack's stateCacheMs: checked here, before any JVM
    emulatedWriteBound(args.writeBoundMs, config.stateCacheMs, '--write-bound');
    await assertPortsFree(fixedPorts(args.port, config.regions.length));
    checkJava();
    ensureDynamoDBLocal();
    dynamodb = startDynamoDBLocal({ port: await freePort() });
  } catch (err) {
    exitOnUserError(err);
  }
  dynamodb.catch(() => {}); // awaited and reported by Emulator.start
  let emulator: Emulator;
  try {
    const { Emulator: EmulatorClass } = await import('./emulator');
    emulator = await EmulatorClass.start({
      stack: args.stack,
      regions: args.regions,
      basePort: args.port,
      replicationLag: args.lag,
      endpointsFile: args.endpointsFile,
      health: args.health,
      auth: args.auth,
      dynamodbContention: args.dynamodbContention,
      writeBoundMs: args.writeBoundMs,
      log,
      dynamodb,
    });
  } catch (err) {
    await dynamodb.then((d) => d.stop()).catch(() => {});
    exitOnUserError(err);
  }
  const e = emulator.endpoints;
  const rows = [['region', 'GraphQL', 'realtime', 'REST', 'API key']];
  for (const [name, r] of Object.entries(e.regions)) rows.push([name, r.graphqlUrl, r.realtimeUrl, r.restUrl, r.apiKey || '(token mode)']);
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  const current = emulator.currentFile ? ` (${rel(emulator.currentFile)} is its copy: scripts read that one by default)` : '';
  log(`ready: ${emulator.endpointsFile ? rel(emulator.endpointsFile) : '(no endpoints file)'} written${current}`);
  // token mode has no API keys: the global row says how to get a token instead
  const credential = e.auth.mode === 'token' ? `authorization: $(${e.auth.tokenCommand})` : `x-api-key ${e.globalApiKey}`;
  const global = [
    ['global', e.globalUrl, credential, `${describeHealth(emulator.router.settings)}`],
    ['admin', e.adminUrl, 'npm run emulator -- --help', ''],
    ['console', e.consoleUrl, 'open in a browser', ''],
  ];
  // token mode: the one command a client needs, runnable as printed (also `auth.tokenCommand` in the endpoints file)
  const token = e.auth.mode === 'token' ? `\n\ntoken mode: send "authorization: <token>" everywhere; mint a token with\n  TOKEN=$(${e.auth.tokenCommand})` : '';
  console.log(`\n${table(rows)}\n\n${table(global)}${token}\n\nCtrl-C stops everything.`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    emulator
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        console.error(err);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
