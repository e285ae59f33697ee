/**
 * The README's "Try it" examples, run as a user would run them against a running emulator: the bash blocks with
 * bash and curl in a folder holding `.emulator/endpoints.json`, the subscription example as `node subscribe.mjs`
 * (aws-amplify v6 with the README's shim). Each `# {...}` / `// {...}` comment under a command is the output it
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
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ga-readme-'));
    fs.mkdirSync(path.join(dir, '.emulator'));
    fs.copyFileSync(t.endpointsFile, path.join(dir, '.emulator', 'endpoints.json'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  });
  after(async () => {
    await t?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const name of ['rest', 'graphql']) {
    it(`example:${name} prints what the README says`, async () => {
      const block = example(name);
      const expected = promised(block, '#');
      assert.ok(expected.length >= 2, 'the block promises some output');
      // curl prints JSON without a final newline: a wrapper adds one so each answer is a line of its own
      const script = `curl() { command curl "$@"; echo; }\n${block}`;
      const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir });
      assertInOrder(stdout, expected, `example:${name}`);
    });
  }

  it('example:subscribe (aws-amplify v6 with the shim) receives a write made in the other region', async () => {
    const block = example('subscribe');
    const expected = promised(block, '//');
    // the graphql example made gql-1 already: delete it everywhere first, so the write below is a CREATED again
    const ap = t.endpoints.regions['ap-southeast-2'];
    const eu = t.endpoints.regions['eu-west-1'];
    const call = (r: typeof ap, query: string) =>
      fetch(r.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': r.apiKey }, body: JSON.stringify({ query }) }).then((x) => x.json() as Promise<{ data: Record<string, unknown> }>);
    await call(ap, 'mutation { deleteItem(id: "gql-1") { id } }');
    while ((await call(eu, '{ getItem(id: "gql-1") { id } }')).data.getItem !== null) await new Promise((r) => setTimeout(r, 50));
    fs.writeFileSync(path.join(dir, 'subscribe.mjs'), block);
    const child = spawn(process.execPath, ['subscribe.mjs'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      // the subscription is open once the region counts it
      const deadline = Date.now() + 20_000;
      while (t.emulator.region('eu-west-1').subscriptions() === 0) {
        assert.ok(Date.now() < deadline, `the example never subscribed; stderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await call(ap, 'mutation { putItem(input: {id: "gql-1", value: "from curl"}) { id } }');
      while (!expected.every((re) => re.test(out))) {
        assert.ok(Date.now() < deadline, `no promised line in:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assertInOrder(out, expected, 'example:subscribe');
    } finally {
      child.kill();
    }
  });
});
