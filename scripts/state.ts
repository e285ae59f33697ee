/**
 * `npm run state -- <active|fenced|failover> [--reason "..."] [--stack S] [--region R] [--function F] [--local [--endpoints F]]`
 *
 * Sets the app state (docs/architecture.md, "Write rules") by invoking the stack's state updater Lambda (handlers/stateUpdater.ts) with
 * `{newState, reason}` and prints its JSON answer.
 * - --stack: the Pulumi stack (default: $PULUMI_STACK, else `dev`); its Pulumi.<stack>.yaml is read and
 *   validated through config/ (readStackFile + parseConfig) for the regions and primaryRegion.
 * - --region: the region whose state updater is invoked. Default: the change's designated region, the one the
 *   updater itself insists on (handlers/lib/stateRules.ts): for `failover` the first of the stack's regions that
 *   is not its primaryRegion, because failover is declared when the primary is likely down (a single-region
 *   stack has no other region: the primary is used, with a note); for `active` and `fenced` the stack's
 *   primaryRegion. Any other region's updater answers NotStateRegion, so two operators can never both succeed
 *   in two replicas with the same change; the CLI prints which region it uses and why.
 * - The answer is printed as JSON on stdout; on stderr the CLI also prints what every region's replica showed
 *   when the updater read the state back (converged, still the old state, unreachable, or holding a racing
 *   change), or why the updater refused the change. A refused or raced change exits 1.
 * - Transitions (enforced by the updater, STATE_TRANSITIONS in schema/rules.ts): active → fenced | failover,
 *   fenced → active | failover, failover → fenced only. Failing back is `fenced`, wait for replication and the
 *   write bound (the updater refuses `active` before it, FencedTooShort), `active`. A failover whose regions must
 *   first wait out the write bound (writeMode primary) answers `writesFromMs`: the CLI says when they take writes.
 * - --function: the function name (default `global-appsync-<stack>-state-updater`, the name the appState
 *   component gives it).
 * - --takeover "why" (with --region): the change goes through that region's updater while its designated region is
 *   unreachable; the updater probes the designated replica and refuses if it answers with a client error (4xx); a timeout, a connection error or a server error (5xx) after retries counts as unreachable.
 * - --reason: why (default: "set by npm run state (<user>@<host>)"); the updater requires a non-empty reason.
 * - --local: the running emulator's (npm start) bundled state updater instead, invoked through its admin API
 *   (`POST <adminUrl>/state`, adminUrl from .emulator/endpoints.json or --endpoints); regions, primaryRegion and
 *   stack come from that file (the emulator may run with --regions), the same default-region rule applies.
 * Exit codes: 0 the updater answered ok, 1 it answered an error (or the invoke failed), 2 bad arguments/config.
 *
 * The invoke step is the `Invoker` argument of main(), so the local emulator can swap in a local target.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stateUpdaterFunctionName } from '../config/names';
import { defaultRegion, type StackInfo } from '../local/stateRegion';
import { APP_STATES, STATE_TRANSITIONS } from '../schema/rules';
import { formatReadBack, raced, refusal } from './readBack';
import { runMain } from './runMain';

export { formatReadBack } from './readBack';

export interface InvokeRequest {
  functionName: string;
  region: string;
  payload: { newState: string; reason: string; takeover?: string };
}

/** Invokes the state updater and returns its parsed answer. */
export type Invoker = (req: InvokeRequest) => Promise<unknown>;

export interface MainIO {
  invoke?: Invoker;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Folder holding Pulumi.<stack>.yaml (default: the project root). */
  projectDir?: string;
}

/** --local: the emulator's state updater through its admin API (local/admin.ts, POST /state). */
export function adminInvoker(adminUrl: string): Invoker {
  return async ({ functionName, region, payload }) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { adminCall } = require('./emulator') as typeof import('./emulator');
    const out = (await adminCall(adminUrl, 'POST', '/state', { state: payload.newState, reason: payload.reason, region, functionName })) as { answer?: unknown };
    return out.answer;
  };
}

