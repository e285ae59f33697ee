import assert from 'node:assert/strict';
import net from 'node:net';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { checkHealth, handler } from '../../handlers/health';
import { ANSWER_RESERVE_MS } from '../../handlers/lib/budget';
import { DEFAULT_HEALTH_TIMEOUT_MS, loadConfig } from '../../handlers/lib/env';
import { drainFlagId } from '../../schema/rules';
import { freePort } from '../../local/dynamodbLocal';
import { call, restEvent, setEnv } from '../support/apigw';
import { AP, EU, createTables, doc, setState } from './helpers';

const healthEvent = (method = 'GET') => restEvent({ method, resource: '/health' });

describe('health handler (deep check, DynamoDB Local)', () => {
  let tables: { items: string; appConfig: string };
  let restore: () => void = () => undefined;
  function env(region: string, extra: Record<string, string | undefined> = {}): void {
    restore();
    // ITEMS_TABLE unset in every test: the health Lambda is deployed without it
    restore = setEnv({ AWS_REGION: region, APP_CONFIG_TABLE: tables.appConfig, PRIMARY_REGION: EU, ITEMS_TABLE: undefined, DRAIN: undefined, HEALTH_TIMEOUT_MS: undefined, ...extra });
  }
  before(async () => {
    tables = await createTables('health');
    await setState(tables.appConfig, 'active');
  });
  afterEach(async () => {
    restore();
    restore = () => undefined;
  });

  it('200 with the state when the table answers and nothing drains the region', async () => {
    env(AP);
    const res = await call(handler, healthEvent());
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
    assert.equal(res.body.region, AP);
    assert.equal(res.body.state, 'active');
    assert.equal(typeof res.body.checkedMs, 'number');
    assert.ok(res.body.checkedMs >= 0 && res.body.checkedMs < DEFAULT_HEALTH_TIMEOUT_MS);
  });

  it('needs no ITEMS_TABLE (only the app-config table); a missing APP_CONFIG_TABLE is a 500 naming it', async () => {
    env(EU, { ITEMS_TABLE: undefined });
    assert.equal(process.env.ITEMS_TABLE, undefined);
    const res = await call(handler, healthEvent());
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.state, 'active');
    env(EU, { APP_CONFIG_TABLE: undefined });
    const unset = await call(handler, healthEvent());
    assert.equal(unset.status, 500);
    assert.match(unset.body.error, /APP_CONFIG_TABLE is not set/);
    assert.doesNotMatch(unset.body.error, /ITEMS_TABLE/);
  });

  it('the deadline defaults to 1000 ms (inside Route53\'s 2 s, leaving room for API Gateway and Lambda)', () => {
    assert.equal(DEFAULT_HEALTH_TIMEOUT_MS, 1000);
    assert.equal(loadConfig(['appConfigTable'], { AWS_REGION: EU, APP_CONFIG_TABLE: 't', PRIMARY_REGION: EU }).healthTimeoutMs, 1000);
    assert.equal(loadConfig(['appConfigTable'], { AWS_REGION: EU, APP_CONFIG_TABLE: 't', PRIMARY_REGION: EU, HEALTH_TIMEOUT_MS: ' ' }).healthTimeoutMs, 1000);
  });

  it('503 when DRAIN=true in the environment', async () => {
    env(AP, { DRAIN: 'true' });
    const res = await call(handler, healthEvent());
    assert.equal(res.status, 503);
    assert.deepEqual({ status: res.body.status, region: res.body.region }, { status: 'unhealthy', region: AP });
    assert.match(res.body.reason, /drained by the DRAIN environment variable/);
  });

  it('DRAIN other than "true" does not drain', async () => {
    env(AP, { DRAIN: 'false' });
    assert.equal((await call(handler, healthEvent())).status, 200);
  });

  it('503 for the region whose drain flag item says drained; other regions and drained:false stay healthy', async () => {
    await doc(AP).send(new PutCommand({ TableName: tables.appConfig, Item: { id: drainFlagId(AP), drained: true, reason: 'maintenance window' } }));
    await doc(EU).send(new PutCommand({ TableName: tables.appConfig, Item: { id: drainFlagId(AP), drained: true, reason: 'replicated flag' } }));
    await doc(EU).send(new PutCommand({ TableName: tables.appConfig, Item: { id: drainFlagId(EU), drained: false, reason: 'undrained' } }));
    try {
      env(AP);
      const drained = await call(handler, healthEvent());
      assert.equal(drained.status, 503);
      assert.match(drained.body.reason, /region ap-southeast-2 is drained by its drain flag: maintenance window/);
      env(EU);
      const eu = await call(handler, healthEvent());
      assert.equal(eu.status, 200, JSON.stringify(eu.body));
    } finally {
      await doc(AP).send(new PutCommand({ TableName: tables.appConfig, Item: { id: drainFlagId(AP), drained: false } }));
    }
    env(AP);
    assert.equal((await call(handler, healthEvent())).status, 200);
  });

  it('503 in the primary during failover; 200 elsewhere', async () => {
    await setState(tables.appConfig, 'failover');
    try {
      env(EU);
      const primary = await call(handler, healthEvent());
      assert.equal(primary.status, 503);
      assert.match(primary.body.reason, /eu-west-1 is the primary and the app state is failover/);
      env(AP);
      const other = await call(handler, healthEvent());
      assert.equal(other.status, 200);
      assert.equal(other.body.state, 'failover');
    } finally {
      await setState(tables.appConfig, 'active');
    }
  });

  it('fenced is healthy (reads are served)', async () => {
    await setState(tables.appConfig, 'fenced', [EU]);
    try {
      env(EU);
      const res = await call(handler, healthEvent());
      assert.equal(res.status, 200);
      assert.equal(res.body.state, 'fenced');
    } finally {
      await setState(tables.appConfig, 'active', [EU]);
    }
  });

  it('a missing state item is healthy with state null', async () => {
    await setState(tables.appConfig, null, [AP]);
    try {
      env(AP);
      const res = await call(handler, healthEvent());
      assert.equal(res.status, 200);
      assert.equal(res.body.state, null);
    } finally {
      await setState(tables.appConfig, 'active', [AP]);
    }
  });

  it('503 when the app-config table does not exist', async () => {
    env(EU, { APP_CONFIG_TABLE: 'no-such-table-anywhere' });
    const res = await call(handler, healthEvent());
    assert.equal(res.status, 503);
    assert.equal(res.body.reason, 'the app-config table is unreachable (ResourceNotFoundException)', 'the error\'s name only, not its message');
  });

  it('a failed read answers the error name only (an AccessDenied message names the account and role) and logs one JSON line with the message', async () => {
    const denied = Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/health-role/fn is not authorized to perform: dynamodb:GetItem'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
    const logged: Array<{ what: string; err: unknown; status: number }> = [];
    const { healthy, body } = await checkHealth({
      region: EU,
      primaryRegion: EU,
      drainEnv: false,
      timeoutMs: 1000,
      readState: () => Promise.reject(denied),
      readDrainFlag: () => Promise.resolve(null),
      nowMs: () => Date.now(),
      logFailure: (what, err, status) => logged.push({ what, err, status }),
    });
    assert.equal(healthy, false);
    assert.equal(body.reason, 'the app-config table is unreachable (AccessDeniedException)');
    assert.ok(!JSON.stringify(body).includes('arn:aws'));
    assert.equal(logged.length, 1);
    assert.equal(logged[0].err, denied);

    // through the Lambda handler: the log line is JSON with the request id
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => lines.push(args.map(String).join(' '));
    try {
      env(EU, { APP_CONFIG_TABLE: 'no-such-table-either' });
      const res = await handler(healthEvent(), { awsRequestId: 'req-health', getRemainingTimeInMillis: () => 5000 });
      assert.equal(res.statusCode, 503);
    } finally {
      console.error = original;
    }
    assert.equal(lines.length, 1, lines.join('\n'));
    const line = JSON.parse(lines[0]);
    assert.deepEqual({ handler: line.handler, requestId: line.requestId, errorName: line.errorName, status: line.status }, { handler: 'health', requestId: 'req-health', errorName: 'ResourceNotFoundException', status: 503 });
  });

  it('the deadline is capped by the invocation\'s remaining time', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      env(EU, { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` });
      // the context says 600 ms are left when the handler asks (a fixed answer: how long the set-up took must not
      // move the figure)
      const res = await handler(healthEvent(), { awsRequestId: 'r', getRemainingTimeInMillis: () => 600 });
      assert.equal(res.statusCode, 503);
      const within = Number(/did not answer within (\d+) ms/.exec(JSON.parse(res.body).reason)?.[1]);
      // what was left when the check started: at most 600 ms less the answer reserve, not the 1000 ms default
      assert.ok(within > 0 && within <= 600 - ANSWER_RESERVE_MS, JSON.parse(res.body).reason);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('503 when DynamoDB is unreachable (closed port)', async () => {
    const port = await freePort();
    env(EU, { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`, HEALTH_TIMEOUT_MS: '1500' });
    const res = await call(handler, healthEvent());
    assert.equal(res.status, 503);
    assert.match(res.body.reason, /app-config table (is unreachable|did not answer within 1500 ms)/);
    assert.ok(res.body.checkedMs < 1500 + 500, `checkedMs ${res.body.checkedMs}`);
  });

  it('503 within the deadline when DynamoDB accepts but never answers', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      env(EU, { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`, HEALTH_TIMEOUT_MS: '300' });
      const started = Date.now();
      const res = await call(handler, healthEvent());
      const took = Date.now() - started;
      assert.equal(res.status, 503);
      assert.match(res.body.reason, /did not answer within 300 ms/);
      assert.ok(took < 1500, `took ${took} ms`);
      assert.ok(res.body.checkedMs >= 290, `checkedMs ${res.body.checkedMs}`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('without HEALTH_TIMEOUT_MS a hanging table is 503 after the 1000 ms default, well inside 2 s', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      env(EU, { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` });
      const started = Date.now();
      const res = await call(handler, healthEvent());
      const took = Date.now() - started;
      assert.equal(res.status, 503);
      assert.match(res.body.reason, /did not answer within 1000 ms/);
      assert.ok(res.body.checkedMs >= 990, `checkedMs ${res.body.checkedMs}`);
      // Route53 wants the answer within 2 s: the 1000 ms default leaves room for that; the bound below only guards
      // against a hang (5 × the timeout), it is not a speed test
      assert.ok(took < 5 * 1000, `took ${took} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('405 for POST; 500 naming a bad HEALTH_TIMEOUT_MS', async () => {
    env(EU);
    const post = await call(handler, healthEvent('POST'));
    assert.equal(post.status, 405);
    assert.match(post.body.error, /method POST is not allowed here: allowed are GET, HEAD/);
    env(EU, { HEALTH_TIMEOUT_MS: 'soon' });
    const bad = await call(handler, healthEvent());
    assert.equal(bad.status, 500);
    assert.match(bad.body.error, /HEALTH_TIMEOUT_MS is "soon"/);
  });
});
