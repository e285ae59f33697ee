/**
 * Helpers for the local emulator's stream tests: item writes and reads on DynamoDB Local in any region, polling
 * until a condition holds, and a scriptable HTTP proxy in front of DynamoDB Local (127.0.0.1) that can answer a
 * chosen call with an error — the way to make DynamoDB Local's iterator expiry and outages happen on demand.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchWriteItemCommand, DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ddbClient, dynamoEndpoint } from '../support/dynamodb';

export async function put(region: string, table: string, item: Record<string, unknown>): Promise<void> {
  await ddbClient(region).send(new PutItemCommand({ TableName: table, Item: marshall(item) }));
}

/** Up to 25 items in one BatchWriteItem (DynamoDB's limit per call); what DynamoDB Local leaves unprocessed is sent again. */
export async function putBatch(region: string, table: string, items: Record<string, unknown>[]): Promise<void> {
  if (items.length > 25) throw new Error(`putBatch: at most 25 items per call, got ${items.length}`);
  let requests = items.map((i) => ({ PutRequest: { Item: marshall(i) } }));
  while (requests.length > 0) {
    const out = await ddbClient(region).send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
    requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
  }
}

export async function del(region: string, table: string, id: string): Promise<void> {
  await ddbClient(region).send(new DeleteItemCommand({ TableName: table, Key: marshall({ id }) }));
}

export async function get(region: string, table: string, id: string): Promise<Record<string, unknown> | null> {
  const out = await ddbClient(region).send(new GetItemCommand({ TableName: table, Key: marshall({ id }), ConsistentRead: true }));
  return out.Item ? unmarshall(out.Item) : null;
}

export async function disableStream(region: string, table: string): Promise<void> {
  await ddbClient(region).send(new UpdateTableCommand({ TableName: table, StreamSpecification: { StreamEnabled: false } }));
}

/** An item as the items handler writes it. */
export function item(id: string, value: string, updatedAt: string, updatedRegion: string, version = 1): Record<string, unknown> {
  return { id, value, version, updatedAt, updatedRegion };
}

export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ProxiedCall {
  target: string;
  body: Record<string, unknown>;
  status: number;
  /** Epoch ms when the call arrived. */
  at: number;
}

export interface FaultRule {
  /** x-amz-target suffix, e.g. 'GetRecords'. */
  target: string;
  status: number;
  type: string;
  message: string;
  /** How many matching calls get the fault. */
  times: number;
}

/** A proxy in front of DynamoDB Local that records every call and answers scripted faults instead of forwarding. */
export class FaultyProxy {
  readonly calls: ProxiedCall[] = [];
  private rules: FaultRule[] = [];
  private holds: Array<{ target: string; reached: () => void; gate: Promise<void> }> = [];
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<FaultyProxy> {
    const upstream = dynamoEndpoint();
    let proxy: FaultyProxy | undefined = undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void proxy!.forward(upstream, req, Buffer.concat(chunks).toString('utf8'), res);
      });
    });
    proxy = new FaultyProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  fault(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  /**
   * The next `target` call is forwarded as usual, but its answer is held back until release(): `held` resolves once
   * DynamoDB Local has answered it and the answer waits (the caller is then mid-call, its request already served).
   */
  holdNextReply(target: string): { held: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const held = new Promise<void>((r) => (reached = r));
    this.holds.push({ target, reached, gate });
    return { held, release };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async forward(upstream: string, req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      // keep {}
    }
    const rule = this.rules.find((r) => r.target === target && r.times > 0);
    if (rule) {
      rule.times -= 1;
      this.calls.push({ target, body: parsed, status: rule.status, at: Date.now() });
      res.writeHead(rule.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${rule.type}`, message: rule.message }));
      return;
    }
    const at = Date.now();
    try {
      const up = await fetch(upstream, {
        method: 'POST',
        headers: {
          'content-type': String(req.headers['content-type'] ?? 'application/x-amz-json-1.0'),
          'x-amz-target': String(req.headers['x-amz-target'] ?? ''),
          authorization: String(req.headers.authorization ?? ''),
        },
        body,
      });
      const text = await up.text();
      this.calls.push({ target, body: parsed, status: up.status, at });
      const hold = this.holds.findIndex((h) => h.target === target);
      if (hold >= 0) {
        const [h] = this.holds.splice(hold, 1);
        h.reached();
        await h.gate;
      }
      res.writeHead(up.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(text);
    } catch (err) {
      res.writeHead(502);
      res.end(String(err));
    }
  }
}