export const USAGE = `usage: npm run state -- <${APP_STATES.join('|')}> [--reason "why"] [--stack S] [--region R] [--function NAME] [--local] [--takeover "why"]

  Sets the app state by invoking the stack's state updater Lambda.
  --reason    why the state changes (default: "set by npm run state (<user>@<host>)")
  --stack     Pulumi stack whose Pulumi.<stack>.yaml is read (default: $PULUMI_STACK or dev)
  --region    region of the state updater to invoke (default: the change's designated region, the only
              one whose updater accepts it: for failover the first of the stack's regions that is not
              the primaryRegion, since the primary is likely down; for active and fenced the primaryRegion)
  --function  function name (default: global-appsync-<stack>-state-updater)
  --local     the local emulator's (npm start) state updater, through its admin API; stack and regions
              come from its endpoints file (--endpoints F, default .emulator/endpoints.json)
  --takeover  "why": with --region, make the change through another region's updater while the designated
              region is unreachable (the updater probes it: a timeout, a connection error or a 5xx counts as unreachable, a 4xx answer refuses)

  Allowed moves: ${APP_STATES.map((s) => `${s} -> ${STATE_TRANSITIONS[s].join('|')}`).join(', ')}.
  Failing back: set fenced (writes stop everywhere while replication settles), wait (60 s by default, never less
  than the write bound of 30 s: writes that read the state before the fence may commit until then), then active.
  In writeMode primary a failover lets the other regions write once the write bound has passed; stderr says when.
  After a change the updater reads the state back from every region; stderr shows what each one saw.`;

/** The real invoke: AWS Lambda Invoke (RequestResponse) with the default credential chain. */
export const lambdaInvoker: Invoker = async ({ functionName, region, payload }) => {
  const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
  const client = new LambdaClient({ region });
  try {
    const out = await client.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
    );
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : 'null';
    if (out.FunctionError) throw new Error(`the function failed (${out.FunctionError}): ${text}`);
    return JSON.parse(text) as unknown;
  } finally {
    client.destroy();
  }
};

class UsageError extends Error {}

/** The stack's regions and primary region, validated by config/. */
function readStack(stack: string, dir: string): StackInfo {
  // Required lazily: config/ pulls in @pulumi/pulumi, which only the stack look-up needs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require('../config') as typeof import('../config');
  const cfg = config.parseConfig(config.projectKeys(config.readStackFile(stack, dir)), { stack });
  return { regions: cfg.regions, primaryRegion: cfg.primaryRegion };
}

