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
    // primary listed first: failover must skip it, not just take regions[0]
    fs.writeFileSync(
      path.join(dir, 'Pulumi.tri.yaml'),
      'config:\n  global-appsync:regions:\n    - us-east-1\n    - eu-west-1\n    - ap-southeast-2\n  global-appsync:primaryRegion: us-east-1\n',
    );
    fs.writeFileSync(path.join(dir, 'Pulumi.solo.yaml'), 'config:\n  global-appsync:regions:\n    - eu-central-1\n');
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
    ['unknown stack without --region', ['fenced', '--stack', 'nope'], /cannot tell which region to use from stack nope.*no Pulumi.nope.yaml; stacks here: broken, qa, solo, tri/s],
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

  it("failover without --region invokes the updater in the first region that is not the primary, says why, prints the answer", async () => {
    const r = await run(['failover', '--reason', 'ap-southeast-2 down', '--stack', 'qa']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.calls, [{ functionName: 'global-appsync-qa-state-updater', region: 'eu-west-1', payload: { newState: 'failover', reason: 'ap-southeast-2 down' } }]);
    assert.match(r.err, /^region eu-west-1: failover goes through the first of stack qa's regions \(eu-west-1, ap-southeast-2\) that is not the primary ap-southeast-2, which is likely the region that is down/m);
    assert.match(r.err, /invoking global-appsync-qa-state-updater in eu-west-1: failover \(ap-southeast-2 down\)/);
    assert.deepEqual(JSON.parse(r.out), { ok: true, changed: true });
  });

  it('failover skips the primary even when it is listed first', async () => {
    const r = await run(['failover', '--stack', 'tri']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.calls.map((c) => c.region), ['eu-west-1']);
    assert.match(r.err, /region eu-west-1: .*not the primary us-east-1/);
  });

  it('failover on a single-region stack uses the primary, with a note', async () => {
    const r = await run(['failover', '--stack', 'solo']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.calls.map((c) => c.region), ['eu-central-1']);
    assert.match(r.err, /region eu-central-1: note: stack solo has only one region, so failover goes through the primary eu-central-1's updater/);
  });

  for (const state of ['active', 'fenced']) {
    it(`${state} without --region invokes the primary's updater and says so`, async () => {
      const qa = await run([state, '--stack', 'qa']);
      assert.equal(qa.code, 0, qa.err);
      assert.deepEqual(qa.calls.map((c) => [c.region, c.payload.newState]), [['ap-southeast-2', state]]);
      assert.match(qa.err, new RegExp(`region ap-southeast-2: stack qa's primaryRegion, where ${state} is set \\(the updater refuses it elsewhere\\)`));
      const tri = await run([state, '--stack', 'tri']);
      assert.deepEqual(tri.calls.map((c) => c.region), ['us-east-1']);
    });
  }

  it('--region overrides the default for failover too, and says so', async () => {
    const r = await run(['failover', '--stack', 'tri', '--region', 'ap-southeast-2']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.calls.map((c) => c.region), ['ap-southeast-2']);
    assert.match(r.err, /region ap-southeast-2: given with --region/);
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

  it("prints what every region's replica showed after the change; a raced change exits 1", async () => {
    const answer = {
      ok: true,
      changed: true,
      state: 'fenced',
      version: 6,
      readBack: {
        converged: false,
        waitedMs: 5003,
        regions: {
          'ap-southeast-2': { state: 'fenced', version: 6, updatedAt: '2026-11-30T09:00:00.000Z', updatedRegion: 'ap-southeast-2' },
          'eu-west-1': { state: 'active', version: 5, updatedAt: '2026-11-30T08:00:00.000Z', updatedRegion: 'eu-west-1' },
        },
      },
    };
    const lagging = await run(['fenced', '--stack', 'qa'], answer);
    assert.equal(lagging.code, 0, lagging.err);
    assert.match(lagging.err, /read back from every region after 5003 ms:\n {2}ap-southeast-2 {2}fenced v6 2026-11-30T09:00:00.000Z from ap-southeast-2\n {2}eu-west-1 {7}active v5 2026-11-30T08:00:00.000Z from eu-west-1 \(not this change yet\)\nnot every region shows the change yet/);
    const unreadable = await run(['fenced', '--stack', 'qa'], { ...answer, readBack: { converged: false, waitedMs: 9, regions: { 'eu-west-1': { error: 'TimeoutError' } } } });
    assert.match(unreadable.err, / {2}eu-west-1 {2}unreadable \(TimeoutError\)/);
    const raced = await run(['fenced', '--stack', 'qa'], { ...answer, readBack: { ...answer.readBack, raced: 'eu-west-1 holds version 6 (failover, ...)' } });
    assert.equal(raced.code, 1);
    assert.match(raced.err, /RACED: eu-west-1 holds version 6/);
  });

  it('a failover that waits out the write bound says when the regions take writes; other answers say nothing of it', async () => {
    const from = Date.now() + 29_500;
    const r = await run(['failover', '--stack', 'qa'], { ok: true, changed: true, state: 'failover', version: 7, writesFromMs: from });
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`take writes from ${new Date(from).toISOString()} \\(in (29|30) s\\): until then a write that read the previous state may still commit in the primary`));
    assert.deepEqual(JSON.parse(r.out).writesFromMs, from, 'the answer as the updater gave it');
    for (const answer of [{ ok: true, changed: true, state: 'failover', version: 7 }, { ok: true, changed: true, state: 'fenced', writesFromMs: from }]) {
      assert.doesNotMatch((await run(['failover', '--stack', 'qa'], answer)).err, /take writes from/);
    }
  });

  it('--takeover passes the reason to the updater of the given region; it needs --region', async () => {
    const r = await run(['fenced', '--stack', 'qa', '--region', 'eu-west-1', '--takeover', 'ap-southeast-2 unreachable']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.calls[0].payload.takeover, 'ap-southeast-2 unreachable');
    const noRegion = await run(['fenced', '--stack', 'qa', '--takeover', 'x']);
    assert.equal(noRegion.code, 2);
    assert.match(noRegion.err, /--takeover needs a reason and --region/);
  });

  it('--help prints the usage and exits 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /usage: npm run state/);
    assert.match(r.out, /for failover the first of the stack's regions that is not\s+the primaryRegion/);
    assert.match(r.out, /Allowed moves: active -> fenced\|failover, fenced -> active\|failover, failover -> fenced\./);
  });
});
