/**
 * `node --import tsx scripts/bench-region-add.ts [--items 10000] [--writers 4] [--region us-west-2]`: how long
 * the emulator takes to add a region to a stack holding N items while writers keep writing through the global
 * endpoint, and how many writes the global endpoint acknowledged meanwhile. A benchmark, not a test: it prints numbers.
 *
 * Steps: an emulator of the dev stack on free ports (its own DynamoDB Local); N items written into the primary
 * region's table (BatchWriteItem, 25 at a time) and replicated to the others (the replicator's idle()); writers
 * start; `POST /regions/<region>/add` on the admin API; its phases and the writes acknowledged during it are printed;
 * then every acknowledged write is checked in the new region (REST GET), so a fast but lossy add cannot look good.
 */
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Emulator } from '../local/emulator';
import { PREFERRED_HEADER } from '../local/router';
import { localClient } from '../local/tables';
import { runMain } from './runMain';

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { items: { type: 'string', default: '10000' }, writers: { type: 'string', default: '4' }, region: { type: 'string', default: 'us-west-2' } } });
  const items = Number(values.items);
  const writers = Number(values.writers);
  if (!Number.isInteger(items) || items < 1 || !Number.isInteger(writers) || writers < 1) throw new Error('--items and --writers must be positive integers');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ga-bench-region-'));
  const e = await Emulator.start({ stack: 'dev', basePort: 0, endpointsFile: path.join(dir, 'endpoints.json'), logDir: null, health: { intervalMs: 200, failureThreshold: 3 } });
  try {
    const { globalUrl, adminUrl } = e.endpoints;
    const key = e.auth.mode === 'apiKey' ? { 'x-api-key': e.auth.sharedKey } : ({} as Record<string, string>);
    const now = new Date().toISOString();
    const client = localClient(e.dynamodb.endpoint, e.config.primaryRegion);
    const seedStart = performance.now();
    for (let i = 0; i < items; i += 25) {
      const batch = Array.from({ length: Math.min(25, items - i) }, (_, j) => ({
        PutRequest: { Item: marshall({ id: `bench-${i + j}`, value: `v${i + j}`, version: 1, updatedAt: now, updatedRegion: e.config.primaryRegion }) },
      }));
      let pending: typeof batch | undefined = batch;
      while (pending && pending.length > 0) {
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [e.config.tableName]: pending } }));
        pending = out.UnprocessedItems?.[e.config.tableName] as typeof batch | undefined;
      }
    }
    client.destroy();
    await e.replicator.idle();
    console.log(`seeded ${items} items and replicated them in ${Math.round(performance.now() - seedStart)} ms`);

    let running = true;
    let during = false;
    let acceptedDuring = 0;
    let refused = 0;
    const last = new Map<string, string>();
    const loops = Array.from({ length: writers }, async (_, w) => {
      for (let n = 0; running; n += 1) {
        const id = `writer-${w}-${n % 200}`;
        const res = await fetch(`${globalUrl}/live/items/${id}`, { method: 'PUT', headers: { ...key, 'content-type': 'application/json', [PREFERRED_HEADER]: e.config.primaryRegion }, body: JSON.stringify({ value: `${w}-${n}` }) });
        await res.arrayBuffer();
        if (res.status === 200 || res.status === 201) {
          last.set(id, `${w}-${n}`);
          if (during) acceptedDuring += 1;
        } else refused += 1;
      }
    });
    during = true;
    const started = performance.now();
    const res = await fetch(`${adminUrl}/regions/${values.region}/add`, { method: 'POST' });
    const answer = (await res.json()) as { phases?: Array<{ phase: string; ms: number; detail?: unknown }>; totalMs?: number; error?: string };
    const wall = Math.round(performance.now() - started);
    during = false;
    running = false;
    await Promise.all(loops);
    if (res.status !== 200) throw new Error(`add-region answered ${res.status}: ${answer.error}`);
    console.log(`add-region ${values.region}: ${answer.totalMs} ms (${wall} ms at the client), ${items} items`);
    for (const p of answer.phases ?? []) console.log(`  ${p.phase.padEnd(10)} ${String(p.ms).padStart(7)} ms${p.detail ? `  ${JSON.stringify(p.detail)}` : ''}`);
    console.log(`writes acknowledged during the add: ${acceptedDuring} (${((acceptedDuring * 1000) / wall).toFixed(0)}/s, ${writers} writers), refused: ${refused}`);

    await e.replicator.idle();
    const rest = e.endpoints.regions[values.region].restUrl;
    let missing = 0;
    for (const [id, value] of last) {
      const got = await fetch(`${rest}/items/${id}`, { headers: key });
      const body = (await got.json()) as { value?: string };
      if (got.status !== 200 || body.value !== value) missing += 1;
    }
    console.log(`checked in ${values.region}: ${last.size} written ids, ${missing} missing or stale`);
    return missing === 0 && refused === 0 ? 0 : 1;
  } finally {
    await e.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(module, main);