export async function main(argv: readonly string[], io: MainIO = {}): Promise<number> {
  const out = io.out ?? ((l: string) => console.log(l));
  const err = io.err ?? ((l: string) => console.error(l));
  let invoke = io.invoke ?? lambdaInvoker;
  let request: InvokeRequest;
  let why: string;
  let where = '';
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        strict: true,
        options: {
          reason: { type: 'string', short: 'r' },
          stack: { type: 'string', short: 's' },
          region: { type: 'string' },
          function: { type: 'string' },
          local: { type: 'boolean' },
          endpoints: { type: 'string' },
          takeover: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      out(USAGE);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(positionals.length === 0 ? 'the new state is required' : `give exactly one state, got ${positionals.length}: ${positionals.join(' ')}`);
    }
    const newState = positionals[0];
    if (!(APP_STATES as readonly string[]).includes(newState)) {
      throw new UsageError(`${JSON.stringify(newState)} is not a state: allowed are ${APP_STATES.join(', ')}`);
    }
    const reason = values.reason ?? `set by npm run state (${os.userInfo().username}@${os.hostname()})`;
    if (reason.trim() === '') throw new UsageError('--reason is empty: say why the state changes');
    if (values.endpoints !== undefined && !values.local) throw new UsageError('--endpoints is for --local only');
    if (values.takeover !== undefined && (values.takeover.trim() === '' || values.region === undefined)) {
      throw new UsageError('--takeover needs a reason and --region: the region that takes over from the unreachable designated one');
    }
    if (values.takeover !== undefined && values.local) throw new UsageError('--takeover is for a deployed stack (the emulator stops a region with npm run emulator -- stop instead)');
    let local: { stack: string; info: StackInfo; adminUrl: string } | undefined;
    if (values.local) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { readEndpoints } = require('./emulator') as typeof import('./emulator');
      let e;
      try {
        e = readEndpoints(values.endpoints ? path.resolve(values.endpoints) : undefined);
      } catch (x) {
        err(`error: ${(x as Error).message}`);
        return 1;
      }
      if (values.stack !== undefined && values.stack !== e.stack) throw new UsageError(`--stack ${values.stack}: the running emulator serves stack ${e.stack}`);
      local = { stack: e.stack, info: { regions: Object.keys(e.regions), primaryRegion: e.primaryRegion }, adminUrl: e.adminUrl };
      if (!io.invoke) invoke = adminInvoker(e.adminUrl);
      where = ` (the local emulator's, through its admin API ${e.adminUrl})`;
    }
    const stack = local?.stack ?? values.stack ?? process.env.PULUMI_STACK ?? 'dev';
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`--stack ${JSON.stringify(stack)} is not a stack name`);
    let region = values.region;
    why = 'given with --region';
    if (local) {
      if (region !== undefined && !local.info.regions.includes(region)) throw new UsageError(`--region ${region} is not one of the emulator's regions: ${local.info.regions.join(', ')}`);
      if (region === undefined) ({ region, why } = defaultRegion(newState, stack, local.info));
    } else if (region === undefined || values.function === undefined) {
      let info: StackInfo | undefined;
      try {
        info = readStack(stack, io.projectDir ?? path.resolve(__dirname, '..'));
      } catch (e) {
        if (region === undefined) throw new UsageError(`cannot tell which region to use from stack ${stack}: ${(e as Error).message}\n(pass --region)`);
      }
      if (info && region !== undefined && !info.regions.includes(region)) {
        throw new UsageError(`--region ${region} is not one of stack ${stack}'s regions: ${info.regions.join(', ')}`);
      }
      if (region === undefined && info) ({ region, why } = defaultRegion(newState, stack, info));
    }
    if (!region || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new UsageError(`--region ${JSON.stringify(region)} is not an AWS region name`);
    const functionName = values.function ?? stateUpdaterFunctionName('global-appsync', stack);
    if (functionName.trim() === '') throw new UsageError('--function is empty');
    request = { functionName, region, payload: { newState, reason, ...(values.takeover !== undefined ? { takeover: values.takeover.trim() } : {}) } };
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${e.message}`);
      err(USAGE);
      return 2;
    }
    throw e;
  }

  err(`region ${request.region}: ${why}`);
  err(`invoking ${request.functionName} in ${request.region}${where}: ${request.payload.newState} (${request.payload.reason})`);
  let answer: unknown;
  try {
    answer = await invoke(request);
  } catch (e) {
    err(`error: invoking ${request.functionName} in ${request.region} failed: ${(e as Error).message}`);
    return 1;
  }
  out(JSON.stringify(answer, null, 2));
  for (const line of formatReadBack(answer)) err(line);
  const writesFrom = formatWritesFrom(answer);
  if (writesFrom) err(writesFrom);
  const refused = refusal(answer);
  if (refused) err(`refused: ${refused}`);
  return refused || raced(answer) ? 1 : 0;
}

/**
 * A failover's `writesFromMs` for people: when the regions it lets write locally start taking writes (until then they
 * answer StateChanging). Undefined for every other answer.
 */
export function formatWritesFrom(answer: unknown, now: number = Date.now()): string | undefined {
  const a = answer as { ok?: unknown; state?: unknown; writesFromMs?: unknown } | null;
  if (!a || a.ok !== true || a.state !== 'failover' || typeof a.writesFromMs !== 'number') return undefined;
  const inS = Math.max(0, Math.ceil((a.writesFromMs - now) / 1000));
  return `the regions this failover lets write locally take writes from ${new Date(a.writesFromMs).toISOString()} (in ${inS} s): until then a write that read the previous state may still commit in the primary (the write bound); they answer StateChanging, retryable`;
}

runMain(module, main);
