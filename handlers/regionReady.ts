/**
 * The region readiness gate: a deploy-time helper, invoked once per routed region by `pulumi up` (aws.lambda.Invocation
 * in components/regionReady.ts), never by clients. It answers only when the region may take traffic from the latency
 * record that is created after it:
 *   1. every table named (the region's replicas of the items and app-config tables) is ACTIVE in THIS region
 *      (DescribeTable here, not the home region's view of its replicas);
 *   2. the region's deep health check (`GET <healthUrl>`, the path the Route53 health check polls: it reads the table
 *      and the app state, handlers/health.ts) answers 2xx/3xx `passes` times in a row.
 * Why it exists: Route53 "considers a new health check to be healthy until there's enough data to determine the
 * actual status" (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating.html), so a latency
 * record created next to a new health check would send users to a region whose /health never passed once.
 *
 * Event: `{tables: string[] (1 to 10 table names), healthUrl: string (https:// or http://), passes?: 1..10 (default 3),
 * drained?: boolean}` — a drained region (drainRegions) answers 503 on purpose and gets no latency record: only step 1.
 * Answer: `{region, tables: {name: status}, healthPasses, waitedMs}`. Errors are thrown: the Invocation then fails
 * `pulumi up` with the message (what it waited for, and the last status seen) and the latency record is not created.
 * The run is bounded by the invocation's remaining time (minus a margin).
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** DynamoDB table names: 3 to 255 of a-z A-Z 0-9 _ - . (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html) */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
/** Between two checks while waiting. */
export const POLL_MS = 2000;
/** Left of the invocation's time when the gate gives up (room to answer). */
export const SAFETY_MS = 3000;
export const DEFAULT_PASSES = 3;

export interface RegionReadyEvent {
  tables: string[];
  healthUrl: string;
  passes: number;
  drained: boolean;
}

export interface RegionReadyAnswer {
  region: string;
  tables: Record<string, string>;
  healthPasses: number;
  waitedMs: number;
}

export interface RegionReadyDeps {
  region: string;
  /** DescribeTable in this region: the table's status ('ACTIVE', 'CREATING', ...); throws when there is no table */
  tableStatus(tableName: string): Promise<string>;
  /** GET the health URL: its HTTP status, or throws (refused, timeout) */
  health(url: string): Promise<number>;
  sleep(ms: number): Promise<void>;
  /** milliseconds left before the gate must answer */
  remainingMs(): number;
  now(): number;
}

/** The event, checked: a clear error naming the field otherwise. */
export function parseEvent(event: unknown): RegionReadyEvent {
  const e = (event ?? {}) as Record<string, unknown>;
  if (!Array.isArray(e.tables) || e.tables.length < 1 || e.tables.length > 10 || e.tables.some((t) => typeof t !== 'string' || !TABLE_NAME.test(t))) {
    throw new Error(`tables: ${JSON.stringify(e.tables)} is not a list of 1 to 10 DynamoDB table names (3 to 255 of A-Z a-z 0-9 _ - .)`);
  }
  let url: URL | undefined;
  try {
    url = typeof e.healthUrl === 'string' ? new URL(e.healthUrl) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new Error(`healthUrl: ${JSON.stringify(e.healthUrl)} is not an http(s) URL`);
  const passes = e.passes ?? DEFAULT_PASSES;
  if (typeof passes !== 'number' || !Number.isInteger(passes) || passes < 1 || passes > 10) throw new Error(`passes: ${JSON.stringify(e.passes)} is not an integer from 1 to 10`);
  if (e.drained !== undefined && typeof e.drained !== 'boolean') throw new Error(`drained: ${JSON.stringify(e.drained)} is not true or false`);
  return { tables: e.tables as string[], healthUrl: url.href, passes, drained: e.drained === true };
}

/** Waits until the region is ready (see header); throws naming what it was still waiting for. */
export async function waitRegionReady(deps: RegionReadyDeps, event: unknown): Promise<RegionReadyAnswer> {
  const { tables, healthUrl, passes, drained } = parseEvent(event);
  const started = deps.now();
  const giveUp = (what: string, last: string): Error => new Error(`region ${deps.region}: gave up waiting for ${what} (last: ${last}); the latency record was not created — run \`pulumi up\` again once it is`);
  const statuses: Record<string, string> = {};
  for (const table of tables) {
    for (;;) {
      let status: string;
      try {
        status = await deps.tableStatus(table);
      } catch (err) {
        // the replica is not there yet (ResourceNotFoundException while DynamoDB creates it): keep waiting
        status = `error ${(err as Error).name}: ${(err as Error).message}`;
      }
      statuses[table] = status;
      if (status === 'ACTIVE') break;
      if (deps.remainingMs() < POLL_MS + SAFETY_MS) throw giveUp(`table ${table} to be ACTIVE in ${deps.region}`, status);
      await deps.sleep(POLL_MS);
    }
  }
  let inARow = 0;
  while (!drained) {
    let last: string;
    try {
      const status = await deps.health(healthUrl);
      last = `HTTP ${status}`;
      inARow = status >= 200 && status < 400 ? inARow + 1 : 0;
    } catch (err) {
      last = (err as Error).message;
      inARow = 0;
    }
    if (inARow >= passes) break;
    if (deps.remainingMs() < POLL_MS + SAFETY_MS) throw giveUp(`${healthUrl} to pass ${passes} times in a row`, last);
    await deps.sleep(POLL_MS);
  }
  return { region: deps.region, tables: statuses, healthPasses: inARow, waitedMs: deps.now() - started };
}

/** The adapter: the function's own region, its remaining time, the SDK's DynamoDB client, fetch. */
export async function handler(event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<RegionReadyAnswer> {
  const region = process.env.AWS_REGION;
  if (!region) throw new Error('AWS_REGION is not set (Lambda sets it)');
  const client = new DynamoDBClient({ region });
  const started = Date.now();
  try {
    return await waitRegionReady(
      {
        region,
        tableStatus: async (TableName) => (await client.send(new DescribeTableCommand({ TableName }))).Table?.TableStatus ?? 'unknown',
        // Route53's checker must connect within 4 s and get the status within 2 s more (components/healthCheck.ts): 6 s in all
        health: async (url) => {
          const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(6000) });
          await res.arrayBuffer();
          return res.status;
        },
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        remainingMs: () => context?.getRemainingTimeInMillis?.() ?? 900_000 - (Date.now() - started),
        now: () => Date.now(),
      },
      event,
    );
  } finally {
    client.destroy();
  }
}
