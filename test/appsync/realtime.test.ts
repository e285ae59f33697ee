/**
 * The local AppSync realtime WebSocket with a real `ws` client over a real socket, its executor on DynamoDB
 * Local: connect auth from the header subprotocol and from the query string (API key and SigV4 over
 * /graphql/connect), refused connections, start/start_ack/data, onItemChange(id) filtering on the published
 * data, projection of the subscription's own selection (__typename, aliases, fields the mutation left out),
 * errors for non-subscription operations, bad queries, bad start auth and fields the caller's mode may not read,
 * stop/complete, unknown ids, keep-alives, and subscriptions dropped with their socket.
 */
import assert from 'node:assert/strict';
import { buildSchema } from 'graphql';
import { APPSYNC_PRELUDE, IAM_CALLER } from '../../local/appsync/graphql';
import { startAppSyncServer } from '../../local/appsync/server';
import { PUBLISH_ITEM_CHANGE } from '../../schema/publish';
import { schemaSource } from '../../schema/source';
import { eventually } from '../support/eventually';
import { API_KEY, apiKeyHeaders, base64url, change, CREDS, iamHeaders, ON_CHANGE, RealtimeClient, REGION, type Region, startRegion } from './support';

describe('local AppSync endpoint: realtime WebSocket', function () {
  this.timeout(20_000);
  let r: Region;
  const open: RealtimeClient[] = [];
  before(async () => {
    r = await startRegion(50);
  });
  afterEach(async () => {
    for (const c of open.splice(0)) if (c.socket.readyState === c.socket.OPEN) await c.close();
  });
  after(async () => {
    await r.server.close();
  });

  async function client(headers = apiKeyHeaders(r.server.graphqlUrl)): Promise<RealtimeClient> {
    const c = await RealtimeClient.connect(r.server.realtimeUrl, headers);
    open.push(c);
    return c;
  }

  /** Publishes through the region's executor as a verified IAM caller, with the given mutation selection. */
  async function publish(input: ReturnType<typeof change>, selection?: string): Promise<void> {
    const query = selection ? `mutation P($input: ItemChangeInput!) { publishItemChange(input: $input) { ${selection} } }` : PUBLISH_ITEM_CHANGE;
    const out = await r.fx.api(REGION).execute({ query, variables: { input }, identity: IAM_CALLER });
    assert.equal(out.errors, undefined, JSON.stringify(out.errors));
  }

  let markers = 0;
  /** The frames `c` got before a marker published after everything the test published (see framesBefore). */
  const nothingBefore = (c: RealtimeClient) => {
    const id = `marker-${(markers += 1)}`;
    return c.framesBefore(id, () => publish(change(id)));
  };

  describe('connecting', () => {
    it('accepts an API key in the header subprotocol, chooses graphql-ws and acks with connectionTimeoutMs 300000', async () => {
      const c = await RealtimeClient.open(r.server.realtimeUrl, ['graphql-ws', `header-${base64url(apiKeyHeaders(r.server.graphqlUrl))}`]);
      open.push(c);
      assert.equal(c.socket.protocol, 'graphql-ws');
      c.send({ type: 'connection_init' });
      assert.deepEqual(await c.next(), { type: 'connection_ack', payload: { connectionTimeoutMs: 300000 } });
    });

    it('accepts the query-string form (?header=<base64>&payload=e30=)', async () => {
      const header = Buffer.from(JSON.stringify(apiKeyHeaders(r.server.graphqlUrl))).toString('base64');
      const c = await RealtimeClient.open(`${r.server.realtimeUrl}?header=${encodeURIComponent(header)}&payload=e30=`, ['graphql-ws']);
      open.push(c);
      c.send({ type: 'connection_init' });
      assert.equal((await c.next()).type, 'connection_ack');
      assert.equal((await c.start('q1', ON_CHANGE)).type, 'start_ack');
    });

    it('accepts SigV4 headers signed over POST /graphql/connect with body {}, and IAM-signed starts', async () => {
      const c = await client(await iamHeaders(r.server.graphqlUrl, '/connect', '{}'));
      const data = JSON.stringify({ query: ON_CHANGE, variables: {} });
      c.send({ id: 'i1', type: 'start', payload: { data, extensions: { authorization: await iamHeaders(r.server.graphqlUrl, '', data) } } });
      assert.deepEqual(await c.next(), { type: 'start_ack', id: 'i1' });
    });

    it('refuses a wrong key, a signature over another path and a wrong secret: connection_error UnauthorizedException, then close', async () => {
      const refused = [
        apiKeyHeaders(r.server.graphqlUrl, 'da2-wrong'),
        await iamHeaders(r.server.graphqlUrl, '', '{}'),
        await iamHeaders(r.server.graphqlUrl, '/connect', '{}', { ...CREDS, secretAccessKey: 'wrong' }),
      ];
      for (const headers of refused) {
        const c = await RealtimeClient.open(r.server.realtimeUrl, ['graphql-ws', `header-${base64url(headers)}`]);
        c.send({ type: 'connection_init' });
        assert.deepEqual(await c.next(), {
          type: 'connection_error',
          payload: { errors: [{ errorType: 'com.amazonaws.deepdish.graphql.auth#UnauthorizedException', message: 'You are not authorized to make this call.', errorCode: 400 }] },
        });
        assert.equal((await c.closed).code, 1000);
      }
    });

    it('refuses a missing, undecodable or host-less header (BadRequestException naming it), and a socket without graphql-ws (HTTP 400)', async () => {
      const noHost = `header-${base64url({ 'x-api-key': API_KEY })}`;
      for (const [protocols, why] of [[['graphql-ws'], /no auth header/], [['graphql-ws', 'header-bm90IGpzb24'], /not base64-encoded JSON/], [['graphql-ws', noHost], /no `host`/]] as const) {
        const c = await RealtimeClient.open(r.server.realtimeUrl, [...protocols]);
        c.send({ type: 'connection_init' });
        const f = await c.next();
        assert.equal(f.type, 'connection_error');
        assert.equal(f.payload?.errors?.[0].errorType, 'com.amazonaws.deepdish.graphql.auth#BadRequestException');
        assert.match(f.payload?.errors?.[0].message ?? '', why);
        await c.closed;
      }
      await assert.rejects(RealtimeClient.open(r.server.realtimeUrl, [`header-${base64url(apiKeyHeaders(r.server.graphqlUrl))}`]), (e: { status?: number; body?: string }) => {
        assert.equal(e.status, 400);
        assert.match(e.body ?? '', /graphql-ws/);
        return true;
      });
    });

    it('sends ka every keepAliveMs after the ack', async () => {
      // Arrival times at this end bunch up on a busy machine, so gaps between frames prove nothing either way. What
      // holds: the first ka comes with the ack and each next one keepAliveMs later, so the fourth cannot arrive sooner
      // than 3 × keepAliveMs after the connection was opened; and each comes within next()'s 3 s wait. 200 ms, so
      // that a server sending them all at once would be seen even when connecting is slow.
      const keepAliveMs = 200;
      const server = await startAppSyncServer({ region: REGION, executor: r.fx.api(REGION), apiKey: API_KEY, credentials: CREDS, keepAliveMs });
      try {
        const opened = Date.now();
        const c = await RealtimeClient.connect(server.realtimeUrl, apiKeyHeaders(server.graphqlUrl));
        const kinds: string[] = [];
        while (kinds.length < 4) kinds.push((await c.next({ keepKa: true })).type);
        const fourthAfter = Date.now() - opened;
        await c.close();
        assert.deepEqual(kinds, ['ka', 'ka', 'ka', 'ka']);
        assert.ok(fourthAfter >= 3 * keepAliveMs - 2, `the fourth ka came ${fourthAfter} ms after connecting, with keepAliveMs ${keepAliveMs}`);
      } finally {
        await server.close();
      }
    });

    it('sends the first ka right after connection_ack, not a keepAliveMs later', async () => {
      const slow = await startAppSyncServer({ region: REGION, executor: r.fx.api(REGION), apiKey: API_KEY, credentials: CREDS, keepAliveMs: 60_000 });
      try {
        const c = await RealtimeClient.connect(slow.realtimeUrl, apiKeyHeaders(slow.graphqlUrl));
        assert.deepEqual(await c.next({ keepKa: true, timeoutMs: 2000 }), { type: 'ka' });
        await c.close();
      } finally {
        await slow.close();
      }
    });
  });

  describe('subscribing and delivery', () => {
    it('start → start_ack → data with the published change', async () => {
      const c = await client();
      assert.deepEqual(await c.start('s1', ON_CHANGE), { type: 'start_ack', id: 's1' });
      const input = change('d-1', 'hello');
      await publish(input);
      assert.deepEqual(await c.next(), { type: 'data', id: 's1', payload: { data: { onItemChange: input } } });
    });

    it('onItemChange(id) gets only that id; no argument gets every change', async () => {
      const c = await client();
      assert.equal((await c.start('only-a', ON_CHANGE, { id: 'f-a' })).type, 'start_ack');
      assert.equal((await c.start('all', ON_CHANGE)).type, 'start_ack');
      await publish(change('f-b'));
      await publish(change('f-a'));
      const got: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const f = await c.next();
        got.push(`${f.id}:${(f.payload?.data?.onItemChange as { id: string }).id}`);
      }
      assert.deepEqual(got.sort(), ['all:f-a', 'all:f-b', 'only-a:f-a']);
      assert.deepEqual(await nothingBefore(c), [], 'only-a did not get f-b');
    });

    it('an explicit null argument is a filter (AppSync: "argument null value has meaning"), not the absence of one', async () => {
      const c = await client();
      assert.equal((await c.start('null-id', ON_CHANGE, { id: null })).type, 'start_ack');
      await publish(change('z-1'));
      assert.deepEqual(await nothingBefore(c), [], 'id is always set, so onItemChange(id: null) hears nothing');
    });

    it('matches the argument against the published data: a mutation that does not select `id` reaches no id-filtered subscriber', async () => {
      const c = await client();
      assert.equal((await c.start('by-id', ON_CHANGE, { id: 'n-1' })).type, 'start_ack');
      assert.equal((await c.start('all', 'subscription { onItemChange { kind id } }')).type, 'start_ack');
      await publish(change('n-1'), 'kind publishedRegion');
      assert.deepEqual(await c.next(), { type: 'data', id: 'all', payload: { data: { onItemChange: { kind: 'UPDATED', id: null } } } });
      assert.deepEqual(await nothingBefore(c), [], 'by-id got nothing');
    });

    it('projects the subscription\'s own selection: aliases, __typename, nested fields, fragments', async () => {
      const c = await client();
      const query = `subscription S($id: ID) {
        change: onItemChange(id: $id) { __typename theId: id kind item { __typename value } ...F }
      }
      fragment F on ItemChange { publishedRegion }`;
      assert.equal((await c.start('p1', query, { id: 'p-1' })).type, 'start_ack');
      await publish(change('p-1', 'projected'));
      assert.deepEqual(await c.next(), {
        type: 'data',
        id: 'p1',
        payload: { data: { change: { __typename: 'ItemChange', theId: 'p-1', kind: 'UPDATED', item: { __typename: 'Item', value: 'projected' }, publishedRegion: REGION } } },
      });
    });

    it('a subscriber of several ids on one connection: each start is independent', async () => {
      const c = await client();
      for (const id of ['m-1', 'm-2']) assert.equal((await c.start(id, ON_CHANGE, { id })).type, 'start_ack');
      await publish(change('m-2'));
      const f = await c.next();
      assert.equal(f.id, 'm-2');
      assert.deepEqual(await nothingBefore(c), [], 'm-1 got nothing');
    });
  });

  describe('errors', () => {
    it('refuses operations other than subscriptions, with an API key or IAM: UnsupportedOperation', async () => {
      const c = await client();
      const mutation = JSON.stringify({ query: PUBLISH_ITEM_CHANGE, variables: { input: change('e-1') } });
      c.send({ id: 'm1', type: 'start', payload: { data: mutation, extensions: { authorization: apiKeyHeaders(r.server.graphqlUrl) } } });
      assert.deepEqual(await c.next(), {
        type: 'error',
        id: 'm1',
        payload: { errors: [{ errorType: 'UnsupportedOperation', message: 'mutation not supported through the realtime channel' }] },
      });
      c.send({ id: 'm2', type: 'start', payload: { data: mutation, extensions: { authorization: await iamHeaders(r.server.graphqlUrl, '', mutation) } } });
      const iam = await c.next();
      assert.equal(iam.id, 'm2');
      assert.equal(iam.payload?.errors?.[0].errorType, 'UnsupportedOperation');
      const q = await c.start('q1', '{ appState { state } }');
      assert.equal(q.payload?.errors?.[0].message, 'query not supported through the realtime channel');
      assert.equal(r.server.subscriptions(), 0);
    });

    it('answers a query that does not parse or validate, and bad variables, with ValidationError', async () => {
      const c = await client();
      const parseErr = await c.start('b1', 'subscription { onItemChange { id ');
      assert.equal(parseErr.type, 'error');
      assert.equal(parseErr.id, 'b1');
      assert.equal(parseErr.payload?.errors?.[0].errorType, 'ValidationError');
      assert.match(parseErr.payload?.errors?.[0].message ?? '', /Syntax Error/);
      const unknownField = await c.start('b2', 'subscription { onItemChange { id nope } }');
      assert.equal(unknownField.payload?.errors?.[0].errorType, 'ValidationError');
      assert.match(unknownField.payload?.errors?.[0].message ?? '', /Cannot query field "nope" on type "ItemChange"/);
      const badVar = await c.start('b3', ON_CHANGE, { id: { not: 'an id' } });
      assert.equal(badVar.payload?.errors?.[0].errorType, 'ValidationError');
      assert.match(badVar.payload?.errors?.[0].message ?? '', /\$id/);
    });

    it('refuses a start with a wrong key, a tampered signature or no authorization', async () => {
      const c = await client();
      const wrong = await c.start('a1', ON_CHANGE, {}, apiKeyHeaders(r.server.graphqlUrl, 'da2-wrong'));
      assert.deepEqual(wrong.payload?.errors, [{ errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.', errorCode: 401 }]);
      const signedOther = await iamHeaders(r.server.graphqlUrl, '', JSON.stringify({ query: ON_CHANGE, variables: { id: 'other' } }));
      const tampered = await c.start('a2', ON_CHANGE, {}, signedOther);
      assert.equal(tampered.payload?.errors?.[0].errorType, 'InvalidSignatureException');
      c.send({ id: 'a3', type: 'start', payload: { data: JSON.stringify({ query: ON_CHANGE }) } });
      assert.equal((await c.next()).payload?.errors?.[0].errorType, 'UnauthorizedException');
      assert.equal(r.server.subscriptions(), 0);
    });

    it('stop → complete and no more data; a stop for an unknown id is an error', async () => {
      const c = await client();
      assert.equal((await c.start('st', ON_CHANGE)).type, 'start_ack');
      assert.equal(r.server.subscriptions(), 1);
      c.send({ type: 'stop', id: 'st' });
      assert.deepEqual(await c.next(), { type: 'complete', id: 'st' });
      assert.equal(r.server.subscriptions(), 0);
      await publish(change('st-1'));
      assert.deepEqual(await nothingBefore(c), [], 'nothing after stop');
      c.send({ type: 'stop', id: 'never-started' });
      const f = await c.next();
      assert.equal(f.type, 'error');
      assert.equal(f.id, 'never-started');
      assert.match(f.payload?.errors?.[0].message ?? '', /never-started/);
    });

    it('drops a socket\'s subscriptions when it closes', async () => {
      const c = await client();
      await c.start('x1', ON_CHANGE);
      await c.start('x2', ON_CHANGE, { id: 'x' });
      assert.equal(r.server.subscriptions(), 2);
      await c.close();
      // the server learns of the close when the socket's close reaches it: wait for that, not for a fixed time
      await eventually('the closed socket\'s subscriptions dropped', () => r.server.subscriptions() === 0);
    });
  });
});

describe('local AppSync endpoint: realtime field auth', () => {
  it('refuses a subscription field the caller\'s mode may not read, and accepts it for a mode that may', async () => {
    const r = await startRegion();
    await r.server.close();
    // the region's executor, with a schema in which onItemChange is IAM only
    const executor = r.fx.api(REGION);
    const iamOnly = buildSchema(APPSYNC_PRELUDE + schemaSource('apiKey').replace('onItemChange(id: ID): ItemChange @aws_subscribe', 'onItemChange(id: ID): ItemChange @aws_iam @aws_subscribe'));
    const server = await startAppSyncServer({ region: REGION, executor: { ...executor, schema: iamOnly }, apiKey: API_KEY, credentials: CREDS });
    try {
      const c = await RealtimeClient.connect(server.realtimeUrl, apiKeyHeaders(server.graphqlUrl));
      assert.deepEqual(await c.start('k', ON_CHANGE), {
        type: 'error',
        id: 'k',
        payload: { errors: [{ errorType: 'Unauthorized', message: 'Not Authorized to access onItemChange on type Subscription' }] },
      });
      const data = JSON.stringify({ query: ON_CHANGE, variables: {} });
      c.send({ id: 'i', type: 'start', payload: { data, extensions: { authorization: await iamHeaders(server.graphqlUrl, '', data) } } });
      assert.deepEqual(await c.next(), { type: 'start_ack', id: 'i' });
      await c.close();
    } finally {
      await server.close();
    }
  });
});
