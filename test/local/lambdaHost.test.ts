/**
 * local/lambdaHost.ts runs a bundled handler the way Lambda runs a function: a sandbox (worker thread) is started on
 * the first invocation, reused by the next ones, and replaced — on the next invocation — after a configuration
 * update. The health bundle is used because it answers without a table when DRAIN is set, and with a clear
 * "unreachable" when the table endpoint refuses connections.
 */
import assert from 'node:assert/strict';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { bundleHandler } from '../../components/bundle';
import { LambdaHost } from '../../local/lambdaHost';
import { restEvent } from '../support/apigw';

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
});
