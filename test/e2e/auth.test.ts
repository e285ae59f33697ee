/**
 * Client auth end to end in the emulator: one client credential on every path that reads or writes items, in every
 * region and through the global endpoint; a bad one refused on every path; only `/health` open; a client
 * whose region stops goes on through the global endpoint with the same credential. One emulator per auth mode,
 * health checks at 200 ms × 2 so the outage is seen within about a second.
 *
 * token mode: `Authorization: <JWT>` (minted with the emulator's local secret, as `npm run token -- --local` does)
 * on GraphQL over HTTP, realtime connect + start, REST and the REST /graphql path, in each region and globally.
 * apiKey mode: the ONE shared key on REST (each region and /live/ globally), the REST /graphql path and the global
 * /graphql; each region's own AppSync key on its direct AppSync URL and realtime (as deployed: AppSync keys are per
 * API), the shared key refused there.
 */
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { RealtimeClient, base64url } from '../appsync/support';
import { eventually, mintTestToken, rest, startTestEmulator, Subscriber, type TestEmulator } from '../support/emulator';

const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const PUT = 'mutation Put($input: PutItemInput!) { putItem(input: $input) { id value version updatedRegion } }';
const HEALTH = { intervalMs: 200, failureThreshold: 2 };

async function gqlWith(url: string, headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}, extra: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers, ...extra }, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, servedBy: res.headers.get('x-served-by'), body: (text ? JSON.parse(text) : null) as any };
}

/** A realtime connect that must be refused: connection_error with AppSync's UnauthorizedException. */
async function assertRealtimeRefused(realtimeUrl: string, graphqlUrl: string, headers: Record<string, string>): Promise<void> {
  const c = await RealtimeClient.open(realtimeUrl, ['graphql-ws', `header-${base64url({ host: new URL(graphqlUrl).host, ...headers })}`]);
  c.send({ type: 'connection_init' });
  const f = await c.next();
  assert.equal(f.type, 'connection_error', JSON.stringify(f));
  assert.match(f.payload?.errors?.[0]?.errorType ?? '', /UnauthorizedException/);
  await c.closed;
}

