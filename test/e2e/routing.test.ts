/**
 * The emulator's global endpoint (local/router.ts) and fault controls (local/admin.ts, scripts/emulator.ts,
 * `npm run state -- --local`) over real sockets: routing by preferred region and config order with x-served-by,
 * one global API key swapped for the region's AppSync key, failing open (as Route53) when no region is healthy,
 * the FIS-shaped replication pause (region, duration), and every bad input answered with an error that names it.
 * The router's own rules (redirects not followed, the answer deadline) against small local HTTP servers.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { main as emulatorCli } from '../../scripts/emulator';
import { main as stateCli } from '../../scripts/state';
import { FaultControls, parseIsoDuration } from '../../local/drills';
import { describeHealth, resolveHealth, startRouter, type Router } from '../../local/router';
import { eventually, startTestEmulator, TEST_WRITE_BOUND_MS, type TestEmulator } from '../support/emulator';

const EU = 'eu-west-1'; // first in the dev stack's regions
const AP = 'ap-southeast-2';
const PUT = 'mutation Put($input: PutItemInput!) { putItem(input: $input) { id value version updatedRegion } }';
// Route53's threshold, its interval scaled 1:150; an answer may take up to 10 s (Route53: 2 s), so that a loaded
// machine's slow answer is not taken for an outage (none of these tests needs a hanging region detected)
const HEALTH = { intervalMs: 200, failureThreshold: 3, timeoutMs: 10_000 };

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, servedBy: res.headers.get('x-served-by'), body: (text ? JSON.parse(text) : null) as any };
}

describe('global endpoint and admin API (emulator, two regions)', function () {
  // two tests wait out the write bound (scaled to TEST_WRITE_BOUND_MS) between fenced and active
  this.timeout(150_000);
  let t: TestEmulator;
  let g: string;
  let admin: string;
  const gqlGlobal = (query: string, variables: unknown, headers: Record<string, string> = {}, key: string | null = t.endpoints.globalApiKey) =>
    call(`${g}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'x-api-key': key }), ...headers }, body: JSON.stringify({ query, variables }) });
  const post = (path: string, body?: unknown) => call(`${admin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const cli = async (fn: typeof emulatorCli, argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await fn(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  before(async () => {
    t = await startTestEmulator({}, { health: HEALTH, writeBoundMs: TEST_WRITE_BOUND_MS });
    g = t.endpoints.globalUrl;
    admin = t.endpoints.adminUrl;
  });
  after(async () => {
    await t?.stop();
  });

  it('adds globalUrl, globalApiKey and adminUrl to the endpoints file, and prints the health-check scale', () => {
    assert.match(g, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(admin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(t.endpoints.globalApiKey, /^da2-[a-z0-9]{26}$/);
    for (const r of [EU, AP]) assert.notEqual(t.endpoints.globalApiKey, t.endpoints.regions[r].apiKey);
    assert.equal(describeHealth(resolveHealth()), 'health checks every 1 s, 3 failures = unhealthy (Route53: 30 s × 3, scaled 1:30)');
    assert.equal(describeHealth(resolveHealth({ intervalMs: 100, failureThreshold: 3 })), 'health checks every 0.1 s, 3 failures = unhealthy (Route53: 30 s × 3, scaled 1:300)');
    // a threshold other than Route53's is not "scaled": say what differs
    assert.equal(describeHealth(resolveHealth({ intervalMs: 100, failureThreshold: 2 })), 'health checks every 0.1 s, 2 failures = unhealthy (Route53: 30 s × 3; interval scaled 1:300, threshold 2 instead of 3)');
    assert.equal(describeHealth(resolveHealth({ intervalMs: 30_000, failureThreshold: 1 })), 'health checks every 30 s, 1 failure = unhealthy (Route53: 30 s × 3; interval scaled 1:1, threshold 1 instead of 3)');
    assert.throws(() => resolveHealth({ failureThreshold: 11 }), /failureThreshold must be an integer from 1 to 10 \(as Route53's\), got 11/);
  });

  it('routes to the preferred region (header or query), else the first region in config order, naming it in x-served-by', async () => {
    const byHeader = await gqlGlobal(PUT, { input: { id: 'r-1', value: 'via-ap' } }, { 'x-preferred-region': AP });
    assert.equal(byHeader.status, 200, JSON.stringify(byHeader.body));
    assert.equal(byHeader.servedBy, AP);
    assert.equal(byHeader.body.data.putItem.updatedRegion, AP, 'the write was made in the region that served it');
    const byQuery = await call(`${g}/live/items/r-2?region=${AP}`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-api-key': t.endpoints.globalApiKey }, body: JSON.stringify({ value: 'q' }) });
    assert.equal(byQuery.status, 201, JSON.stringify(byQuery.body));
    assert.deepEqual([byQuery.servedBy, byQuery.body.writeRegion], [AP, AP]);
    const noPreference = await gqlGlobal(PUT, { input: { id: 'r-3', value: 'default' } });
    assert.deepEqual([noPreference.servedBy, noPreference.body.data.putItem.updatedRegion], [EU, EU]);
    const health = await call(`${g}/live/health`, { headers: { 'x-preferred-region': AP } });
    assert.deepEqual([health.status, health.servedBy, health.body.region], [200, AP, AP]);
  });

  it('refuses a missing or regional API key on /graphql, an unknown preferred region, and unknown paths', async () => {
    const noKey = await gqlGlobal(PUT, { input: { id: 'x', value: 'x' } }, {}, null);
    assert.equal(noKey.status, 401);
    assert.match(noKey.body.errors[0].message, /send the global API key \(globalApiKey/);
    const regionalKey = await gqlGlobal(PUT, { input: { id: 'x', value: 'x' } }, {}, t.endpoints.regions[EU].apiKey);
    assert.equal(regionalKey.status, 401);
    assert.match(regionalKey.body.errors[0].message, /not the global API key/);
    const badRegion = await gqlGlobal(PUT, { input: { id: 'x', value: 'x' } }, { 'x-preferred-region': 'mars-1' });
    assert.equal(badRegion.status, 400);
    assert.match(badRegion.body.message, /preferred region "mars-1" .* is not one of this stack's regions: eu-west-1, ap-southeast-2/);
    const nowhere = await call(`${g}/items/x`);
    assert.equal(nowhere.status, 404);
    assert.match(nowhere.body.message, /POST \/graphql and the REST API under \/live\//);
    assert.equal((await call(`${g}/graphql`)).status, 405);
  });

  it('fails open like Route53 when no region is healthy: routes to the preferred (else first) region, says so and why, in the answer and in admin /health', async () => {
    const router = t.emulator.router;
    assert.equal((await post(`/regions/${EU}/drain`)).status, 200);
    assert.equal((await post(`/regions/${AP}/drain`)).status, 200);
    await Promise.all([router.waitFor(EU, false, 10_000), router.waitFor(AP, false, 10_000)]);
    const first = await call(`${g}/live/items/r-4`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-api-key': t.endpoints.globalApiKey }, body: JSON.stringify({ value: 'fail-open' }) });
    const firstHeaders = await fetch(`${g}/live/health`);
    await firstHeaders.arrayBuffer();
    assert.deepEqual([first.status, first.servedBy, first.body.writeRegion], [201, EU, EU], 'no preference: the first region in config order, which still takes writes');
    assert.equal(firstHeaders.headers.get('x-route53-fail-open'), 'true');
    assert.equal(firstHeaders.headers.get('x-route53-unhealthy'), 'eu-west-1: HTTP 503: region eu-west-1 is drained by the DRAIN environment variable; ap-southeast-2: HTTP 503: region ap-southeast-2 is drained by the DRAIN environment variable');
    const preferred = await gqlGlobal(PUT, { input: { id: 'r-5', value: 'fail-open' } }, { 'x-preferred-region': AP });
    assert.deepEqual([preferred.status, preferred.servedBy, preferred.body.data?.putItem?.updatedRegion], [200, AP, AP], 'the preferred region, as latency routing would pick among "all healthy"');
    const view = await call(`${admin}/health`);
    assert.equal(view.body.failOpen, true);
    assert.deepEqual(view.body.regions.map((r: { region: string; healthy: boolean; lastFailure: string }) => [r.region, r.healthy, r.lastFailure]), [
      [EU, false, 'HTTP 503: region eu-west-1 is drained by the DRAIN environment variable'],
      [AP, false, 'HTTP 503: region ap-southeast-2 is drained by the DRAIN environment variable'],
    ]);
    const printed = await cli(emulatorCli, ['health', '--endpoints', t.endpointsFile]);
    assert.match(printed.out, /NO region is healthy: the global endpoint fails open as Route53 does/);
    await post(`/regions/${EU}/undrain`);
    await post(`/regions/${AP}/undrain`);
    await Promise.all([router.waitFor(EU, true, 10_000), router.waitFor(AP, true, 10_000)]);
    const back = await fetch(`${g}/live/health`, { headers: { 'x-preferred-region': AP } });
    await back.arrayBuffer();
    assert.deepEqual([back.status, back.headers.get('x-served-by'), back.headers.get('x-route53-fail-open')], [200, AP, null]);
    assert.equal((await call(`${admin}/health`)).body.failOpen, false);
  });

  it('a region marked down serves again only after failureThreshold (3) passing checks in a row, as Route53 decides', async () => {
    const router = t.emulator.router;
    const viewOf = async (region: string) => ((await call(`${admin}/health`)).body.regions as Array<{ region: string; healthy: boolean; consecutivePasses: number }>).find((r) => r.region === region)!;
    const servedBy = async () => {
      const res = await call(`${g}/live/health`, { headers: { 'x-preferred-region': EU } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.servedBy;
    };
    // the checks are stepped one at a time, so no check can land between a step and what is asserted after it
    await router.pauseChecks();
    try {
      assert.equal((await post(`/regions/${EU}/drain`)).status, 200);
      for (let i = 0; i < HEALTH.failureThreshold; i += 1) await router.checkNow(EU);
      assert.equal((await viewOf(EU)).healthy, false, 'marked down after 3 failed checks');
      assert.equal(await servedBy(), AP);

      assert.equal((await post(`/regions/${EU}/undrain`)).status, 200);
      for (const passes of [1, 2]) {
        const h = await router.checkNow(EU);
        assert.deepEqual([h.lastStatus, h.consecutivePasses, h.healthy], [200, passes, false], `after ${passes} passing check(s) (last failure: ${h.lastFailure})`);
        const view = await viewOf(EU);
        assert.deepEqual([view.healthy, view.consecutivePasses], [false, passes], 'admin /health: still unhealthy');
        assert.equal(await servedBy(), AP, `after ${passes} passing check(s) the other region serves`);
      }
      const third = await router.checkNow(EU);
      assert.deepEqual([third.consecutivePasses, third.healthy], [3, true]);
      assert.equal((await viewOf(EU)).healthy, true);
      assert.equal(await servedBy(), EU, 'after the third passing check it serves again');
    } finally {
      await post(`/regions/${EU}/undrain`);
      router.resumeChecks();
      await router.waitFor(EU, true, 10_000);
    }
  });

  it('admin API: 400 naming the bad input, 404 listing routes, 405 on the wrong method', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      [`/regions/mars-1/stop`, undefined, /region "mars-1" is not one of this emulator's regions: eu-west-1, ap-southeast-2/],
      [`/regions/${EU}/explode`, undefined, /unknown region action "explode": one of add, remove, stop, start, drain, undrain/],
      ['/replication/pause', '{not json', /the body is not JSON/],
      ['/replication/pause', { form: EU }, /unknown field form: allowed are region, duration, from, to/],
      ['/replication/pause', { region: EU, to: AP }, /give region \(every pair into and out of it, as FIS pauses one replica\) or from\/to, not both/],
      ['/replication/pause', { region: EU, duration: 'five minutes' }, /duration "five minutes" is not an ISO 8601 duration from PT0.001S to PT12H/],
      ['/replication/pause', { region: EU, duration: 'PT13H' }, /duration "PT13H" is not an ISO 8601 duration/],
      ['/replication/resume', { region: 'mars-1' }, /region "mars-1" is not one of this emulator's regions/],
      ['/replication/pause', { from: EU, to: EU }, /from and to are both eu-west-1/],
      ['/replication/resume', { to: 'nowhere' }, /to "nowhere" is not one of this emulator's regions/],
      ['/state', { state: 'paused', reason: 'x' }, /state must be one of active, fenced, failover, got "paused"/],
      ['/state', { state: 'fenced' }, /reason is required/],
      ['/state', { state: 'fenced', reason: 'x', functionName: 'other' }, /functionName "other" is not this emulator's state updater \(global-appsync-dev-state-updater\)/],
    ];
    for (const [path, body, error] of cases) {
      const r = await post(path, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
      assert.match(r.body.error, error);
    }
    const unknown = await call(`${admin}/nothing`);
    assert.equal(unknown.status, 404);
    assert.ok(unknown.body.routes.includes('POST /replication/pause {region?, duration?, from?, to?}'));
    assert.equal((await call(`${admin}/replication/pause`)).status, 405);
    assert.equal((await post('/replication')).status, 405);
  });

  it('admin API refuses a change from another site (Origin) or addressed to another host (DNS rebinding); the region keeps serving', async () => {
    const evil = await call(`${admin}/regions/${EU}/stop`, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' } });
    assert.equal(evil.status, 403);
    assert.match(evil.body.error, /POST from origin "http:\/\/evil.example" refused/);
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${admin}/regions/${EU}/stop`, { method: 'POST', headers: { host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(rebound, 403);
    const own = new URL(admin).origin;
    assert.equal((await call(`${admin}/health`, { headers: { origin: 'http://evil.example' } })).status, 200, 'a read from another origin is answered (the browser withholds it: no CORS headers)');
    const direct = await fetch(`${t.endpoints.regions[EU].restUrl}/health`);
    await direct.arrayBuffer();
    assert.equal(direct.status, 200, `${EU}'s REST endpoint stopped answering after the refused requests`);
    assert.equal((await post(`/regions/${EU}/drain`, undefined)).status, 200, 'the CLI (no Origin) still changes things');
    const fromOwn = await call(`${admin}/regions/${EU}/undrain`, { method: 'POST', headers: { origin: own } });
    assert.equal(fromOwn.status, 200, 'the console (own origin) still changes things');
  });

  it('npm run emulator: usage + exit 2 on bad arguments; pause, lag and resume against the running emulator', async () => {
    const ep = ['--endpoints', t.endpointsFile];
    for (const [argv, error] of [
      [[], /a command is required/],
      [['explode'], /unknown command "explode"/],
      [['stop'], /stop needs a region/],
      [['lag', '--from', EU], /lag takes no --from/],
      [['state', 'fenced'], /state needs --reason/],
      [['status', '--colour'], /Unknown option '--colour'/],
      [['pause-replication', '--region', EU, '--from', AP], /give --region R \(both directions, as FIS\) or --from\/--to, not both/],
      [['resume-replication', '--duration', 'PT1M'], /resume-replication takes no --duration/],
    ] as Array<[string[], RegExp]>) {
      const r = await cli(emulatorCli, [...argv, ...ep]);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, error);
      assert.match(r.err, /usage: npm run emulator -- <command>/);
    }
    assert.equal((await cli(emulatorCli, ['--help'])).code, 0);
    const missing = await cli(emulatorCli, ['status', '--endpoints', '/nonexistent/endpoints.json']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no emulator endpoints file at \/nonexistent\/endpoints.json: start the emulator first \(npm start\)/);
    const refused = await cli(emulatorCli, ['stop', 'mars-1', ...ep]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /POST \/regions\/mars-1\/stop → 400: region "mars-1" is not one of/);

    const paused = await cli(emulatorCli, ['pause-replication', '--from', EU, '--json', ...ep]);
    assert.equal(paused.code, 0, paused.err);
    const pausedAnswer = JSON.parse(paused.out);
    assert.deepEqual([pausedAnswer.action, pausedAnswer.paused, pausedAnswer.endsAt], ['aws:dynamodb:global-table-pause-replication', [[EU, AP]], null]);
    assert.match(pausedAnswer.approximation, /immediate onset \(AWS: replication may continue up to 5 minutes after the action begins\)/);
    await gqlGlobal(PUT, { input: { id: 'lag-1', value: 'queued' } }, { 'x-preferred-region': EU });
    const queued = () => t.emulator.replicator.stats().find((p) => p.from === EU && p.to === AP)!;
    const appliedBefore = queued().applied;
    await eventually('the write read from the stream and queued on the paused pair', () => queued().pending === 1);
    // the record was first read before this moment (on the replicator's clock, the same process's performance.now)
    const queuedAt = performance.now();
    const lag = await cli(emulatorCli, ['lag', ...ep]);
    const row = lag.out.split('\n').find((l) => l.startsWith(`${EU}  `));
    assert.match(row ?? '', /yes \(user\)\s+1\s/, lag.out);
    const resumedAt = performance.now();
    const resumed = await cli(emulatorCli, ['resume-replication', ...ep]);
    assert.equal(resumed.code, 0, resumed.err);
    await t.emulator.replicator.idle();
    const after = await cli(emulatorCli, ['lag', '--json', ...ep]);
    const pair = (JSON.parse(after.out) as Array<{ from: string; pending: number; paused: boolean; lastLagMs: number }>).find((p) => p.from === EU);
    assert.deepEqual([pair?.paused, pair?.pending, queued().applied], [false, 0, appliedBefore + 1]);
    // applied only after the resume, so its lag covers at least the time from being queued to the resume
    assert.ok((pair?.lastLagMs ?? 0) >= resumedAt - queuedAt, `the queued write waited for the resume: last lag ${pair?.lastLagMs} ms, paused for ${(resumedAt - queuedAt).toFixed(0)} ms`);
    const status = await cli(emulatorCli, ['status', ...ep]);
    assert.match(status.out, /eu-west-1\s+up\s+no/);
    assert.match(status.out, /checks every 200 ms, 3 failures = unhealthy/);
  });

  it('pause-replication --region R --duration: both directions of R (FIS\'s shape), ended by itself after the duration', async () => {
    assert.deepEqual([parseIsoDuration('PT5M'), parseIsoDuration('PT1H30M'), parseIsoDuration('PT0.4S'), parseIsoDuration('PT'), parseIsoDuration('5M')], [300_000, 5_400_000, 400, null, null]);
    const ep = ['--endpoints', t.endpointsFile];
    // long enough that the checks made during the pause below come well inside it, even on a busy machine
    const durationMs = 2000;
    const started = performance.now();
    const before = Date.now();
    const paused = await cli(emulatorCli, ['pause-replication', '--region', AP, '--duration', 'PT2S', '--json', ...ep]);
    const after = Date.now();
    assert.equal(paused.code, 0, paused.err);
    const answer = JSON.parse(paused.out);
    assert.deepEqual(answer.paused, [[AP, EU], [EU, AP]], 'every pair out of and into the region');
    // endsAt is the pause's start plus its duration, and the pause started while the command ran
    const endsAt = Date.parse(answer.endsAt);
    assert.ok(endsAt >= before + durationMs && endsAt <= after + durationMs, `${answer.endsAt} within [${new Date(before + durationMs).toISOString()}, ${new Date(after + durationMs).toISOString()}]`);
    const pausedBy = async () => ((await call(`${admin}/replication`)).body as Array<{ from: string; pausedBy: string[] }>).map((p) => [p.from, p.pausedBy]);
    assert.deepEqual(await pausedBy(), [[EU, ['user']], [AP, ['user']]]);
    const write = await gqlGlobal(PUT, { input: { id: 'fis-1', value: 'during' } }, { 'x-preferred-region': EU });
    assert.equal(write.status, 200);
    await eventually('the timed pause ended by itself', async () => (await pausedBy()).every(([, by]) => (by as string[]).length === 0), 5 * durationMs);
    const endedAfter = performance.now() - started;
    assert.ok(endedAfter >= durationMs - 10, `not before its duration: ${endedAfter.toFixed(0)} ms`);
    await t.emulator.replicator.idle();
    const there = await call(`${t.endpoints.regions[AP].restUrl}/items/fis-1`, { headers: { 'x-api-key': t.endpoints.globalApiKey } });
    assert.deepEqual([there.status, there.body.value], [200, 'during'], 'the queued write crossed once the pause ended');
  });

  /** The write bound the state updaters wait out: the emulator's, scaled from AWS's 30 s. */
  const boundMs = () => Number(t.emulator.region(EU).functions.stateUpdater.environment.STATE_WRITE_BOUND_MS);

  /** `active` after `fenced` waits out the write bound (30 s as deployed): until the moment the stored fence allows it. */
  async function fenceStood(): Promise<void> {
    const state = (await call(`${t.endpoints.regions[EU].restUrl}/state`, { headers: { 'x-api-key': t.endpoints.globalApiKey } })).body as { state: string; updatedAt: string };
    assert.equal(state.state, 'fenced');
    const allowedAt = Date.parse(state.updatedAt) + boundMs();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, allowedAt - Date.now())));
  }

  it('npm run state -- <state> --local sets the app state through the emulator\'s bundled state updater', async () => {
    const run = (argv: string[]) => cli(stateCli as typeof emulatorCli, [...argv, '--local', '--endpoints', t.endpointsFile]);
    const fenced = await run(['fenced', '--reason', 'routing test']);
    assert.equal(fenced.code, 0, fenced.err);
    assert.match(fenced.err, /region eu-west-1: stack dev's primaryRegion, where fenced is set \(the updater refuses it elsewhere\)/);
    assert.match(fenced.err, /the local emulator's, through its admin API/);
    assert.equal(JSON.parse(fenced.out).ok, true);
    // refused at once: active only after the write bound (the emulator's, scaled from AWS's 30 s)
    const tooSoon = await run(['active', '--reason', 'too soon']);
    assert.equal(tooSoon.code, 1);
    assert.equal(boundMs(), TEST_WRITE_BOUND_MS);
    const s = boundMs() / 1000;
    assert.match(tooSoon.err, new RegExp(`refused: FencedTooShort: .*active is allowed after ${s} s in fenced \\(the write bound of ${s} s`));
    for (const r of [EU, AP]) await eventually(`${r} reads fenced`, async () => (await call(`${t.endpoints.regions[r].restUrl}/state`, { headers: { 'x-api-key': t.endpoints.globalApiKey } })).body.state === 'fenced');
    const refusedMove = await run(['active', '--reason', 'x', '--region', 'mars-1']);
    assert.equal(refusedMove.code, 2);
    assert.match(refusedMove.err, /--region mars-1 is not one of the emulator's regions: eu-west-1, ap-southeast-2/);
    const wrongStack = await run(['active', '--stack', 'prod']);
    assert.equal(wrongStack.code, 2);
    assert.match(wrongStack.err, /the running emulator serves stack dev/);
    await fenceStood();
    const active = await run(['active', '--reason', 'routing test done']);
    assert.equal(active.code, 0, active.err);
    assert.equal((await call(`${t.endpoints.regions[EU].restUrl}/state`, { headers: { 'x-api-key': t.endpoints.globalApiKey } })).body.state, 'active');
  });
  it('npm run emulator says each answer in words (--json: as it came); state reads back as npm run state does; a refused change says why on stderr', async () => {
    const ep = ['--endpoints', t.endpointsFile];
    const run = async (argv: string[]) => {
      const r = await cli(emulatorCli, [...argv, ...ep]);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      return r.out;
    };
    assert.equal(await run(['drain', AP]), `${AP} drained: its /health answers 503, so the global endpoint stops sending to it once the checks fail; \`undrain ${AP}\` ends it`);
    const undrained = JSON.parse(await run(['undrain', AP, '--json']));
    assert.deepEqual([undrained.region, undrained.running, undrained.drained], [AP, true, false]);
    assert.equal(await run(['stop', AP]), `${AP} stopped (a regional outage): its endpoints refuse connections, its notifier is held and replication to and from it queues; \`start ${AP}\` ends it`);
    assert.match(await run(['start', AP]), new RegExp(`^${AP} started: its endpoints answer on the same ports and it catches up \\(notifier backlog \\d+\\)$`));
    await t.emulator.router.waitFor(AP, true, 10_000);
    const paused = (await run(['pause-replication', '--from', EU, '--to', AP])).split('\n');
    assert.equal(paused[0], `replication paused: ${EU} → ${AP}, until resume-replication`);
    assert.match(paused[1], /^approximation: immediate onset/);
    assert.match(await run(['resume-replication', '--from', EU, '--to', AP]), new RegExp(`^replication resumed: ${EU} → ${AP}$`));
    assert.equal(await run(['notifier-errors', '--region', EU]), `notifier-errors on ${EU}: every invocation of its notifier fails (as FIS aws:lambda:invocation-error), until stop-notifier-errors --region ${EU}; retries, bisect and the DLQ behave as deployed`);
    assert.equal(await run(['stop-notifier-errors', '--region', EU]), `notifier-errors on ${EU} stopped: its notifier delivers again`);

    // state: the region and why, what was set, then the read-back in the very lines npm run state prints
    const fenced = (await run(['state', 'fenced', '--reason', 'words'])).split('\n');
    assert.equal(fenced[0], `region ${EU}: stack dev's primaryRegion, where fenced is set (the updater refuses it elsewhere)`);
    assert.match(fenced[1], /^state fenced \(was active\), version \d+: words$/);
    await fenceStood();
    const viaState = await cli(stateCli as typeof emulatorCli, ['active', '--reason', 'words done', '--local', ...ep]);
    assert.equal(viaState.code, 0, viaState.err);
    // the same lines, states, numbers and times aside (the regions come in the order their reads answered)
    const readBack = (lines: string[]) => lines.slice(lines.findIndex((l) => l.startsWith('read back from every region'))).map((l) => l.replace(/\b(active|fenced)\b/g, 'STATE').replace(/\d+/g, 'N')).sort();
    const fromState = readBack(viaState.err.split('\n'));
    assert.equal(fromState.length, 4, viaState.err); // the heading, a line per region, the verdict
    assert.deepEqual(readBack(fenced), fromState);

    // refused: AP is not the region that sets active; the reason on stderr, nothing on stdout, exit 1
    const refused = await cli(emulatorCli, ['state', 'active', '--region', AP, '--reason', 'x', ...ep]);
    assert.deepEqual([refused.code, refused.out], [1, '']);
    assert.match(refused.err, new RegExp(`^error: refused by ${AP}'s state updater: NotStateRegion: `));
    const refusedJson = await cli(emulatorCli, ['state', 'active', '--region', AP, '--reason', 'x', '--json', ...ep]);
    assert.equal(refusedJson.code, 1);
    assert.deepEqual([JSON.parse(refusedJson.out).answer.ok, JSON.parse(refusedJson.out).answer.errorType], [false, 'NotStateRegion']);
    assert.match(refusedJson.err, /NotStateRegion/);
    const refusedState = await cli(stateCli as typeof emulatorCli, ['active', '--region', AP, '--reason', 'x', '--local', ...ep]);
    assert.equal(refusedState.code, 1);
    assert.match(refusedState.err, /^refused: NotStateRegion: /m);
  });
});

describe('global endpoint rules (router against small local servers)', function () {
  this.timeout(20_000);
  const servers: http.Server[] = [];
  const routers: Router[] = [];
  after(async () => {
    await Promise.all(routers.map((r) => r.close()));
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });
  const serve = async (handler: http.RequestListener): Promise<string> => {
    const s = http.createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  /** A port nothing listens on (refused connections). */
  const closedPort = async (): Promise<string> => {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    await new Promise((r) => s.close(r));
    return url;
  };
  const route = async (targets: Array<{ region: string; base: string }>, health: { intervalMs: number; failureThreshold: number; timeoutMs?: number }) => {
    const r = await startRouter({ targets: targets.map((x) => ({ region: x.region, restUrl: `${x.base}/live`, graphqlUrl: `${x.base}/graphql`, apiKey: `key-of-${x.region}` })), globalApiKey: 'global-key-123', health });
    routers.push(r);
    return r;
  };

  it('health checks do not follow redirects: a 3xx is a pass (Route53), even when its Location is down', async () => {
    const nowhere = await closedPort();
    const base = await serve((req, res) => {
      res.writeHead(302, { location: `${nowhere}/health` });
      res.end();
    });
    const r = await route([{ region: 'r-redirect', base }], { intervalMs: 20, failureThreshold: 2 });
    await eventually('5 checks', () => r.health()[0].checks >= 5, 5_000);
    const h = r.health()[0];
    assert.deepEqual([h.healthy, h.lastStatus, h.lastFailure, h.changedAt], [true, 302, null, null]);
  });

  it('proxied requests get the region\'s redirect as is, not the page it points to', async () => {
    const base = await serve((req, res) => {
      if (req.url === '/live/old') res.writeHead(301, { location: '/live/new' }).end();
      else if (req.url === '/live/health') res.end('{}');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('followed');
    });
    const r = await route([{ region: 'r-proxy', base }], { intervalMs: 1000, failureThreshold: 3 });
    const res = await fetch(`${r.url}/live/old`, { redirect: 'manual' });
    assert.deepEqual([res.status, res.headers.get('location'), res.headers.get('x-served-by'), await res.text()], [301, '/live/new', 'r-proxy', '']);
  });

  it('a region that accepts connections but never answers is marked down only after threshold × (interval + answer deadline)', async () => {
    const hang = await serve(() => {
      // never answers
    });
    const started = Date.now();
    const r = await route([{ region: 'r-hang', base: hang }, { region: 'r-ok', base: await serve((req, res) => res.end('{}')) }], { intervalMs: 50, failureThreshold: 2, timeoutMs: 300 });
    await r.waitFor('r-hang', false, 10_000);
    const h = r.health()[0];
    const tookMs = Date.parse(h.changedAt as string) - started;
    assert.equal(h.lastFailure, 'no answer within 300 ms');
    assert.ok(tookMs >= 2 * 300 + 50 - 5, `marked down after ${tookMs} ms, not sooner than 2 × (50 + 300) less the first interval`);
  });

  it('with every region down, fails open: the request goes to the first region, 502 says it failed open and why', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const r = await route([{ region: 'r-a', base: a }, { region: 'r-b', base: b }], { intervalMs: 20, failureThreshold: 2 });
    await Promise.all([r.waitFor('r-a', false, 5_000), r.waitFor('r-b', false, 5_000)]);
    assert.equal(r.failOpen(), true);
    const res = await fetch(`${r.url}/live/items/x`);
    const body = (await res.json()) as { message: string; errorType: string };
    assert.deepEqual([res.status, res.headers.get('x-served-by'), res.headers.get('x-route53-fail-open'), res.headers.get('x-route53-unhealthy')], [502, 'r-a', 'true', 'r-a: ECONNREFUSED; r-b: ECONNREFUSED']);
    assert.equal(body.errorType, 'RegionUnreachable');
    assert.match(body.message, /region r-a did not answer \(ECONNREFUSED\); no region is healthy, so the global endpoint fails open as Route53 does and sent this to r-a anyway/);
  });
});

describe('replication pause: which pairs (three regions)', () => {
  it('region R pauses every pair into and out of R and no other; from/to one direction; resume ends both', () => {
    const calls: string[] = [];
    const replicator = { pause: (a: string, b: string) => calls.push(`pause ${a}>${b}`), resume: (a: string, b: string) => calls.push(`resume ${a}>${b}`), stats: () => [] };
    const regions = new Map(['r1', 'r2', 'r3'].map((n) => [n, { name: n }])) as unknown as ConstructorParameters<typeof FaultControls>[0]['regions'];
    const c = new FaultControls({ config: {} as never, regions, replicator: replicator as never });
    assert.deepEqual(c.pauseReplication({ region: 'r2' }).paused, [['r2', 'r1'], ['r2', 'r3'], ['r1', 'r2'], ['r3', 'r2']]);
    assert.deepEqual(calls.filter((l) => l.startsWith('pause')).sort(), ['pause r1>r2', 'pause r2>r1', 'pause r2>r3', 'pause r3>r2']);
    assert.ok(calls.includes('resume r1>r3') && calls.includes('resume r3>r1'), 'pairs not touching r2 keep replicating');
    assert.deepEqual(c.pauseReplication({ from: 'r1', to: 'r3' }).paused, [['r1', 'r3']]);
    calls.length = 0;
    c.resumeReplication({ region: 'r2' });
    assert.deepEqual(calls.filter((l) => l.startsWith('pause')), ['pause r1>r3'], 'only the from/to pause is left');
    c.dispose();
  });
});
