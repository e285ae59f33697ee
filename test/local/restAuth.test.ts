/**
 * The emulator's REST endpoint with client credentials (local/rest.ts + local/restAuth.ts), with recording stand-ins
 * for the functions: in token mode the REQUEST authorizer event it sends, the caller's identity reaching the
 * items handler as requestContext.authorizer, and API Gateway's answers for each authorizer outcome; in apiKey
 * mode the shared key, and `/graphql` swapping in the region's AppSync key. Real sockets, no database.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { generateKeyPair, SignJWT } from 'jose';
import { bundleHandler } from '../../components/bundle';
import { FunctionError, LambdaHost } from '../../local/lambdaHost';
import { startRestServer, type RestServer } from '../../local/rest';
import { resourceMatches } from '../../local/restAuth';

const ok = () => ({ statusCode: 200, body: '{"ok":true}' });

describe('local REST endpoint: client credentials, one for every region, none needed only by /health', () => {
  const events: APIGatewayProxyEvent[] = [];
  const authEvents: Record<string, unknown>[] = [];
  let decide: (e: Record<string, unknown>) => unknown;
  const fn = { invoke: async <T>(event: unknown): Promise<T> => (events.push(event as APIGatewayProxyEvent), ok() as T) };
  const authorizer = {
    invoke: async <T>(event: unknown): Promise<T> => {
      authEvents.push(event as Record<string, unknown>);
      return decide(event as Record<string, unknown>) as T;
    },
  };
  const allow = (resource: string) => ({ principalId: 'alice', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resource }] }, context: { sub: 'alice' } });
  let token: RestServer;
  let keyed: RestServer;
  let upstream: http.Server;
  const upstreamKeys: (string | undefined)[] = [];

  before(async () => {
    upstream = http.createServer((req, res) => {
      upstreamKeys.push(req.headers['x-api-key'] as string | undefined);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{}}');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const graphqlUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/graphql`;
    token = await startRestServer({ region: 'eu-west-1', functions: { items: fn, health: fn, state: fn }, graphqlUrl, auth: { mode: 'token', authorizer } });
    keyed = await startRestServer({ region: 'eu-west-1', functions: { items: fn, health: fn, state: fn }, graphqlUrl, auth: { mode: 'apiKey', key: 'sharedKey0123456789abc' }, appsyncApiKey: 'da2-regionalkey' });
  });
  after(async () => {
    await Promise.all([token.close(), keyed.close()]);
    upstream.close();
  });
  beforeEach(() => {
    events.length = 0;
    authEvents.length = 0;
    decide = (e) => allow(`${String(e.methodArn).split('/').slice(0, 2).join('/')}/*`);
  });

  it('token: sends the REQUEST authorizer event and hands the handler the identity as requestContext.authorizer', async () => {
    const res = await fetch(`${token.restUrl}/items/a1?x=1`, { method: 'PUT', headers: { Authorization: 'Bearer tok', 'content-type': 'application/json' }, body: '{"value":"v"}' });
    assert.equal(res.status, 200);
    const a = authEvents[0];
    assert.equal(a.type, 'REQUEST');
    assert.match(String(a.methodArn), /^arn:aws:execute-api:eu-west-1:000000000000:[a-z0-9]+\/live\/PUT\/items\/a1$/);
    assert.deepEqual([a.resource, a.path, a.httpMethod, (a.headers as Record<string, string>).Authorization, a.queryStringParameters, a.pathParameters], ['/items/{id}', '/items/a1', 'PUT', 'Bearer tok', { x: '1' }, { id: 'a1' }]);
    assert.deepEqual(events[0].requestContext.authorizer, { sub: 'alice', principalId: 'alice' });
  });

  it('token: no Authorization → 401 without calling the authorizer; "Unauthorized" → 401; other failure → 500; Deny or a non-covering Allow → 403', async () => {
    const put = (headers: Record<string, string> = { authorization: 't' }) => fetch(`${token.restUrl}/items/a1`, { method: 'DELETE', headers });
    let res = await put({});
    assert.deepEqual([res.status, await res.json(), authEvents.length, events.length], [401, { message: 'Unauthorized' }, 0, 0]);
    decide = () => {
      throw new FunctionError('authorizer', 'Error', 'Unauthorized');
    };
    res = await put();
    assert.deepEqual([res.status, await res.json(), res.headers.get('x-amzn-errortype')], [401, { message: 'Unauthorized' }, 'UnauthorizedException']);
    decide = () => {
      throw new FunctionError('authorizer', 'TypeError', 'boom');
    };
    res = await put();
    assert.deepEqual([res.status, await res.json(), res.headers.get('x-amzn-errortype')], [500, { message: null }, 'AuthorizerConfigurationException']);
    decide = (e) => ({ ...allow(String(e.methodArn)), policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: String(e.methodArn) }] } });
    res = await put();
    assert.deepEqual([res.status, await res.json()], [403, { Message: 'User is not authorized to access this resource with an explicit deny' }]);
    decide = (e) => allow(String(e.methodArn).replace('/DELETE/', '/GET/'));
    res = await put();
    assert.deepEqual([res.status, await res.json()], [403, { Message: 'User is not authorized to access this resource' }]);
    assert.equal(events.length, 0, 'the handler never ran');
  });

  it('token: /health needs no credential; /state takes one, as deployed', async () => {
    assert.equal((await fetch(`${token.restUrl}/health`)).status, 200);
    assert.equal(authEvents.length, 0);
    assert.equal((await fetch(`${token.restUrl}/state`)).status, 401);
  });

  it('apiKey: the shared key opens items; none or another → 403 Forbidden; /graphql sends the region\'s AppSync key upstream', async () => {
    assert.equal((await fetch(`${keyed.restUrl}/items/k`, { headers: { 'x-api-key': 'sharedKey0123456789abc' } })).status, 200);
    for (const headers of [{}, { 'x-api-key': 'da2-regionalkey' }] as Record<string, string>[]) {
      const res = await fetch(`${keyed.restUrl}/items/k`, { headers });
      assert.deepEqual([res.status, await res.json()], [403, { message: 'Forbidden' }]);
    }
    assert.equal((await fetch(`${keyed.restUrl}/health`)).status, 200);
    upstreamKeys.length = 0;
    const g = await fetch(`${keyed.restUrl}/graphql`, { method: 'POST', headers: { 'x-api-key': 'sharedKey0123456789abc', 'content-type': 'application/json' }, body: '{"query":"{a}"}' });
    assert.equal(g.status, 200);
    assert.deepEqual(upstreamKeys, ['da2-regionalkey']);
  });

  it('token, with the bundled authorizer: its JWKS down → 500 AuthorizerConfigurationException (not 401), every time; a malformed token → 401', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const jwks = http.createServer((_req, res) => res.writeHead(503).end('down'));
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    bundleHandler('authorizer');
    const host = new LambdaHost({
      handler: 'authorizer',
      region: 'eu-west-1',
      functionName: 'authorizer',
      environment: { AUTH_ISSUER: 'https://issuer.example/', AUTH_AUDIENCE: 'aud', AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`, AUTH_CACHE_TTL: '300' },
      dynamodbEndpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const real = await startRestServer({ region: 'eu-west-1', functions: { items: fn, health: fn, state: fn }, graphqlUrl: 'http://127.0.0.1:9/graphql', auth: { mode: 'token', authorizer: host } });
    try {
      const good = await new SignJWT({ sub: 'hana', iss: 'https://issuer.example/', aud: 'aud', exp: Math.floor(Date.now() / 1000) + 600 })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .sign(privateKey);
      const get = (t: string) => fetch(`${real.restUrl}/items/a1`, { headers: { authorization: `Bearer ${t}` } });
      for (let i = 0; i < 2; i += 1) {
        const res = await get(good);
        assert.deepEqual([res.status, await res.json(), res.headers.get('x-amzn-errortype')], [500, { message: null }, 'AuthorizerConfigurationException'], `request ${i + 1}`);
      }
      const malformed = await get('not-a-jwt');
      assert.deepEqual([malformed.status, await malformed.json()], [401, { message: 'Unauthorized' }]);
      assert.equal(events.length, 0, 'the handler never ran');
    } finally {
      await real.close();
      await host.stop();
      await new Promise<void>((r) => jwks.close(() => r()));
    }
  });

  it('apiKey: the key is compared with crypto.timingSafeEqual on equal-length digests, whatever the length sent; a prefix or a longer key is refused', async () => {
    const original = crypto.timingSafeEqual;
    const lengths: [number, number][] = [];
    crypto.timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => (lengths.push([a.byteLength, b.byteLength]), original(a, b));
    try {
      const statusFor = async (key: string) => (await fetch(`${keyed.restUrl}/items/k`, { headers: { 'x-api-key': key } })).status;
      assert.equal(await statusFor('sharedKey0123456789abc'), 200);
      for (const wrong of ['sharedKey0123456789abd', 'sharedKey', 'sharedKey0123456789abc0', 'x'.repeat(2000)]) assert.equal(await statusFor(wrong), 403, wrong.slice(0, 30));
      assert.equal(lengths.length, 5, 'every key given was compared in constant time');
      assert.ok(lengths.every(([a, b]) => a === 32 && b === 32), JSON.stringify(lengths));
    } finally {
      crypto.timingSafeEqual = original;
    }
  });

  it('resourceMatches: IAM wildcards', () => {
    assert.ok(resourceMatches('arn:aws:execute-api:eu-west-1:1:api/live/*', 'arn:aws:execute-api:eu-west-1:1:api/live/GET/items/x'));
    assert.ok(resourceMatches('arn:aws:execute-api:eu-west-1:1:api/live/?ET/*', 'arn:aws:execute-api:eu-west-1:1:api/live/GET/items/x'));
    assert.ok(!resourceMatches('arn:aws:execute-api:eu-west-1:1:api/live/GET/*', 'arn:aws:execute-api:eu-west-1:1:api/live/PUT/items/x'));
    assert.ok(!resourceMatches('arn:aws:execute-api:eu-west-1:1:api/prod/*', 'arn:aws:execute-api:eu-west-1:1:api/live/GET/items/x'));
  });
});