describe('one credential everywhere: auth.mode token (emulator, two regions)', function () {
  this.timeout(60_000);
  let t: TestEmulator;
  let token: string;
  const ep = (r: string) => t.endpoints.regions[r];

  before(async () => {
    t = await startTestEmulator({ auth: JSON.stringify({ mode: 'token', issuer: 'https://auth.example.com/', audience: 'global-appsync', secret: 'stack-secret-never-used-locally-0123456789', ttlSeconds: 60 }) }, { health: HEALTH });
    token = await mintTestToken(t, 'alice');
  });
  after(() => t?.stop());

  it('the endpoints file says what a client sends; no API key exists', () => {
    const a = t.endpoints.auth;
    assert.deepEqual(a.mode === 'token' && [a.issuer, a.audience, a.header], ['https://auth.example.com/', 'global-appsync', 'authorization']);
    assert.deepEqual([t.endpoints.globalApiKey, ep(EU).apiKey, ep(AP).apiKey], ['', '', '']);
  });

  it('one token: GraphQL HTTP, realtime, REST and REST /graphql in each region, and the global endpoint', async () => {
    const auth = { authorization: token };
    const subs = { [EU]: await Subscriber.open(ep(EU).realtimeUrl, ep(EU).graphqlUrl, auth, { id: 'tok-1' }), [AP]: await Subscriber.open(ep(AP).realtimeUrl, ep(AP).graphqlUrl, auth, { id: 'tok-1' }) };
    try {
      for (const r of [EU, AP]) {
        const g = await gqlWith(ep(r).graphqlUrl, auth, PUT, { input: { id: 'tok-1', value: `gql-${r}` } });
        assert.equal(g.body.data?.putItem?.updatedRegion, r, JSON.stringify(g.body));
        const put = await rest(`${ep(r).restUrl}/items/tok-rest-${r}`, 'PUT', { value: 'v' }, auth);
        assert.equal(put.status, 201, JSON.stringify(put.body));
        assert.equal((await rest(`${ep(r).restUrl}/items/tok-rest-${r}`, 'GET', undefined, auth)).status, 200);
        const viaRest = await gqlWith(`${ep(r).restUrl}/graphql`, auth, 'query { appState { state } }');
        assert.equal(viaRest.body.data?.appState?.state, 'active', JSON.stringify(viaRest.body));
      }
      const global = await gqlWith(`${t.endpoints.globalUrl}/graphql`, auth, PUT, { input: { id: 'tok-1', value: 'global' } }, { 'x-preferred-region': AP });
      assert.deepEqual([global.status, global.servedBy, global.body.data?.putItem?.updatedRegion], [200, AP, AP]);
      assert.equal((await rest(`${t.endpoints.globalUrl}/live/items/tok-1?region=${AP}`, 'GET', undefined, auth)).body.value, 'global');
      // the subscribers were let in (connect and start, each with the token); each hears a change made through it
      await eventually('both subscribers heard the global write', () => subs[EU].changes('tok-1').some((c) => (c.item as { value?: string } | null)?.value === 'global') && subs[AP].changes('tok-1').some((c) => (c.item as { value?: string } | null)?.value === 'global'));
    } finally {
      await Promise.all(Object.values(subs).map((s) => s.close()));
    }
  });

  it('a bad token is refused on every path (GET /state too); /health stays open', async () => {
    const expired = await mintTestToken(t, 'alice', 1).then(async () => {
      const a = t.emulator.auth as { secret: string; issuer: string; audience: string };
      const past = Math.floor(Date.now() / 1000) - 3600;
      return new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(a.issuer).setAudience(a.audience).setIssuedAt(past).setExpirationTime(past + 60).sign(new TextEncoder().encode(a.secret));
    });
    const wrongSecret = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://auth.example.com/').setAudience('global-appsync').setExpirationTime('1h').sign(new TextEncoder().encode('stack-secret-never-used-locally-0123456789'));
    // (the authorizer core's tests try 35 bad tokens; here one of each kind of refusal, on every path)
    for (const bad of [{ authorization: expired }, { authorization: wrongSecret }, {}] as Record<string, string>[]) {
      const what = JSON.stringify(bad).slice(0, 40);
      for (const r of [EU, AP]) {
        const g = await gqlWith(ep(r).graphqlUrl, bad, PUT, { input: { id: 'bad', value: 'x' } });
        assert.deepEqual([g.status, g.body.errors?.[0]?.errorType], [401, 'UnauthorizedException'], `${what} GraphQL ${r}`);
        const p = await rest(`${ep(r).restUrl}/items/bad`, 'PUT', { value: 'x' }, bad);
        assert.deepEqual([p.status, p.body], [401, { message: 'Unauthorized' }], `${what} REST ${r}`);
        assert.equal((await gqlWith(`${ep(r).restUrl}/graphql`, bad, '{ appState { state } }')).status, 401, `${what} REST /graphql ${r}`);
        await assertRealtimeRefused(ep(r).realtimeUrl, ep(r).graphqlUrl, bad);
      }
      assert.equal((await gqlWith(`${t.endpoints.globalUrl}/graphql`, bad, PUT, { input: { id: 'bad', value: 'x' } })).status, 401, `${what} global /graphql`);
      assert.equal((await rest(`${t.endpoints.globalUrl}/live/items/bad`, 'GET', undefined, bad)).status, 401, `${what} global REST`);
    }
    // a realtime start with a bad token on a good connection is refused too
    const c = await RealtimeClient.connect(ep(EU).realtimeUrl, { host: new URL(ep(EU).graphqlUrl).host, authorization: token });
    const refused = await c.start('s1', 'subscription { onItemChange { id } }', {}, { host: new URL(ep(EU).graphqlUrl).host, authorization: wrongSecret });
    assert.equal(refused.type, 'error', JSON.stringify(refused));
    await c.close();
    assert.equal((await rest(`${ep(EU).restUrl}/items/bad`, 'GET', undefined, {})).status, 401);
    assert.equal((await rest(`${ep(EU).restUrl}/health`, 'GET', undefined, {})).status, 200);
    assert.equal((await rest(`${ep(EU).restUrl}/state`, 'GET', undefined, {})).status, 401);
    assert.equal((await rest(`${ep(EU).restUrl}/state`, 'GET', undefined, { authorization: token })).body.state, 'active');
  });

  it('a stopped region\'s client goes on through the global endpoint on the other region with the same token', async () => {
    const auth = { authorization: token };
    const before = await gqlWith(`${t.endpoints.globalUrl}/graphql`, auth, PUT, { input: { id: 'tok-fo', value: 'before' } }, { 'x-preferred-region': EU });
    assert.equal(before.servedBy, EU);
    await t.emulator.controls.stopRegion(EU);
    try {
      await t.emulator.router.waitFor(EU, false, 5_000);
      const after = await gqlWith(`${t.endpoints.globalUrl}/graphql`, auth, PUT, { input: { id: 'tok-fo', value: 'after' } }, { 'x-preferred-region': EU });
      assert.deepEqual([after.status, after.servedBy, after.body.data?.putItem?.updatedRegion], [200, AP, AP]);
      const r = await rest(`${t.endpoints.globalUrl}/live/items/tok-fo?region=${EU}`, 'GET', undefined, auth);
      assert.deepEqual([r.status, r.body.value], [200, 'after']);
    } finally {
      await t.emulator.controls.startRegion(EU);
    }
  });
});

