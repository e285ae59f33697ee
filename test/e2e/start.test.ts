/**
 * `npm start` as a user runs it (local/start.ts in a child process, real ports): ready with a table of endpoints and
 * the endpoints file; Ctrl-C stops everything — the DynamoDB Local JVM included — and leaves no port listening; a
 * port in use, a missing Java and bad config are one clear message each, with no stack trace and nothing left behind.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { EndpointsFile } from '../../local/emulator';
import { eventually } from '../support/eventually';

const ROOT = path.resolve(__dirname, '../..');

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

/** `group`: the child leads a process group of its own, so a test can signal it as a terminal does (Ctrl-C). */
function run(args: string[], env: NodeJS.ProcessEnv = process.env, group = false): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

/** A base port whose emulator ports (router base, admin base+1, regions base+10 .. base+21) are free now. */
async function freeBase(): Promise<number> {
  for (;;) {
    // below Linux's ephemeral range (32768-60999): other tests' free-port listeners and outgoing connections take
    // ports from there, and one of them once took a port of this range between the check and npm start's own
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = [base, base + 1, base + 10, base + 11, base + 20, base + 21];
    if ((await Promise.all(ports.map(refused))).every(Boolean)) return base;
  }
}

function javaProcessesOn(port: number): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('LoopbackDynamoDBLocal') && new RegExp(`-port ${port}(\\s|$)`).test(l));
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ga-start-'));

