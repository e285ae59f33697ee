import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { main } from '../../scripts/plan';
import { lastRun } from '../../scripts/mockCloud';

const ROOT = path.resolve(__dirname, '..', '..');

async function plan(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(...l.split('\n')), (l) => err.push(...l.split('\n')));
  return { code, out, err };
}

describe('npm run plan', function () {
  this.timeout(60_000);

  it('prints prod region by region: three regions, totals that add up, the outputs with secrets masked', async () => {
    const { code, out } = await plan(['--stack', 'prod']);
    assert.equal(code, 0);
    const heads = out.filter((l) => l.startsWith('── ') && l.includes(': ') && l.endsWith(' resources'));
    assert.deepEqual(heads.map((l) => l.slice(3, l.indexOf(':'))), ['us-east-1', 'eu-west-1', 'ap-southeast-2']);
    const counts = heads.map((l) => Number(/: (\d+) resources$/.exec(l)![1]));
    const total = Number(/^ {3}total +(\d+)/.exec(out.find((l) => l.trimStart().startsWith('total'))!)![1]);
    const components = Number(/^ {3}components +(\d+)/.exec(out.find((l) => l.trimStart().startsWith('components'))!)![1]);
    assert.equal(counts.reduce((a, b) => a + b, 0) + components, total);
    assert.equal(total, lastRun().resources.length, 'the total is what the program registered');
    // every listed resource line is a registered resource of that region
    const listed = out.filter((l) => /^ {3}(aws|pulumi):/.test(l)).length;
    assert.equal(listed, total - components);
    assert.ok(out.some((l) => /aws:dynamodb\/table:Table +tables-items +\[protected\]/.test(l)), 'prod tables are protected');
    const start = out.findIndex((l) => l === '{');
    const json = JSON.parse(out.slice(start, out.indexOf('}', start) + 1).join('\n')); // the recovery objectives follow it
    assert.equal(json.apiKeys, '[secret]');
    assert.equal(json.globalUrl, 'https://api.example.com');
    assert.deepEqual(Object.keys(json.regions), ['us-east-1', 'eu-west-1', 'ap-southeast-2']);
  });

  it('--json gives the same plan as data (dev: two regions, no domain)', async () => {
    const { code, out } = await plan(['--stack', 'dev', '--json']);
    assert.equal(code, 0);
    const p = JSON.parse(out.join('\n'));
    assert.deepEqual(Object.keys(p.regions).filter((r) => r !== 'us-east-1').sort(), ['ap-southeast-2', 'eu-west-1']);
    assert.equal(p.outputs.globalUrl, undefined);
    assert.equal(p.regions['eu-west-1'].count, p.regions['eu-west-1'].resources.length);
  });

  it('a bad stack file exits 1 with every config problem, and registers nothing', async () => {
    const file = path.join(ROOT, 'Pulumi.plantest.yaml');
    fs.writeFileSync(file, 'config:\n  global-appsync:regions: eu-west-1,eu-west-9\n  global-appsync:writeMode: single\n');
    try {
      const { code, out, err } = await plan(['--stack', 'plantest']);
      assert.equal(code, 1);
      assert.deepEqual(out, []);
      assert.ok(err.some((l) => l.startsWith('  - regions[1]: "eu-west-9"')));
      assert.ok(err.some((l) => l.startsWith('  - writeMode: "single"')));
      assert.equal(lastRun().resources.length, 0);
    } finally {
      fs.rmSync(file);
    }
  });

  it('an unknown stack or flag is refused with what exists', async () => {
    const missing = await plan(['--stack', 'staging']);
    assert.equal(missing.code, 1);
    assert.match(missing.err.join('\n'), /no Pulumi\.staging\.yaml; stacks here: dev, prod/);
    const flag = await plan(['--stak', 'prod']);
    assert.equal(flag.code, 2);
    assert.match(flag.err.join('\n'), /Unknown option '--stak'[\s\S]*usage: npm run plan/);
  });
});
