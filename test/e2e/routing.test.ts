/**
 * The emulator's global endpoint (local/router.ts) and fault controls (local/admin.ts, scripts/emulator.ts,
 * `npm run state -- --local`) over real sockets: routing by preferred region and config order with x-served-by,
 * one global API key swapped for the region's AppSync key, 503 when no region is healthy, and every bad input
 * answered with an error that names it.
 */
import assert from 'node:assert/strict';
import { main as emulatorCli } from '../../scripts/emulator';
import { main as stateCli } from '../../scripts/state';
import { describeHealth, resolveHealth } from '../../local/router';
import { eventually, startTestEmulator, type TestEmulator } from '../support/emulator';

const EU = 'eu-west-1'; // first in the dev stack's regions
const AP = 'ap-southeast-2';
const PUT = 'mutation Put($input: PutItemInput!) { putItem(input: $input) { id value version updatedRegion } }';
const HEALTH = { intervalMs: 100, failureThreshold: 2 };

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, servedBy: res.headers.get('x-served-by'), body: (text ? JSON.parse(text) : null) as any };
}

describe('global endpoint and admin API (emulator, two regions)', function () {
  this.timeout(60_000);
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
    t = await startTestEmulator({}, { health: HEALTH });
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
    assert.equal(describeHealth(resolveHealth({ intervalMs: 100, failureThreshold: 2 })), 'health checks every 0.1 s, 2 failures = unhealthy (Route53: 30 s × 3, scaled 1:300)');
    assert.throws(() => resolveHealth({ failureThreshold: 11 }), /failureThreshold must be an integer from 1 to 10 \(as Route53's\), got 11/);
  });

  it('routes to the preferred region (header or query), else the first region in config order, naming it in x-served-by', async () => {
    const byHeader = await gqlGlobal(PUT, { input: { id: 'r-1', value: 'via-ap' } }, { 'x-preferred-region': AP });
    assert.equal(byHeader.status, 200, JSON.stringify(byHeader.body));
    assert.equal(byHeader.servedBy, AP);
    assert.equal(byHeader.body.data.putItem.updatedRegion, AP, 'the write was made in the region that served it');
    const byQuery = await call(`${g}/live/items/r-2?region=${AP}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 'q' }) });
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

  it('answers 503 naming each region\'s failure when no region is healthy, and routes again once they recover', async () => {
    const router = t.emulator.router;
    assert.equal((await post(`/regions/${EU}/drain`)).status, 200);
    assert.equal((await post(`/regions/${AP}/drain`)).status, 200);
    await Promise.all([router.waitFor(EU, false, 10_000), router.waitFor(AP, false, 10_000)]);
    const none = await gqlGlobal(PUT, { input: { id: 'r-4', value: 'nowhere' } });
    assert.equal(none.status, 503);
    assert.equal(none.body.errorType, 'NoHealthyRegion');
    assert.match(none.body.message, /no healthy region: eu-west-1 \(HTTP 503: region eu-west-1 is drained by the DRAIN environment variable\), ap-southeast-2 \(HTTP 503: region ap-southeast-2 is drained/);
    await post(`/regions/${EU}/undrain`);
    await post(`/regions/${AP}/undrain`);
    await Promise.all([router.waitFor(EU, true, 10_000), router.waitFor(AP, true, 10_000)]);
    assert.equal((await gqlGlobal(PUT, { input: { id: 'r-4', value: 'back' } })).status, 200);
  });

  it('admin API: 400 naming the bad input, 404 listing routes, 405 on the wrong method', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      [`/regions/mars-1/stop`, undefined, /region "mars-1" is not one of this emulator's regions: eu-west-1, ap-southeast-2/],
      [`/regions/${EU}/explode`, undefined, /unknown region action "explode": one of stop, start, drain, undrain/],
      ['/replication/pause', '{not json', /the body is not JSON/],
      ['/replication/pause', { form: EU }, /unknown field form: allowed are from, to/],
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
    assert.ok(unknown.body.routes.includes('POST /replication/pause {from?, to?}'));
    assert.equal((await call(`${admin}/replication/pause`)).status, 405);
    assert.equal((await post('/replication')).status, 405);
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
    assert.deepEqual(JSON.parse(paused.out), { action: 'aws:dynamodb:global-table-pause-replication', paused: [[EU, AP]] });
    await gqlGlobal(PUT, { input: { id: 'lag-1', value: 'queued' } }, { 'x-preferred-region': EU });
    await new Promise((r) => setTimeout(r, 300));
    const lag = await cli(emulatorCli, ['lag', ...ep]);
    const row = lag.out.split('\n').find((l) => l.startsWith(`${EU}  `));
    assert.match(row ?? '', /yes \(user\)\s+1\s/, lag.out);
    const resumed = await cli(emulatorCli, ['resume-replication', ...ep]);
    assert.equal(resumed.code, 0, resumed.err);
    await t.emulator.replicator.idle();
    const after = await cli(emulatorCli, ['lag', '--json', ...ep]);
    const pair = (JSON.parse(after.out) as Array<{ from: string; pending: number; paused: boolean; lastLagMs: number }>).find((p) => p.from === EU);
    assert.deepEqual([pair?.paused, pair?.pending], [false, 0]);
    assert.ok((pair?.lastLagMs ?? 0) >= 250, `the queued write waited for the resume: last lag ${pair?.lastLagMs} ms`);
    const status = await cli(emulatorCli, ['status', ...ep]);
    assert.match(status.out, /eu-west-1\s+up\s+no/);
    assert.match(status.out, /checks every 100 ms, 2 failures = unhealthy/);
  });

  it('npm run state -- <state> --local sets the app state through the emulator\'s bundled state updater', async () => {
    const run = (argv: string[]) => cli(stateCli as typeof emulatorCli, [...argv, '--local', '--endpoints', t.endpointsFile]);
    const fenced = await run(['fenced', '--reason', 'routing test']);
    assert.equal(fenced.code, 0, fenced.err);
    assert.match(fenced.err, /region eu-west-1: stack dev's primaryRegion, the default for fenced/);
    assert.match(fenced.err, /the local emulator's, through its admin API/);
    assert.equal(JSON.parse(fenced.out).ok, true);
    for (const r of [EU, AP]) await eventually(`${r} reads fenced`, async () => (await call(`${t.endpoints.regions[r].restUrl}/state`)).body.state === 'fenced');
    const refusedMove = await run(['active', '--reason', 'x', '--region', 'mars-1']);
    assert.equal(refusedMove.code, 2);
    assert.match(refusedMove.err, /--region mars-1 is not one of the emulator's regions: eu-west-1, ap-southeast-2/);
    const wrongStack = await run(['active', '--stack', 'prod']);
    assert.equal(wrongStack.code, 2);
    assert.match(wrongStack.err, /the running emulator serves stack dev/);
    const active = await run(['active', '--reason', 'routing test done']);
    assert.equal(active.code, 0, active.err);
    assert.equal((await call(`${t.endpoints.regions[EU].restUrl}/state`)).body.state, 'active');
  });
});
