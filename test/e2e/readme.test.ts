/**
 * The README's "Try it" examples, run as a user would run them against a running emulator: the bash blocks with
 * bash and curl in a folder holding `.emulator/endpoints.json`, each twice (they write fresh ids, so a rerun prints
 * the same), and the subscription example as its block says, `node examples/subscribe.mjs` (aws-amplify v6 with
 * its WebSocket shim), hearing the GraphQL example's write. Each `# {...}` comment under a command is the output it
 * promises, `...` standing for anything: the test checks every promised line appears, in order.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTestEmulator, type TestEmulator } from '../support/emulator';

const ROOT = path.resolve(__dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The fenced block that follows `<!-- example:<name> -->`. */
function example(name: string): string {
  const m = new RegExp(`<!-- example:${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(README);
  if (!m) throw new Error(`README.md has no example:${name} block`);
  return m[1];
}

/** The outputs a block promises, as regular expressions (`...` = anything). */
function promised(block: string, comment: string): RegExp[] {
  return block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(`${comment} {`))
    .map((l) => new RegExp(l.slice(comment.length + 1).split('...').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')));
}

function assertInOrder(output: string, expected: RegExp[], what: string): void {
  const lines = output.split('\n');
  let at = 0;
  for (const re of expected) {
    const i = lines.findIndex((l, j) => j >= at && re.test(l));
    assert.ok(i >= 0, `${what}: no line matching ${re} after line ${at} in:\n${output}`);
    at = i + 1;
  }
}

describe('README examples against the emulator', function () {
  this.timeout(60_000);
  let t: TestEmulator;
  let dir: string;

  before(async () => {
    t = await startTestEmulator();
    // a folder laid out like the project as a user has it: .emulator/endpoints.json, node_modules, examples/
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ga-readme-'));
    fs.mkdirSync(path.join(dir, '.emulator'));
    fs.copyFileSync(t.endpointsFile, path.join(dir, '.emulator', 'endpoints.json'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    fs.symlinkSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'));
  });
  after(async () => {
    await t?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A bash block run as a user runs it; curl's JSON has no final newline, so a wrapper adds one (keeping its status). */
  const bash = async (block: string): Promise<string> => {
    const script = `curl() { command curl "$@"; local status=$?; echo; return $status; }\n${block}`;
    return (await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir })).stdout;
  };

  for (const name of ['rest', 'graphql']) {
    it(`example:${name} prints what the README says, the second run too (a fresh id each time)`, async () => {
      const block = example(name);
      const expected = promised(block, '#');
      assert.ok(expected.length >= 2, 'the block promises some output');
      for (const run of ['first', 'second']) assertInOrder(await bash(block), expected, `example:${name}, ${run} run`);
    });
  }

  it('example:subscribe runs examples/subscribe.mjs (aws-amplify v6) and hears the GraphQL example\'s write, made in the other region', async () => {
    const block = example('subscribe');
    const expected = promised(block, '#');
    assert.ok(expected.length >= 1, 'the block promises the change it prints');
    const command = block.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    assert.deepEqual(command, ['node examples/subscribe.mjs'], 'the block runs the shipped example');
    // its own process group: the test stops bash and node together
    const child = spawn('bash', ['-c', `exec ${command[0]}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      // the subscription is open once the region counts it
      const deadline = Date.now() + 30_000;
      while (t.emulator.region('eu-west-1').subscriptions() === 0) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `the example never subscribed; stderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // "then write as above": the GraphQL example, in ap-southeast-2
      const written = /"putItem":\{"id":"(gql-\d+)"/.exec(await bash(example('graphql')))?.[1];
      assert.ok(written, 'the GraphQL example wrote an item');
      while (!out.includes(`"id":"${written}"`)) {
        assert.ok(Date.now() < deadline, `no change of ${written} in:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assertInOrder(out.split('\n').filter((l) => l.includes(`"id":"${written}"`)).join('\n'), expected, 'example:subscribe');
    } finally {
      process.kill(-(child.pid as number), 'SIGKILL');
    }
  });
});
