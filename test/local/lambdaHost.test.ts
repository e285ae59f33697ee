/**
 * local/lambdaHost.ts runs a bundled handler the way Lambda runs a function: a sandbox (worker thread) is started on
 * the first invocation, reused by the next ones, and replaced — on the next invocation — after a configuration
 * update. The health bundle is used because it answers without a table when DRAIN is set, and with a clear
 * "unreachable" when the table endpoint refuses connections.
 *
 * The timeout: the handler's context counts down to the deadline the host fixed at invoke (a cold start is the
 * handler's loss), and at the timeout the sandbox ends, so a handler cannot write after its caller was told it timed
 * out. Those tests run small handlers of their own (written to a temporary directory) that call an HTTP server the
 * test runs: the server holds a request until the test answers it, and counts the "writes" that reach it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { bundleHandler } from '../../components/bundle';
import { FunctionError, LambdaHost } from '../../local/lambdaHost';
import { restEvent } from '../support/apigw';

/** Rejects with the FunctionError, or fails the test when `p` resolves. */
async function failure(p: Promise<unknown>): Promise<FunctionError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FunctionError, String(err));
    return err;
  }
  throw new Error('expected the invocation to fail, it succeeded');
}

/** Holds each GET /hold?id= until the test answers it; records each GET /write?id= (answered at once). */
class HoldServer {
  readonly writes: string[] = [];
  private readonly holds = new Map<string, { res: http.ServerResponse; socketClosed: Promise<unknown> }>();
  private readonly waiting = new Map<string, (h: { res: http.ServerResponse; socketClosed: Promise<unknown> }) => void>();
  private onWrite?: () => void;
  /** Resolves at the first write. */
  readonly wrote = new Promise<void>((resolve) => (this.onWrite = resolve));
  private readonly server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const id = url.searchParams.get('id') ?? '';
    if (url.pathname === '/write') {
      this.writes.push(id);
      this.onWrite?.();
      res.end('written');
      return;
    }
    const h = { res, socketClosed: once(req.socket, 'close') };
    this.holds.set(id, h);
    this.waiting.get(id)?.(h);
  });

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The held request of `id`, once it has arrived. */
  held(id: string): Promise<{ res: http.ServerResponse; socketClosed: Promise<unknown> }> {
    const h = this.holds.get(id);
    return h ? Promise.resolve(h) : new Promise((resolve) => this.waiting.set(id, resolve));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('local Lambda host: sandboxes start on demand', function () {
  this.timeout(60_000);
  let host: LambdaHost | undefined;
  before(() => void bundleHandler('health'));
  afterEach(() => host?.stop());

  const health = async (h: LambdaHost): Promise<{ status: number; reason: string }> => {
    const res = await h.invoke<APIGatewayProxyResult>(restEvent({ method: 'GET', resource: '/health' }));
    return { status: res.statusCode, reason: (JSON.parse(res.body) as { reason: string }).reason };
  };

  it('starts no sandbox until invoked, reuses it, and starts a fresh one (with the new environment) only when invoked after an update', async () => {
    host = new LambdaHost({
      handler: 'health',
      region: 'eu-west-1',
      functionName: 'bench-health',
      environment: { APP_CONFIG_TABLE: 'app-config', PRIMARY_REGION: 'eu-west-1', DRAIN: 'true' },
      // nothing listens on port 9: a table call fails at once
      dynamodbEndpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    assert.equal(host.coldStarts, 0, 'constructing the function starts no sandbox');

    assert.deepEqual(await health(host), { status: 503, reason: 'region eu-west-1 is drained by the DRAIN environment variable' });
    assert.equal(host.coldStarts, 1);
    assert.equal((await health(host)).status, 503);
    assert.equal(host.coldStarts, 1, 'a warm sandbox is reused');

    host.updateEnvironment({ DRAIN: undefined });
    assert.equal(host.coldStarts, 1, 'an update starts nothing by itself');
    const after = await health(host);
    assert.equal(host.coldStarts, 2, 'the first invocation after the update is a cold start');
    assert.equal(after.status, 503);
    assert.match(after.reason, /^the app-config table is unreachable/, 'the new sandbox has the new environment (no DRAIN): it tried the table');
    assert.equal(host.invocations, 3);

    await host.stop();
    await assert.rejects(health(host), (e: Error) => e.name === 'FunctionError' && /has been stopped/.test(e.message));
    assert.equal(host.coldStarts, 2, 'a stopped function starts no sandbox (its thread would keep the process alive)');
  });

  describe('the timeout', () => {
    let dir: string;
    const COLD_START_MS = 300;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'lambda-host-'));
      // a cold start the test can count on: the module's own code takes COLD_START_MS before the handler is ready
      writeFileSync(
        path.join(dir, 'clock.js'),
        `const until = Date.now() + ${COLD_START_MS}; while (Date.now() < until) {}
exports.handler = async (event, context) => { const remaining = context.getRemainingTimeInMillis(); return { remaining, now: Date.now() }; };`,
      );
      // waits for the test's answer to /hold, then writes
      writeFileSync(
        path.join(dir, 'writer.js'),
        `exports.handler = async (event) => { await fetch(event.url + '/hold?id=' + event.id); await fetch(event.url + '/write?id=' + event.id); return 'written'; };`,
      );
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const fn = (bundle: string, timeoutMs: number) =>
      new LambdaHost({
        handler: 'health',
        bundle: path.join(dir, bundle),
        region: 'eu-west-1',
        functionName: `timeout-${bundle}`,
        environment: {},
        dynamodbEndpoint: 'http://127.0.0.1:9',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        timeoutMs,
      });

    it('getRemainingTimeInMillis counts down to the deadline fixed at invoke: a cold start is time the handler no longer has', async () => {
      const timeoutMs = 10_000;
      host = fn('clock.js', timeoutMs);
      const before = Date.now();
      const answer = host.invoke<{ remaining: number; now: number }>({});
      const after = Date.now();
      const { remaining, now } = await answer;
      // remaining was read at most a millisecond before now: now + remaining is the deadline (+0/+1 ms)
      assert.ok(now + remaining >= before + timeoutMs && now + remaining <= after + timeoutMs + 1, `the deadline the handler sees (${now + remaining}) is invoke + ${timeoutMs} (${before + timeoutMs}..${after + timeoutMs})`);
      assert.ok(remaining <= timeoutMs - COLD_START_MS + (after - before), `a cold start of ${COLD_START_MS} ms leaves at most ${timeoutMs - COLD_START_MS} ms, got ${remaining}`);
      assert.equal(host.coldStarts, 1);
    });

    it('at the timeout the sandbox ends: the handler cannot write after its caller was told it timed out, and invocations sharing the sandbox end with it', async () => {
      const server = new HoldServer();
      const url = await server.start();
      try {
        host = fn('writer.js', 1000);
        const a = failure(host.invoke({ url, id: 'a' }));
        await server.held('a');
        // a second invocation in the same sandbox, still running when the first times out
        const b = failure(host.invoke({ url, id: 'b' }));
        const holdB = await server.held('b');
        const errA = await a;
        assert.equal(errA.errorType, 'Sandbox.Timedout');
        assert.equal(errA.errorMessage, 'Task timed out after 1.00 seconds');
        const errB = await b;
        assert.equal(errB.errorType, 'Runtime.ExitError', 'the second invocation ends with the sandbox, before its own timeout');
        assert.match(errB.errorMessage, /^the sandbox was ended when invocation timeout-writer\.js-1 timed out/);
        // both handlers would now go on to write, if they still ran
        const holdA = await server.held('a');
        holdA.res.end('go');
        holdB.res.end('go');
        const outcome = await Promise.race([server.wrote.then(() => 'a write arrived'), Promise.all([holdA.socketClosed, holdB.socketClosed]).then(() => 'the sandbox is gone')]);
        assert.equal(outcome, 'the sandbox is gone');
        assert.deepEqual(server.writes, []);
        assert.equal(host.errors, 2);
        // the next invocation gets a fresh sandbox
        const c = host.invoke({ url, id: 'c' });
        (await server.held('c')).res.end('go');
        assert.equal(await c, 'written');
        assert.deepEqual(server.writes, ['c']);
        assert.equal(host.coldStarts, 2);
      } finally {
        await host?.stop();
        await server.stop();
      }
    });
  });

  it("a sandbox starts with none of the host's Node options (the bundle is plain JavaScript, as Lambda runs it)", async () => {
    // the precondition: this process runs with options (mocha's workers load TypeScript through --import tsx)
    assert.ok(process.execArgv.length > 0, `the test process has Node options (${JSON.stringify(process.execArgv)})`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lambda-host-'));
    writeFileSync(path.join(dir, 'argv.js'), 'exports.handler = async () => process.execArgv;');
    const host = new LambdaHost({
      handler: 'health',
      bundle: path.join(dir, 'argv.js'),
      region: 'eu-west-1',
      functionName: 'argv',
      environment: {},
      dynamodbEndpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      assert.deepEqual(await host.invoke<string[]>({}), []);
    } finally {
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
