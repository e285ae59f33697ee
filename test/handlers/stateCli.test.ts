import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main, type InvokeRequest } from '../../scripts/state';

describe('npm run state (scripts/state.ts main)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-cli-'));
    fs.writeFileSync(
      path.join(dir, 'Pulumi.qa.yaml'),
      'config:\n  global-appsync:regions:\n    - eu-west-1\n    - ap-southeast-2\n  global-appsync:primaryRegion: ap-southeast-2\n',
    );
    fs.writeFileSync(path.join(dir, 'Pulumi.broken.yaml'), 'config:\n  global-appsync:regions: []\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(argv: string[], answer: unknown = { ok: true, changed: true }) {
    const out: string[] = [];
    const err: string[] = [];
    const calls: InvokeRequest[] = [];
    const code = await main(argv, {
      projectDir: dir,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      invoke: async (req) => {
        calls.push(req);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    });
    return { code, out: out.join('\n'), err: err.join('\n'), calls };
  }

  const badArgs: Array<[string, string[], RegExp]> = [
    ['no state', [], /the new state is required/],
    ['unknown state', ['paused'], /"paused" is not a state: allowed are active, fenced, failover/],
    ['two states', ['active', 'fenced'], /give exactly one state, got 2/],
    ['unknown option', ['fenced', '--colour', 'red'], /Unknown option '--colour'/],
    ['option without value', ['fenced', '--reason'], /--reason/],
    ['empty reason', ['fenced', '--reason', '  '], /--reason is empty/],
    ['bad stack name', ['fenced', '--stack', '../etc', '--region', 'eu-west-1'], /--stack "..\/etc" is not a stack name/],
    ['unknown stack without --region', ['fenced', '--stack', 'nope'], /cannot tell which region to use from stack nope.*no Pulumi.nope.yaml; stacks here: broken, qa/s],
    ['invalid stack config without --region', ['fenced', '--stack', 'broken'], /cannot tell which region.*regions/s],
    ['region not in the stack', ['fenced', '--stack', 'qa', '--region', 'us-east-1'], /--region us-east-1 is not one of stack qa's regions: eu-west-1, ap-southeast-2/],
    ['region not a region name', ['fenced', '--stack', 'nope', '--region', 'mars'], /--region "mars" is not an AWS region name/],
  ];
  for (const [name, argv, error] of badArgs) {
    it(`bad arguments: ${name} → usage, exit 2, nothing invoked`, async () => {
      const r = await run(argv);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, error);
      assert.match(r.err, /usage: npm run state -- <active\|fenced\|failover>/);
      assert.equal(r.calls.length, 0);
    });
  }

  it("invokes the stack's state updater in its primary region with the state and reason, and prints the answer", async () => {
    const r = await run(['failover', '--reason', 'eu down', '--stack', 'qa']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.calls, [{ functionName: 'global-appsync-qa-state-updater', region: 'ap-southeast-2', payload: { newState: 'failover', reason: 'eu down' } }]);
    assert.deepEqual(JSON.parse(r.out), { ok: true, changed: true });
  });

  it('honours --region and --function, defaults the reason', async () => {
    const r = await run(['active', '--stack', 'qa', '--region', 'eu-west-1', '--function', 'my-updater']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.calls[0].functionName, 'my-updater');
    assert.equal(r.calls[0].region, 'eu-west-1');
    assert.match(r.calls[0].payload.reason, /^set by npm run state \(.+@.+\)$/);
  });

  it('exits 1 when the updater answers an error or the invoke fails', async () => {
    const refused = await run(['fenced', '--stack', 'qa'], { ok: false, errorType: 'StateConflict', error: 'another update won' });
    assert.equal(refused.code, 1);
    assert.match(refused.out, /StateConflict/);
    const failed = await run(['fenced', '--stack', 'qa'], new Error('no credentials'));
    assert.equal(failed.code, 1);
    assert.match(failed.err, /invoking global-appsync-qa-state-updater in ap-southeast-2 failed: no credentials/);
  });

  it('--help prints the usage and exits 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /usage: npm run state/);
  });
});
