import assert from 'node:assert/strict';
import net from 'node:net';
import { ANSWER_RESERVE_MS } from '../../handlers/lib/budget';
import { handler } from '../../handlers/state';
import { APP_STATE_ID } from '../../schema/rules';
import { call, restEvent, setEnv } from '../support/apigw';
import { AP, EU, createTables, doc, setState } from './helpers';
import { PutCommand } from '@aws-sdk/lib-dynamodb';

const stateEvent = (method = 'GET') => restEvent({ method, resource: '/state' });

describe('state handler (GET /state, DynamoDB Local)', () => {
  let tables: { items: string; appConfig: string };
  let restore: () => void = () => undefined;
  function env(region: string, extra: Record<string, string | undefined> = {}): void {
    restore();
    restore = setEnv({ AWS_REGION: region, APP_CONFIG_TABLE: tables.appConfig, PRIMARY_REGION: EU, WRITE_MODE: 'multi-master', ...extra });
  }
  before(async () => {
    tables = await createTables('state');
  });
  afterEach(() => {
    restore();
    restore = () => undefined;
  });

  it('answers the stored state with the region, write mode and whether it is writable', async () => {
    await doc(AP).send(
      new PutCommand({ TableName: tables.appConfig, Item: { id: APP_STATE_ID, state: 'active', version: 4, updatedAt: '2026-02-01T10:00:00.000Z', reason: 'all clear' } }),
    );
    env(AP);
    const res = await call(handler, stateEvent());
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      state: 'active',
      updatedAt: '2026-02-01T10:00:00.000Z',
      reason: 'all clear',
      version: 4,
      region: AP,
      writeMode: 'multi-master',
      primaryRegion: EU,
      writable: true,
      writeRegion: AP,
    });
    env(AP, { WRITE_MODE: 'primary' });
    const primary = await call(handler, stateEvent());
    assert.equal(primary.body.writeMode, 'primary');
    assert.equal(primary.body.writeRegion, EU);
  });

  it('a failover still waiting out the write bound: not writable yet, says from when and why', async () => {
    const writesFromMs = Date.now() + 25_000;
    await doc(AP).send(new PutCommand({ TableName: tables.appConfig, Item: { id: APP_STATE_ID, state: 'failover', version: 5, updatedAt: new Date().toISOString(), reason: 'r', writesFromMs } }));
    try {
      env(AP, { WRITE_MODE: 'primary' });
      const res = await call(handler, stateEvent());
      assert.equal(res.status, 200);
      assert.equal(res.body.writable, false);
      assert.equal(res.body.writesFrom, new Date(writesFromMs).toISOString());
      assert.match(res.body.notWritableBecause, /failover: ap-southeast-2 takes writes in 2\d s, once every write that read the previous state has committed/);
    } finally {
      await setState(tables.appConfig, 'active');
    }
  });

  it('fenced and failover-in-the-primary are not writable; failover elsewhere is', async () => {
    await setState(tables.appConfig, 'fenced');
    env(EU);
    let res = await call(handler, stateEvent());
    assert.equal(res.body.state, 'fenced');
    assert.equal(res.body.writable, false);
    assert.match(res.body.notWritableBecause, /fenced/);
    await setState(tables.appConfig, 'failover');
    res = await call(handler, stateEvent());
    assert.equal(res.body.writable, false);
    env(AP);
    res = await call(handler, stateEvent());
    assert.equal(res.body.writable, true);
    assert.equal(res.body.writeRegion, AP);
  });

  it('a missing state item answers state null, not writable', async () => {
    await setState(tables.appConfig, null);
    env(EU);
    const res = await call(handler, stateEvent());
    assert.equal(res.status, 200);
    assert.equal(res.body.state, null);
    assert.equal(res.body.writable, false);
  });

  it('405 for PUT; 500 ConfigError naming the error when the table is missing; 500 when APP_CONFIG_TABLE is unset', async () => {
    env(EU);
    const put = await call(handler, stateEvent('PUT'));
    assert.equal(put.status, 405);
    assert.match(put.body.error, /method PUT is not allowed here: allowed are GET/);
    env(EU, { APP_CONFIG_TABLE: 'no-such-table' });
    const missing = await call(handler, stateEvent());
    assert.equal(missing.status, 500, 'a missing table is a deployment mistake: retrying cannot help');
    assert.equal(missing.body.errorType, 'ConfigError');
    assert.equal(missing.headers['retry-after'], undefined);
    assert.match(missing.body.error, /reading the app state failed \(ResourceNotFoundException\): the deployment is misconfigured/);
    env(EU, { APP_CONFIG_TABLE: undefined });
    const unset = await call(handler, stateEvent());
    assert.equal(unset.status, 500);
    assert.match(unset.body.error, /APP_CONFIG_TABLE is not set/);
  });

  it('a table that never answers: 503 Timeout within the invocation\'s remaining time', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((sock) => sockets.push(sock)); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      env(EU, { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` });
      const started = Date.now();
      const deadline = started + 700;
      const res = await handler(stateEvent(), { awsRequestId: 'r', getRemainingTimeInMillis: () => deadline - Date.now() });
      const took = Date.now() - started;
      assert.equal(res.statusCode, 503);
      assert.equal(JSON.parse(res.body).errorType, 'Timeout');
      // ended by the budget (700 ms left less the answer reserve), not by the SDK giving up on its own; the upper
      // bound only guards against a hang (5 × the invocation), it is not a speed test
      assert.ok(took >= 700 - ANSWER_RESERVE_MS - 5 && took < 5 * 700, `took ${took} ms`);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
