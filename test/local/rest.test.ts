/**
 * The emulator's REST endpoint (local/rest.ts) on its own, with functions that record the events they get and answer
 * what a test wants: the proxy event API Gateway would build, and API Gateway's answers for what it refuses.
 */
import assert from 'node:assert/strict';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { FunctionError } from '../../local/lambdaHost';
import { startRestServer, type RestServer } from '../../local/rest';

describe('local REST endpoint (API Gateway REST API, Lambda proxy)', () => {
  const events: APIGatewayProxyEvent[] = [];
  let answer: () => unknown = () => ({ statusCode: 200, body: '{"ok":true}', headers: { 'Content-Type': 'application/json' } });
  const fn = {
    invoke: async <T>(event: unknown): Promise<T> => {
      events.push(event as APIGatewayProxyEvent);
      return answer() as T;
    },
  };
  let server: RestServer;

  before(async () => {
    server = await startRestServer({ region: 'eu-west-1', functions: { items: fn, health: fn, state: fn }, graphqlUrl: 'http://127.0.0.1:9/graphql' });
  });
  after(() => server.close());
  beforeEach(() => {
    events.length = 0;
    answer = () => ({ statusCode: 200, body: '{"ok":true}', headers: { 'Content-Type': 'application/json' } });
  });

  it('serves under the stage path and hands the function the proxy event', async () => {
    assert.match(server.restUrl, /^http:\/\/127\.0\.0\.1:\d+\/live$/);
    const res = await fetch(`${server.restUrl}/items/a%20b?x=1&x=2&y=3`, { method: 'PUT', headers: { 'content-type': 'application/json', 'X-Trace': 't1' }, body: '{"value":"v"}' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true });
    const e = events[0];
    assert.equal(e.resource, '/items/{id}');
    assert.equal(e.path, '/items/a%20b');
    assert.deepEqual(e.pathParameters, { id: 'a b' });
    assert.equal(e.httpMethod, 'PUT');
    assert.deepEqual(e.queryStringParameters, { x: '2', y: '3' });
    assert.deepEqual(e.multiValueQueryStringParameters, { x: ['1', '2'], y: ['3'] });
    assert.equal(e.headers['X-Trace'], 't1');
    assert.equal(e.body, '{"value":"v"}');
    assert.equal(e.isBase64Encoded, false);
    assert.equal(e.requestContext.stage, 'live');
    assert.equal(e.requestContext.path, '/live/items/a%20b');
    assert.equal(e.requestContext.identity.sourceIp, '127.0.0.1');
  });

  it('an undefined route or method is 403 Missing Authentication Token; no function runs', async () => {
    for (const [method, path] of [['GET', '/nothing'], ['POST', '/items/x'], ['GET', '/items'], ['GET', '/health/x']]) {
      const res = await fetch(`${server.restUrl}${path}`, { method });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
      assert.deepEqual(await res.json(), { message: 'Missing Authentication Token' });
    }
    const outsideStage = await fetch(server.restUrl.replace('/live', '/items/x'));
    assert.equal(outsideStage.status, 403);
    assert.equal(events.length, 0);
  });

  it('a function error, a malformed result or a non-string body is 502 Internal server error', async () => {
    const bad: Array<() => unknown> = [
      () => {
        throw new FunctionError('f', 'Error', 'boom');
      },
      () => ({ body: 'no status' }),
      () => ({ statusCode: 200, body: { not: 'a string' } }),
      () => null,
    ];
    for (const b of bad) {
      answer = b;
      const res = await fetch(`${server.restUrl}/health`);
      assert.equal(res.status, 502);
      assert.deepEqual(await res.json(), { message: 'Internal server error' });
    }
  });
});