describe('npm start (local/start.ts as a child process)', function () {
  // guards against a hang only: npm start loads the project's modules and a JVM, ~15 s on an idle 2-core machine and over 45 s on
  // one loaded by parallel test files
  this.timeout(240_000);

  describe('one run, from start to Ctrl-C', () => {
    // one emulator for both steps (each npm start boots a JVM and loads the project: seconds of CPU apiece); the
    // child leads its own process group, so the stop is what a terminal's Ctrl-C sends to npm and node alike
    let base: number;
    let file: string;
    let r: Run;
    let e: EndpointsFile;
    before(async () => {
      base = await freeBase();
      file = path.join(tmp(), 'endpoints.json');
      r = run(['--port', String(base), '--endpoints', file], process.env, true);
      const deadline = Date.now() + 180_000;
      while (!fs.existsSync(file) && Date.now() < deadline && r.child.exitCode === null) await new Promise((res) => setTimeout(res, 100));
      assert.ok(fs.existsSync(file), `no endpoints file; stdout:\n${r.out()}\nstderr:\n${r.err()}`);
      e = JSON.parse(fs.readFileSync(file, 'utf8')) as EndpointsFile;
    });
    after(() => {
      try {
        process.kill(-(r.child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    });

    it('serves every region of the dev stack and prints the endpoints, with one DynamoDB Local JVM', async () => {
      assert.deepEqual(Object.keys(e.regions), ['eu-west-1', 'ap-southeast-2']);
      assert.equal(e.regions['eu-west-1'].graphqlUrl, `http://127.0.0.1:${base + 10}/graphql`);
      assert.equal(e.regions['ap-southeast-2'].restUrl, `http://127.0.0.1:${base + 21}/live`);
      // the table is printed right after the file is written: wait for its rows
      await eventually('a table row per region', () => Object.keys(e.regions).every((name) => r.out().split('\n').some((l) => l.startsWith(name))), 20_000);
      for (const [name, reg] of Object.entries(e.regions)) {
        const row = r.out().split('\n').find((l) => l.startsWith(name));
        assert.ok(row, `a table row for ${name} in:\n${r.out()}`);
        for (const v of [reg.graphqlUrl, reg.realtimeUrl, reg.restUrl, reg.apiKey]) assert.ok(row.includes(v), `${v} in "${row}"`);
      }
      let health = 0;
      for (let i = 0; i < 50 && health !== 200; i += 1) health = (await fetch(`${e.regions['ap-southeast-2'].restUrl}/health`)).status;
      assert.equal(health, 200, 'the region answers /health (first calls may time out on a loaded machine)');
      assert.equal(javaProcessesOn(Number(new URL(e.dynamodbEndpoint).port)).length, 1, 'one DynamoDB Local JVM');
      // AWS's write bound by default, and the limits that make it up
      assert.match(r.out(), /\] write bound 30 s \(as in AWS\): GraphQL requests end at 30 s, the items function at 10 s\n/);
    });

    it('Ctrl-C (SIGINT to the whole process group, as a terminal sends it) after writes: a clean stop, no "fetch failed" line, no process and no listening port left, the endpoints file removed', async () => {
      const deadline = Date.now() + 60_000;
      const headers = { 'x-api-key': e.globalApiKey, 'content-type': 'application/json' };
      const put = await fetch(`${e.regions['eu-west-1'].restUrl}/items/ctrl-c`, { method: 'PUT', headers, body: JSON.stringify({ value: 'before the stop' }) });
      assert.equal(put.status, 201, await put.text());
      // the write reached the other region: the replicator's and the notifiers' stream pollers are all reading
      let there = 0;
      while (there !== 200) {
        assert.ok(Date.now() < deadline, 'the write never replicated');
        there = (await fetch(`${e.regions['ap-southeast-2'].restUrl}/items/ctrl-c`, { headers })).status;
      }
      const ddbPort = Number(new URL(e.dynamodbEndpoint).port);
      process.kill(-(r.child.pid as number), 'SIGINT');
      assert.equal(await r.exited, 0, r.err());
      const printed = `${r.out()}\n${r.err()}`;
      assert.match(printed, /SIGINT: stopping/);
      assert.doesNotMatch(printed, /fetch failed|stream poller|retrying/, 'nothing reads as an error when the emulator stops');
      const ports = [base, base + 1, base + 10, base + 11, base + 20, base + 21, ddbPort];
      assert.deepEqual(await Promise.all(ports.map(refused)), ports.map(() => true), 'nothing listens any more');
      assert.deepEqual(javaProcessesOn(ddbPort), [], 'the JVM is stopped too');
      assert.equal(fs.existsSync(file), false, 'the endpoints file is removed with the emulator');
    });
  });

  it('--auth token: prints the token command, which mints a token the emulator accepts, run as printed', async () => {
    const base = await freeBase();
    const file = path.join(tmp(), 'endpoints.json');
    const r = run(['--port', String(base), '--endpoints', file, '--auth', 'token']);
    try {
      const deadline = Date.now() + 60_000;
      // the command is printed after the endpoints file is written: wait for the line
      while (!/^ {2}TOKEN=\$\(.*\)$/m.test(r.out()) && Date.now() < deadline && r.child.exitCode === null) await new Promise((res) => setTimeout(res, 100));
      const printed = /^ {2}TOKEN=\$\((.*)\)$/m.exec(r.out())?.[1];
      assert.ok(printed, `no token command printed; stdout:\n${r.out()}\nstderr:\n${r.err()}`);
      assert.match(r.out(), /token mode: send "authorization: <token>" everywhere; mint a token with/);
      const e = JSON.parse(fs.readFileSync(file, 'utf8')) as EndpointsFile;
      assert.equal(e.auth.mode, 'token');
      assert.equal(printed, e.auth.mode === 'token' ? e.auth.tokenCommand : '', 'the endpoints file holds the same command');
      const token = execFileSync('bash', ['-c', `TOKEN=$(${printed}) && printf %s "$TOKEN"`], { cwd: ROOT, encoding: 'utf8' });
      const url = `${e.globalUrl}/live/items/from-start`;
      const put = await fetch(url, { method: 'PUT', headers: { authorization: token, 'content-type': 'application/json' }, body: JSON.stringify({ value: 'token mode' }) });
      assert.equal(put.status, 201, await put.text());
      assert.equal((await fetch(url)).status, 401, 'without the token: refused');
      r.child.kill('SIGINT');
      assert.equal(await r.exited, 0, r.err());
      assert.equal(fs.existsSync(path.join(path.dirname(file), 'token-secret')), false, 'the local secret goes with the emulator');
    } finally {
      r.child.kill('SIGKILL');
    }
  });

  it('a port in use is one line naming the port, found before anything starts', async () => {
    const base = await freeBase();
    const blocker = net.createServer();
    await new Promise<void>((res) => blocker.listen(base + 20, '127.0.0.1', res));
    const file = path.join(tmp(), 'endpoints.json');
    try {
      const r = run(['--port', String(base), '--endpoints', file]);
      assert.equal(await r.exited, 1);
      assert.equal(r.err().trim(), `port ${base + 20} is already in use on 127.0.0.1: stop what holds it, or choose other ports with --port`);
      assert.equal(fs.existsSync(file), false);
      assert.doesNotMatch(r.out(), /DynamoDB Local on|region /, 'nothing came to serve');
      assert.equal(await refused(base + 10), true, 'no region serves');
    } finally {
      blocker.close();
    }
  });

  it('without Java it says what to install, with no stack trace', async () => {
    const bin = tmp();
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const r = run(['--port', String(await freeBase()), '--endpoints', path.join(bin, 'e.json')], { ...process.env, PATH: bin });
    assert.equal(await r.exited, 1);
    assert.match(r.err(), /^java was not found\. DynamoDB Local .* needs a Java 17\+ JDK .*openjdk-17-jdk-headless/);
    assert.doesNotMatch(r.err(), /\n\s+at /, 'no stack trace');
  });

  it('bad config and bad flags are named, exit code 2', async () => {
    const [stack, regions, lag, boundWord, boundShort] = [
      run(['--stack', 'nope']),
      run(['--regions', 'eu-west-1,eu-west-9']),
      run(['--replication-lag', 'soon']),
      run(['--write-bound', '5s']),
      run(['--write-bound', '2500']),
    ];
    assert.deepEqual(await Promise.all([stack.exited, regions.exited, lag.exited, boundWord.exited, boundShort.exited]), [2, 2, 2, 2, 2]);
    assert.match(stack.err(), /--stack: "nope" — no Pulumi\.nope\.yaml; stacks here: dev, prod/);
    assert.match(regions.err(), /regions\[1\]: "eu-west-9" — not an AWS region/);
    assert.match(lag.err(), /--replication-lag soon: 0, a number of milliseconds up to 600000, or realistic/);
    assert.match(boundWord.err(), /^--write-bound 5s: a whole number of milliseconds up to 30000 \(AWS's bound\), at least stateCacheMs \+ 2000\n/);
    // the least bound depends on the stack's stateCacheMs (dev: 1 s): refused before any JVM starts
    assert.equal(boundShort.err(), '--write-bound 2500: a whole number of milliseconds from 3000 (stateCacheMs 1000 + 2000 for the items function) to 30000 (AWS\'s bound)\n');
  });
});
