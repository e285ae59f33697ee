/**
 * URN stability: a resource whose name, type or parent changes is a different resource to Pulumi (delete +
 * create). RegionalApi was split into appsyncApi.ts and restApi.ts; its children must keep the URNs recorded
 * before the split (test/unit/regionalApi-urns.json).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cachedRun } from '../../scripts/mockCloud';

/** `urns`: recorded before the split; `added`: children added since, by the change that added them (never renamed). */
const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, 'regionalApi-urns.json'), 'utf8')) as { urns: string[]; added?: Record<string, string[]> };

describe('URNs', function () {
  this.timeout(120_000);

  it('RegionalApi and every child keep the URNs they had before the split', async () => {
    const run = await cachedRun({ regions: JSON.stringify(['eu-west-1', 'ap-southeast-2']), domain: JSON.stringify({ zoneName: 'example.com', name: 'api.example.com' }) });
    const urns = run.resources.map((r) => `${r.parent} > ${r.type}::${r.name}`).filter((u) => u.includes('RegionalApi')).sort();
    assert.ok(FIXTURE.urns.length > 100, `${FIXTURE.urns.length} recorded URNs`);
    assert.deepEqual(urns, [...FIXTURE.urns, ...Object.values(FIXTURE.added ?? {}).flat()].sort());
  });
});
