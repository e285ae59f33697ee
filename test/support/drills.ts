/**
 * What the failure drills (test/e2e/drills*.test.ts, test/e2e/failover.test.ts) share: writes through the global
 * endpoint and to one region, admin API calls, a replica scan, subscribers' changes per id, and the report line each
 * drill prints. Health checks run at 200 ms × 3 (Route53's 30 s × 3 scaled 1:150) so the drills take seconds.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ddbClient } from './dynamodb';
import type { Subscriber, TestEmulator } from './emulator';

export const EU = 'eu-west-1'; // first region and primary of the dev stack
export const AP = 'ap-southeast-2';
export const HEALTH = { intervalMs: 200, failureThreshold: 3 };
/** Scheduling slack on top of (threshold + 1) × interval for the router's detection, on a busy 2-core machine. */
export const DETECT_SLACK_MS = 1000;
export const PUT = 'mutation Put($input: PutItemInput!) { putItem(input: $input) { id value version updatedRegion } }';

export type Item = { id: string; value: string; version: number; updatedAt: string; updatedRegion: string };

/** Every item of one region's replica whose id starts with prefix, by id. */
export async function scan(t: TestEmulator, region: string, prefix: string): Promise<Map<string, Item>> {
  const client = ddbClient(region);
  const out = new Map<string, Item>();
  try {
    let start: Record<string, never> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: t.emulator.config.tableName, ExclusiveStartKey: start }));
      for (const raw of page.Items ?? []) {
        const item = unmarshall(raw) as Item;
        if (item.id.startsWith(prefix)) out.set(item.id, item);
      }
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
  } finally {
    client.destroy();
  }
  return out;
}

export interface Answer {
  status: number;
  servedBy: string | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function send(url: string, init: RequestInit): Promise<Answer> {
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    return { status: res.status, servedBy: res.headers.get('x-served-by'), body: text ? JSON.parse(text) : null };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { status: 0, servedBy: null, body: { message: e.message, cause: e.cause?.code ?? e.cause?.message } };
  }
}

/** Client connections to the global endpoint that failed before any answer (and were tried again), for the reports. */
let retries = 0;
export const transportRetries = (): number => retries;

/**
 * A write through the global endpoint: GraphQL putItem, or (every 10th) REST PUT /live/items/{id}. A connection that
 * fails before any answer (on a loaded machine, a kept-alive socket the server closed as it was reused) is tried
 * again, as a client would: the router never saw that request, so it tells nothing about the router. Every other
 * answer the router gave, A's 502 included, is returned as it came.
 */
export async function globalWrite(t: TestEmulator, id: string, value: string, preferred: string, viaRest: boolean): Promise<Answer> {
  const g = t.endpoints.globalUrl;
  const headers = { 'content-type': 'application/json', 'x-preferred-region': preferred, 'x-api-key': t.endpoints.globalApiKey };
  const once = () =>
    viaRest
      ? send(`${g}/live/items/${id}`, { method: 'PUT', headers, body: JSON.stringify({ value }) })
      : send(`${g}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: PUT, variables: { input: { id, value } } }) });
  // also a connection reset by the other region (the one serving while the preferred is down or drained), which the
  // router answers 502: the same kept-alive socket race one hop further (router → region). The preferred region's
  // own 502s are what the drills count, and are returned as they came.
  const transient = (a: Answer) => a.status === 0 || (a.status === 502 && a.servedBy !== preferred && a.body?.errorType === 'RegionUnreachable' && /\(ECONNRESET\)/.test(a.body?.message ?? ''));
  let answer = await once();
  for (let retry = 0; retry < 3 && transient(answer); retry += 1) {
    retries += 1;
    answer = await once();
  }
  return answer;
}

export const accepted = (a: Answer): boolean => (a.status === 200 && !!a.body?.data?.putItem) || a.status === 201 || (a.status === 200 && a.body?.value !== undefined);

export function admin(t: TestEmulator, path: string, body?: unknown): Promise<Answer> {
  return send(`${t.endpoints.adminUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

/**
 * A subscriber's changes per id, in arrival order, de-duplicated the way the project tells subscribers to: delivery
 * is at-least-once (a notifier publish retried after a lost answer arrives twice), and (publishedRegion,
 * sequenceNumber) names a change. Duplicates are counted in `redelivered`, and the drills report them.
 */
export const redelivered = new WeakMap<Subscriber, number>();
export function byId(sub: Subscriber): Map<string, Array<Record<string, unknown>>> {
  sub.changes('');
  const m = new Map<string, Array<Record<string, unknown>>>();
  const seen = new Set<string>();
  let dups = 0;
  for (const c of sub.data) {
    const key = `${String(c.publishedRegion)}/${String(c.sequenceNumber)}`;
    if (seen.has(key)) {
      dups += 1;
      continue;
    }
    seen.add(key);
    m.set(String(c.id), [...(m.get(String(c.id)) ?? []), c]);
  }
  redelivered.set(sub, dups);
  return m;
}

export function putIn(t: TestEmulator, region: string, id: string, value: string): Promise<Answer> {
  const ep = t.endpoints.regions[region];
  return send(ep.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ep.apiKey }, body: JSON.stringify({ query: PUT, variables: { input: { id, value } } }) });
}

// straight to stdout, past test/support/quiet.ts: the drills' measurements belong in the test report
export const report = (drill: string, lines: Record<string, string | number>) =>
  process.stdout.write(`    [drill] ${drill}: ${Object.entries(lines).map(([k, v]) => `${k} ${v}`).join('; ')}\n`);
