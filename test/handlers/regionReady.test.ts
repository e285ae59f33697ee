import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_PASSES, handler, parseEvent, POLL_MS, type RegionReadyDeps, SAFETY_MS, waitRegionReady } from '../../handlers/regionReady';
import { setEnv } from '../support/apigw';
import { createTables, EU } from './helpers';

/**
 * Deps whose table statuses and health answers play a script, on a clock that only the gate's own sleeps move: what
 * the gate asked, and how long it would have waited, are read back exactly.
 */
function scripted(opts: { tables?: Record<string, Array<string | Error>>; health?: Array<number | Error>; budgetMs?: number }) {
  let clock = 0;
  const calls: string[] = [];
  const budget = opts.budgetMs ?? 900_000;
  const tables = Object.fromEntries(Object.entries(opts.tables ?? {}).map(([k, v]) => [k, [...v]]));
  const health = [...(opts.health ?? [])];
  const deps: RegionReadyDeps = {
    region: EU,
    async tableStatus(name) {
      calls.push(`describe ${name}`);
      const queue = tables[name];
      const next = queue.length > 1 ? queue.shift()! : queue[0];
      if (next instanceof Error) throw next;
      return next;
    },
    async health(url) {
      calls.push(`health ${url}`);
      const next = health.length > 1 ? health.shift()! : health[0];
      if (next instanceof Error) throw next;
      return next;
    },
    async sleep(ms) {
      calls.push(`sleep ${ms}`);
      clock += ms;
    },
    remainingMs: () => budget - clock,
    now: () => clock,
  };
  return { deps, calls };
}

