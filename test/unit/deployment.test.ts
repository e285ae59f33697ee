/**
 * API Gateway serves a stage from a deployment snapshot: the deployment's trigger must cover every input of every
 * Method and Integration, or a changed authorization, parameter or timeout never reaches the stage.
 * Checked against the inputs the program actually registered, not against a copy of them.
 */
import assert from 'node:assert/strict';
import { deploymentTrigger, type RouteInputs } from '../../components/restApi';
import { cachedRun, named, ofType } from '../../scripts/mockCloud';

const R = ['eu-west-1', 'ap-southeast-2'];

describe('API Gateway deployment trigger', function () {
  this.timeout(120_000);

  it('is the hash of every registered Method and Integration input of its region, and of nothing else', async () => {
    const run = await cachedRun({ regions: JSON.stringify(R) });
    for (const region of R) {
      const methods = ofType(run, 'aws:apigateway/method:Method').filter((m) => m.name.startsWith(`api-${region}-`));
      assert.equal(methods.length, 6, `${region}: 6 routes`);
      const routes: RouteInputs[] = methods.map((m) => ({
        key: m.name.slice(`api-${region}-`.length),
        method: m.inputs,
        integration: named(run, `${m.name}-integration`).inputs,
      }));
      const trigger = named(run, `api-${region}-deployment`).inputs.triggers.redeployment;
      assert.match(trigger, /^[0-9a-f]{64}$/);
      assert.equal(trigger, deploymentTrigger(routes), region);
    }
    assert.notEqual(named(run, `api-${R[0]}-deployment`).inputs.triggers.redeployment, named(run, `api-${R[1]}-deployment`).inputs.triggers.redeployment);
  });

  it("changes when a method's authorization, a request parameter or an integration timeout changes; not on key order", async () => {
    const run = await cachedRun({ regions: JSON.stringify(R) });
    const region = R[0];
    const routes = (): RouteInputs[] =>
      ofType(run, 'aws:apigateway/method:Method')
        .filter((m) => m.name.startsWith(`api-${region}-`))
        .map((m) => ({ key: m.name, method: structuredClone(m.inputs), integration: structuredClone(named(run, `${m.name}-integration`).inputs) }));
    const base = deploymentTrigger(routes());
    const edits: Record<string, (r: RouteInputs[]) => void> = {
      'authorization NONE → AWS_IAM': (r) => (r[0].method.authorization = 'AWS_IAM'),
      'a method request parameter': (r) => (r[1].method.requestParameters = { 'method.request.header.If-Match': false }),
      'apiKeyRequired': (r) => (r[2].method.apiKeyRequired = !r[2].method.apiKeyRequired), // apiKey mode: true on every route but /health
      'integration timeout': (r) => (r[0].integration.timeoutMilliseconds = 5000),
      'integration passthrough behaviour': (r) => (r[3].integration.passthroughBehavior = 'NEVER'),
    };
    for (const [what, edit] of Object.entries(edits)) {
      const changed = routes();
      edit(changed);
      assert.notEqual(deploymentTrigger(changed), base, what);
    }
    // same inputs in another key or route order: same trigger (no needless redeployments)
    const shuffled = routes().reverse().map((r) => ({ key: r.key, integration: Object.fromEntries(Object.entries(r.integration).reverse()), method: r.method }));
    assert.equal(deploymentTrigger(shuffled), base);
  });
});