describe('one credential everywhere: auth.mode apiKey, one shared key (emulator, two regions)', function () {
  this.timeout(60_000);
  let t: TestEmulator;
  let key: string;
  const ep = (r: string) => t.endpoints.regions[r];

  before(async () => {
    t = await startTestEmulator({}, { health: HEALTH });
    key = t.endpoints.globalApiKey;
  });
  after(() => t?.stop());

  it('the endpoints file names the shared key', () => {
    assert.deepEqual(t.endpoints.auth, { mode: 'apiKey', globalApiKey: key, header: 'x-api-key' });
  });

  it('the shared key: REST and REST /graphql in each region, the global /graphql and /live/; each region\'s AppSync key on its own AppSync URL', async () => {
    const shared = { 'x-api-key': key };
    for (const r of [EU, AP]) {
      assert.equal((await rest(`${ep(r).restUrl}/items/key-${r}`, 'PUT', { value: 'v' }, shared)).status, 201);
      const viaRest = await gqlWith(`${ep(r).restUrl}/graphql`, shared, PUT, { input: { id: `key-gql-${r}`, value: 'v' } });
      assert.equal(viaRest.body.data?.putItem?.updatedRegion, r, JSON.stringify(viaRest.body));
      // (realtime with each region's own key: test/e2e/emulator.test.ts)
      const direct = await gqlWith(ep(r).graphqlUrl, { 'x-api-key': ep(r).apiKey }, '{ appState { state } }');
      assert.equal(direct.body.data?.appState?.state, 'active');
    }
    const global = await gqlWith(`${t.endpoints.globalUrl}/graphql`, shared, PUT, { input: { id: 'key-g', value: 'g' } }, { 'x-preferred-region': AP });
    assert.deepEqual([global.status, global.servedBy], [200, AP]);
    assert.equal((await rest(`${t.endpoints.globalUrl}/live/items/key-g?region=${AP}`, 'GET', undefined, shared)).status, 200);
  });

  it('a missing or wrong key is refused on every path (403 Forbidden on REST); a regional AppSync key does not open REST; /health stays open', async () => {
    for (const bad of [{}, { 'x-api-key': 'da2-wrongwrongwrongwrongwrongwr' }, { 'x-api-key': ep(EU).apiKey }] as Record<string, string>[]) {
      const what = JSON.stringify(bad);
      for (const r of [EU, AP]) {
        for (const [method, body] of [['GET', undefined], ['PUT', { value: 'x' }], ['DELETE', undefined]] as const) {
          const res = await rest(`${ep(r).restUrl}/items/key-${r}`, method, body, bad);
          assert.deepEqual([res.status, res.body], [403, { message: 'Forbidden' }], `${what} ${method} ${r}`);
        }
        assert.equal((await gqlWith(`${ep(r).restUrl}/graphql`, bad, '{ appState { state } }')).status, 403, `${what} REST /graphql ${r}`);
        assert.equal((await rest(`${ep(r).restUrl}/health`, 'GET', undefined, bad)).status, 200);
      }
      assert.equal((await gqlWith(`${t.endpoints.globalUrl}/graphql`, bad, '{ appState { state } }')).status, 401, `${what} global /graphql`);
      assert.equal((await rest(`${t.endpoints.globalUrl}/live/items/key-g`, 'GET', undefined, bad)).status, 403, `${what} global REST`);
    }
    // the shared key is API Gateway's, not AppSync's: a direct AppSync URL and its realtime refuse it
    assert.equal((await gqlWith(ep(EU).graphqlUrl, { 'x-api-key': key }, '{ appState { state } }')).status, 401);
    await assertRealtimeRefused(ep(EU).realtimeUrl, ep(EU).graphqlUrl, { 'x-api-key': key });
  });

  it('a stopped region\'s client goes on through the global endpoint with the same shared key', async () => {
    await t.emulator.controls.stopRegion(AP);
    try {
      await t.emulator.router.waitFor(AP, false, 5_000);
      const w = await rest(`${t.endpoints.globalUrl}/live/items/key-fo?region=${AP}`, 'PUT', { value: 'after' }, { 'x-api-key': key });
      assert.deepEqual([w.status, w.body.writeRegion], [201, EU]);
      const g = await gqlWith(`${t.endpoints.globalUrl}/graphql`, { 'x-api-key': key }, PUT, { input: { id: 'key-fo', value: 'gql' } }, { 'x-preferred-region': AP });
      assert.deepEqual([g.servedBy, g.body.data?.putItem?.updatedRegion], [EU, EU]);
    } finally {
      await t.emulator.controls.startRegion(AP);
    }
  });
});
