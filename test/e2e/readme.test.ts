/**
 * The command examples of README.md and docs/*.md (each a fenced block under `<!-- example:NAME -->`), run as a user
 * would run them against one running emulator, shared by all of them. The README's "Try it": the bash blocks with
 * bash and curl in a folder holding `.emulator/endpoints.json`, each twice (they write fresh ids, so a rerun prints
 * the same), and the subscription example as its block says, `node examples/subscribe.mjs` (aws-amplify v6 with
 * its WebSocket shim), hearing the GraphQL example's write. Each `# {...}` comment under a command is the output it
 * promises, `...` standing for anything: the test checks every promised line appears, in order.
 * docs/' examples run in the project folder (they call `npm run` scripts), every command must succeed, with one
 * difference from a user's run: each `npm run` gets `--endpoints <the test emulator's file>`, since the scripts'
 * default, the project's own .emulator/endpoints.json, belongs to whatever emulator a developer runs there.
 * Every bash block of docs/ is an example or says why it is not run (`<!-- not-run: why -->`): none goes untested
 * unnoticed.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fencedBlocks, markdownPages } from '../docs/markdown';
import { startTestEmulator, type TestEmulator } from '../support/emulator';

const ROOT = path.resolve(__dirname, '../..');
const BLOCKS = markdownPages().flatMap((page) => fencedBlocks(page));
const DOCS_EXAMPLES = BLOCKS.filter((b) => b.example && b.file.startsWith('docs/'));

/** The fenced block that follows `<!-- example:<name> -->` in README.md or a page of docs/. */
function example(name: string): string {
  const found = BLOCKS.filter((b) => b.example === name);
  if (found.length !== 1) throw new Error(`${found.length} example:${name} blocks in README.md and docs/ (one expected)`);
  return found[0].text;
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

describe('every bash block in docs/ is run or says why not', () => {
  const COMMAND = /^\s*(\$ |npm |npx |node |pulumi |aws |curl |git )/;

  it('each is an example or marked not-run with a reason', () => {
    const docs = BLOCKS.filter((b) => b.file.startsWith('docs/'));
    const unmarked = docs.filter((b) => /^(bash|sh|shell|console|zsh)$/.test(b.lang) && !b.example && !b.notRun);
    assert.deepEqual(unmarked.map((b) => `${b.file}:${b.line}`), [], 'bash blocks with neither <!-- example:NAME --> nor <!-- not-run: why --> above them');
    const unlabelled = docs.filter((b) => b.lang === '' && COMMAND.test(b.text));
    assert.deepEqual(unlabelled.map((b) => `${b.file}:${b.line}`), [], 'blocks of commands without a language: label them bash');
    assert.ok(DOCS_EXAMPLES.length >= 2, `docs/ has runnable examples: ${DOCS_EXAMPLES.map((b) => b.example).join(', ')}`);
  });

  it('finds an unmarked block, and reads a marked one', () => {
    const [bare, run, skipped] = fencedBlocks('x.md', '```bash\nnpm start\n```\n\n<!-- example:a -->\n```bash\nls\n```\n<!-- not-run: needs AWS -->\n  ```bash\n  aws s3 ls\n  ```\n');
    assert.deepEqual([bare.example, bare.notRun, bare.line], [undefined, undefined, 1]);
    assert.deepEqual([run.example, run.text], ['a', 'ls']);
    assert.deepEqual([skipped.notRun, skipped.text], ['needs AWS', 'aws s3 ls']);
  });
});

describe('README and docs examples against the emulator', function () {
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

  for (const b of DOCS_EXAMPLES) {
    it(`${b.file}:${b.line} example:${b.example}: every command succeeds against the emulator and prints what it promises`, async function () {
      this.timeout(300_000); // each `npm run` starts node and loads its script: a second or more apiece on 2 busy cores
      const npm = `npm() { if [ "$1" = run ]; then command npm "$@" --endpoints ${JSON.stringify(t.endpointsFile)}; else command npm "$@"; fi; }`;
      const script = `${npm}\ncurl() { command curl "$@"; local status=$?; echo; return $status; }\n${b.text}`;
      const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, maxBuffer: 16 << 20 });
      assertInOrder(stdout, promised(b.text, '#'), `${b.file} example:${b.example}`);
    });
  }

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
