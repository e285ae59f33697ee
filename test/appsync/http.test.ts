/**
 * The local AppSync endpoint over HTTP, on a real socket, its executor on DynamoDB Local: API key queries and
 * mutations, refused keys, SigV4 publishItemChange from the notifier's own client (handlers/lib/publish.ts)
 * reaching a realtime subscriber, forged signatures, API-key publishItemChange refused by @aws_iam, bad bodies,
 * CORS, routing, and the server's lifecycle (port in use, nothing left listening after close).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Publisher } from '../../handlers/lib/publish';
import { PUBLISH_ITEM_CHANGE } from '../../schema/publish';
import { startAppSyncServer } from '../../local/appsync/server';
import { GET, PUT } from '../resolvers/support';
import { API_KEY, apiKeyHeaders, change, CREDS, ON_CHANGE, post, RealtimeClient, REGION, type Region, startRegion } from './support';

describe('local AppSync endpoint: HTTP', function () {
  this.timeout(20_000);
  let r: Region;
  before(async () => {
    r = await startRegion();
  });
  after(async () => {
    await r.server.close();
  });

  it('runs a mutation and a query with the API key, against the region\'s table', async () => {
    const put = await post(r.server.graphqlUrl, { query: PUT, variables: { input: { id: 'h-1', value: 'first' } } });
    assert.equal(put.status, 200);
    assert.equal(put.json.errors, undefined);
    assert.deepEqual({ ...(put.json.data!.putItem as object), updatedAt: 'x' }, { id: 'h-1', value: 'first', version: 1, updatedAt: 'x', updatedRegion: REGION });
    const got = await post(r.server.graphqlUrl, { query: GET, variables: { id: 'h-1' } });
    assert.equal(got.status, 200);
    assert.equal((got.json.data!.getItem as { value: string }).value, 'first');
  });

  it('the same query text, sent again with other variables, answers for those variables; an invalid one is refused each time (parsed documents are reused)', async () => {
    for (const [id, value] of [['h-doc-1', 'one'], ['h-doc-2', 'two'], ['h-doc-1', 'three']]) {
      const put = await post(r.server.graphqlUrl, { query: PUT, variables: { input: { id, value } } });
      assert.equal((put.json.data!.putItem as { value: string }).value, value);
      const got = await post(r.server.graphqlUrl, { query: GET, variables: { id } });
      assert.equal((got.json.data!.getItem as { value: string }).value, value, id);
    }
    const bad = 'query { getItem(id: "h-doc-1") { id nosuchfield } }';
    const first = await post(r.server.graphqlUrl, { query: bad });
    const again = await post(r.server.graphqlUrl, { query: bad });
    assert.equal((first.json.errors as Array<{ errorType: string }>)[0].errorType, 'ValidationError');
    assert.deepEqual(again.json, first.json);
    // a query that validates against the schema is not answered with another query's errors, nor the reverse
    assert.equal((await post(r.server.graphqlUrl, { query: GET, variables: { id: 'h-doc-2' } })).json.errors, undefined);
  });

  it('refuses an unknown or missing key with 401 UnauthorizedException', async () => {
    for (const headers of [{ 'x-api-key': 'da2-someoneelseskey' }, {}] as Record<string, string>[]) {
      const res = await post(r.server.graphqlUrl, { query: GET, variables: { id: 'h-1' } }, headers);
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.deepEqual(res.json, { errors: [{ errorType: 'UnauthorizedException', message: 'You are not authorized to make this call.' }] });
    }
  });

  it('a SigV4 publishItemChange (the notifier\'s client) answers 200 and reaches a subscriber', async () => {
    const sub = await RealtimeClient.connect(r.server.realtimeUrl, apiKeyHeaders(r.server.graphqlUrl));
    assert.equal((await sub.start('s1', ON_CHANGE, { id: 'h-pub' })).type, 'start_ack');
    const input = change('h-pub', 'published');
    const result = await new Publisher({ url: r.server.graphqlUrl, region: REGION, credentials: CREDS, maxAttempts: 1 }).publish(input);
    assert.deepEqual(result, { ok: true, attempts: 1 });
    const frame = await sub.next();
    assert.deepEqual(frame, { type: 'data', id: 's1', payload: { data: { onItemChange: input } } });
    await sub.close();
  });

  it('refuses a forged signature, a wrong secret and another region\'s signature with 403; nothing is delivered', async () => {
    const sub = await RealtimeClient.connect(r.server.realtimeUrl, apiKeyHeaders(r.server.graphqlUrl));
    assert.equal((await sub.start('s1', ON_CHANGE)).type, 'start_ack');
    const input = change('h-forged');
    // forged: a valid signature for one body, sent with another
    const body = JSON.stringify({ query: PUBLISH_ITEM_CHANGE, variables: { input } });
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const { HttpRequest } = await import('@smithy/protocol-http');
    const { Sha256 } = await import('@aws-crypto/sha256-js');
    const url = new URL(r.server.graphqlUrl);
    const signed = await new SignatureV4({ service: 'appsync', region: REGION, credentials: CREDS, sha256: Sha256, applyChecksum: false }).sign(
      new HttpRequest({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: +url.port, path: url.pathname, headers: { host: url.host, 'content-type': 'application/json' }, body }),
    );
    const forged = await fetch(r.server.graphqlUrl, { method: 'POST', headers: signed.headers, body: body.replace('"v"', '"w"') });
    assert.equal(forged.status, 403);
    assert.equal(((await forged.json()) as { errors: { errorType: string }[] }).errors[0].errorType, 'InvalidSignatureException');

    const cases: [string, ConstructorParameters<typeof Publisher>[0], RegExp][] = [
      ['wrong secret', { url: r.server.graphqlUrl, region: REGION, credentials: { ...CREDS, secretAccessKey: 'nope' } }, /HTTP 403: InvalidSignatureException/],
      ['unknown key', { url: r.server.graphqlUrl, region: REGION, credentials: { ...CREDS, accessKeyId: 'AKIDOTHER' } }, /HTTP 403: UnrecognizedClientException/],
      ['other region', { url: r.server.graphqlUrl, region: 'us-east-1', credentials: CREDS }, /HTTP 403: InvalidSignatureException/],
    ];
    for (const [name, cfg, reason] of cases) {
      const out = await new Publisher({ ...cfg, maxAttempts: 1 }).publish(input);
      assert.equal(out.ok, false, name);
      assert.match(out.ok ? '' : out.reason, reason, name);
    }
    const signedPublisher = new Publisher({ url: r.server.graphqlUrl, region: REGION, credentials: CREDS, maxAttempts: 1 });
    assert.deepEqual(await sub.framesBefore('h-marker-1', () => signedPublisher.publish(change('h-marker-1'))), [], 'no data frame for refused publishes');
    await sub.close();
  });

  it('refuses publishItemChange (@aws_iam) to an API key caller, and delivers nothing', async () => {
    const sub = await RealtimeClient.connect(r.server.realtimeUrl, apiKeyHeaders(r.server.graphqlUrl));
    assert.equal((await sub.start('s1', ON_CHANGE)).type, 'start_ack');
    const res = await post(r.server.graphqlUrl, { query: PUBLISH_ITEM_CHANGE, variables: { input: change('h-key') } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.data, { publishItemChange: null });
    assert.equal(res.json.errors?.[0].errorType, 'Unauthorized');
    assert.equal(res.json.errors?.[0].message, 'Not Authorized to access publishItemChange on type Mutation');
    const signedPublisher = new Publisher({ url: r.server.graphqlUrl, region: REGION, credentials: CREDS, maxAttempts: 1 });
    assert.deepEqual(await sub.framesBefore('h-marker-2', () => signedPublisher.publish(change('h-marker-2'))), [], 'nothing delivered');
    await sub.close();
  });

  it('answers a non-JSON body 400, a body without query 400, another method 405 and another path 404', async () => {
    const notJson = await post(r.server.graphqlUrl, '{"query": ');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.errors?.[0].errorType, 'MalformedHttpRequestException');
    const noQuery = await post(r.server.graphqlUrl, { variables: {} });
    assert.equal(noQuery.status, 400);
    assert.match(noQuery.json.errors?.[0].message ?? '', /"query"/);
    const get = await fetch(r.server.graphqlUrl, { headers: { 'x-api-key': API_KEY } });
    assert.equal(get.status, 405);
    const other = await fetch(r.server.graphqlUrl.replace('/graphql', '/nothing'), { method: 'POST', headers: { 'x-api-key': API_KEY }, body: '{}' });
    assert.equal(other.status, 404);
  });

  it('answers a CORS preflight like AppSync, and marks answers for any origin', async () => {
    const pre = await fetch(r.server.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-api-key' },
    });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    const allowed = (pre.headers.get('access-control-allow-headers') ?? '').split(',').map((h) => h.trim());
    for (const h of ['x-api-key', 'authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-user-agent', 'content-type']) assert.ok(allowed.includes(h), h);
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    const res = await fetch(r.server.graphqlUrl, { method: 'POST', headers: { 'x-api-key': API_KEY, origin: 'http://localhost:5173' }, body: JSON.stringify({ query: GET, variables: { id: 'x' } }) });
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });
});

describe('local AppSync endpoint: lifecycle', () => {
  it('rejects a port in use with a one-line error naming it, and leaves nothing listening after close', async () => {
    const r = await startRegion();
    const port = r.server.port;
    await assert.rejects(
      startAppSyncServer({ region: REGION, executor: r.fx.api(REGION), apiKey: API_KEY, credentials: CREDS, port }),
      (err: Error) => err.message.startsWith(`port ${port} is already in use`),
    );
    const sub = await RealtimeClient.connect(r.server.realtimeUrl, apiKeyHeaders(r.server.graphqlUrl));
    assert.equal((await sub.start('s1', ON_CHANGE)).type, 'start_ack');
    assert.equal(r.server.subscriptions(), 1);
    await r.server.close();
    assert.ok((await sub.closed).code > 0, 'the open socket was closed');
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s.end()));
        s.on('error', reject);
      }),
      /ECONNREFUSED/,
    );
  });
});