const notFound = (): Error => Object.assign(new Error('Requested resource not found: Table: t-items not found'), { name: 'ResourceNotFoundException' });
const EVENT = { tables: ['t-items', 't-app-config'], healthUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/health' };

describe('region readiness gate (handlers/regionReady.ts)', () => {
  describe('the event', () => {
    it('refuses a bad event with an error naming the field and what is allowed', () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ ...EVENT, tables: [] }, /^tables: \[\] is not a list of 1 to 10 DynamoDB table names/],
        [{ ...EVENT, tables: ['ok-table', 'x'] }, /^tables: \["ok-table","x"\]/],
        [{ ...EVENT, tables: Array.from({ length: 11 }, (_, i) => `table-${i}`) }, /^tables: .* 1 to 10/],
        [{ ...EVENT, tables: ['has space'] }, /^tables: /],
        [{ ...EVENT, healthUrl: 'ftp://example.com/health' }, /^healthUrl: "ftp:\/\/example.com\/health" is not an http\(s\) URL/],
        [{ ...EVENT, healthUrl: 'not a url' }, /^healthUrl: "not a url"/],
        [{ ...EVENT, healthUrl: undefined }, /^healthUrl: undefined/],
        [{ ...EVENT, passes: 0 }, /^passes: 0 is not an integer from 1 to 10/],
        [{ ...EVENT, passes: 2.5 }, /^passes: 2.5/],
        [{ ...EVENT, passes: '3' }, /^passes: "3"/],
        [{ ...EVENT, drained: 'yes' }, /^drained: "yes" is not true or false/],
        [null, /^tables: undefined/],
      ];
      for (const [event, message] of cases) assert.throws(() => parseEvent(event), { message }, JSON.stringify(event));
    });

    it(`defaults to ${DEFAULT_PASSES} passes, not drained`, () => {
      assert.deepEqual(parseEvent(EVENT), { tables: EVENT.tables, healthUrl: EVENT.healthUrl, passes: DEFAULT_PASSES, drained: false });
    });
  });

  describe('waiting (scripted DynamoDB and health answers)', () => {
    it('waits for each table to be ACTIVE in this region (a replica not there yet included), then for the health check to pass N times in a row', async () => {
      const { deps, calls } = scripted({
        tables: { 't-items': [notFound(), 'CREATING', 'ACTIVE'], 't-app-config': ['ACTIVE'] },
        // a failure resets the count: two passes, a 503, a pass, a refused connection, then three passes (a 3xx is
        // a pass, as for Route53)
        health: [200, 200, 503, 200, new Error('connect ECONNREFUSED'), 200, 301, 204],
      });
      const answer = await waitRegionReady(deps, EVENT);
      assert.deepEqual(answer, { region: EU, tables: { 't-items': 'ACTIVE', 't-app-config': 'ACTIVE' }, healthPasses: 3, waitedMs: 9 * POLL_MS });
      const h = `health ${EVENT.healthUrl}`;
      const s = `sleep ${POLL_MS}`;
      assert.deepEqual(calls, ['describe t-items', s, 'describe t-items', s, 'describe t-items', 'describe t-app-config', h, s, h, s, h, s, h, s, h, s, h, s, h, s, h]);
    });

    it('a drained region (its /health answers 503 on purpose) waits for its tables only', async () => {
      const { deps, calls } = scripted({ tables: { 't-items': ['ACTIVE'], 't-app-config': ['ACTIVE'] }, health: [503] });
      const answer = await waitRegionReady(deps, { ...EVENT, drained: true });
      assert.equal(answer.healthPasses, 0);
      assert.deepEqual(calls, ['describe t-items', 'describe t-app-config']);
    });

    it('gives up before its time runs out, naming the table and the last status it saw; nothing after it is asked', async () => {
      // room for 2 pauses: POLL_MS + SAFETY_MS must be left before each
      const { deps, calls } = scripted({ tables: { 't-items': ['CREATING'], 't-app-config': ['ACTIVE'] }, budgetMs: 3 * POLL_MS + SAFETY_MS - 1 });
      await assert.rejects(waitRegionReady(deps, EVENT), (err: Error) => {
        assert.equal(err.message, `region ${EU}: gave up waiting for table t-items to be ACTIVE in ${EU} (last: CREATING); the latency record was not created — run \`pulumi up\` again once it is`);
        return true;
      });
      assert.deepEqual(calls, ['describe t-items', `sleep ${POLL_MS}`, 'describe t-items', `sleep ${POLL_MS}`, 'describe t-items']);
    });

    it('gives up on a health check that never passes enough times in a row, naming the URL and the last answer', async () => {
      const { deps } = scripted({ tables: { 't-items': ['ACTIVE'], 't-app-config': ['ACTIVE'] }, health: [200, 200, 503], budgetMs: 5 * POLL_MS + SAFETY_MS });
      await assert.rejects(waitRegionReady(deps, EVENT), new RegExp(`gave up waiting for ${EVENT.healthUrl.replace(/[./]/g, '\\$&')} to pass 3 times in a row \\(last: HTTP 503\\)`));
    });
  });

  describe('the adapter (DynamoDB Local, a real HTTP health endpoint)', () => {
    let tables: { items: string; appConfig: string };
    let server: http.Server;
    let healthUrl: string;
    const statuses: number[] = [];
    const hits: string[] = [];
    let restore: () => void = () => undefined;
    before(async () => {
      tables = await createTables('ready');
      server = http.createServer((req, res) => {
        hits.push(`${req.method} ${req.url}`);
        const status = statuses.length > 1 ? statuses.shift()! : (statuses[0] ?? 200);
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      healthUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod/health`;
      restore = setEnv({ AWS_REGION: EU });
    });
    after(async () => {
      restore();
      await new Promise((resolve) => server.close(resolve));
    });

    it('answers once the region\'s tables are ACTIVE (DescribeTable in AWS_REGION) and /health passed twice', async () => {
      statuses.splice(0, statuses.length, 200);
      const answer = await handler({ tables: [tables.items, tables.appConfig], healthUrl, passes: 2 }, { getRemainingTimeInMillis: () => 60_000 });
      assert.deepEqual(answer.tables, { [tables.items]: 'ACTIVE', [tables.appConfig]: 'ACTIVE' });
      assert.equal(answer.region, EU);
      assert.equal(answer.healthPasses, 2);
      assert.deepEqual(hits, ['GET /prod/health', 'GET /prod/health'], 'the health URL as given, twice');
    });

    it('a table missing in this region, with no time left to wait: the error names the table and DynamoDB\'s answer', async () => {
      await assert.rejects(
        handler({ tables: ['no-such-table-here'], healthUrl }, { getRemainingTimeInMillis: () => POLL_MS + SAFETY_MS - 1 }),
        /region eu-west-1: gave up waiting for table no-such-table-here to be ACTIVE in eu-west-1 \(last: error ResourceNotFoundException: /,
      );
    });

    it('an unset AWS_REGION is an error saying so', async () => {
      const back = setEnv({ AWS_REGION: undefined });
      try {
        await assert.rejects(handler(EVENT), /AWS_REGION is not set/);
      } finally {
        back();
      }
    });
  });
});
