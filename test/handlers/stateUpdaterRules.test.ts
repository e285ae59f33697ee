/**
 * The state updater's rules under faults, against DynamoDB Local in two regions: one designated region per change,
 * the minimum time in fenced and the write bound (the fenced dwell, a failover's writesFromMs), the per-region
 * read-back (with a stand-in replicator, a lagging replica, a racing writer and a stalled replica) and the cap from
 * getRemainingTimeInMillis.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readAppState } from '../../handlers/lib/appState';
import { CALL_TIMEOUT_MS, handler, stateUpdaterDeps, updateState } from '../../handlers/stateUpdater';
import { APP_STATE_ID } from '../../schema/rules';
import { setEnv } from '../support/apigw';
import { dynamoEndpoint } from '../support/dynamodb';
import { fakeDynamo, silentServer } from './faultProxy';
import { AP, EU, createTables, getItem, putItem } from './helpers';

/** A probe of the designated (EU) replica through a real SDK client at `endpoint`, as the updater's readIn makes it. */
/**
 * The updater's probe of the designated replica, through an SDK client with 2 attempts. `timeoutMs` short (300) for
 * the server that never answers; the servers that do answer get a long one, so a loaded machine's slow answer is not
 * taken for a timeout (an extra attempt the test did not ask for).
 */
function probeAt(endpoint: string, table: string, timeoutMs = 10_000): (region: string, signal?: AbortSignal) => ReturnType<typeof readAppState> {
  const client = new DynamoDBClient({
    region: EU,
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  });
  const doc = DynamoDBDocumentClient.from(client);
  return (_region, signal) => readAppState(doc, table, signal);
}

/** A local port nothing listens on (bound, then closed): connecting to it is refused. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A clock for the updater that moves only when it pauses (its `now` and `sleep`), from the real time at creation. */
function steppedClock(): { now: () => Date; sleep: (ms: number) => Promise<void> } {
  let t = Date.now();
  return {
    now: () => new Date(t),
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}

describe('state updater rules: designated region, fenced dwell, read-back, time cap (DynamoDB Local)', () => {
  let appConfig: string;
  let restore: () => void = () => undefined;
  function env(region: string, extra: Record<string, string | undefined> = {}): void {
    restore();
    restore = setEnv({ AWS_REGION: region, APP_CONFIG_TABLE: appConfig, PRIMARY_REGION: EU, STATE_REGIONS: `${EU},${AP}`, STATE_MIN_FENCED_SECONDS: undefined, STATE_WRITE_BOUND_MS: undefined, WRITE_MODE: undefined, ...extra });
  }
  const seed = async (state: string, updatedAt: string, regions = [EU, AP]) => {
    for (const r of regions) await putItem(r, appConfig, { id: APP_STATE_ID, state, version: 5, updatedAt, reason: 'seeded', updatedRegion: EU });
  };
  before(async () => {
    ({ appConfig } = await createTables('rules'));
  });
  afterEach(() => {
    restore();
    restore = () => undefined;
  });

  it('refuses a change in a region that is not its designated one, naming the region to use; writes nothing', async () => {
    await seed('active', new Date().toISOString());
    env(AP);
    const fenced = await handler({ newState: 'fenced', reason: 'from the wrong region' });
    assert.ok(!fenced.ok);
    assert.equal(fenced.errorType, 'NotStateRegion');
    assert.match(fenced.error, /this is ap-southeast-2's state updater, but fenced is set in the primary region eu-west-1: invoke eu-west-1's updater/);
    env(EU);
    const failover = await handler({ newState: 'failover', reason: 'from the primary' });
    assert.ok(!failover.ok);
    assert.equal(failover.errorType, 'NotStateRegion');
    assert.match(failover.error, /failover is declared in ap-southeast-2, the first of the stack's regions \(eu-west-1, ap-southeast-2\) that is not the primary/);
    for (const r of [EU, AP]) assert.equal((await getItem(r, appConfig, APP_STATE_ID))?.version, 5, `nothing written in ${r}`);
  });

  it('takeover: another region may make the change only while the designated region cannot be read, and the item says so', async () => {
    await seed('active', new Date().toISOString());
    env(AP);
    const answers = await handler({ newState: 'fenced', reason: 'primary unreachable?', takeover: 'primary console down' });
    assert.ok(!answers.ok);
    assert.match(answers.error, /takeover refused: eu-west-1's replica answers, so use its updater\. Nothing was written/);
    const down = (region: string) => Promise.reject(Object.assign(new Error(`${region} unreachable`), { name: 'TimeoutError' }));
    const res = await updateState({ newState: 'fenced', reason: 'primary down', takeover: 'eu-west-1 unreachable for 10 min' }, { ...stateUpdaterDeps(), readIn: down, readBackMs: 0 });
    assert.ok(res.ok, JSON.stringify(res));
    assert.deepEqual((await getItem(AP, appConfig, APP_STATE_ID))?.takeover, { from: EU, why: 'eu-west-1 unreachable for 10 min', probe: 'TimeoutError' });
    assert.equal((await getItem(EU, appConfig, APP_STATE_ID))?.version, 5, 'the designated replica was not written');
  });

  it('takeover refused while the designated region serves requests: a 4xx answer (throttling, AccessDenied, a missing table) names the answer', async () => {
    await seed('active', new Date().toISOString());
    env(AP);
    const takeover = { newState: 'fenced', reason: 'primary down?', takeover: 'eu-west-1 console is down' };
    const fake = await fakeDynamo();
    try {
      const answers: [number, string][] = [
        [400, 'ThrottlingException'],
        [400, 'ProvisionedThroughputExceededException'],
        [400, 'AccessDeniedException'],
      ];
      for (const [status, type] of answers) {
        fake.answer(status, type, `${type} from the designated region`);
        const res = await updateState(takeover, { ...stateUpdaterDeps(), readIn: probeAt(fake.url, appConfig), readBackMs: 0 });
        assert.ok(!res.ok, `${type}: ${JSON.stringify(res)}`);
        assert.equal(res.errorType, 'NotStateRegion');
        assert.match(res.error, new RegExp(`takeover refused: eu-west-1's replica answered \\(${type}, HTTP ${status}\\), so it is reachable: use its updater\\. Nothing was written`));
      }
    } finally {
      await fake.close();
    }
    // a real DynamoDB (Local) answering ResourceNotFoundException: the table is not there, but the region answers
    const missing = await updateState(takeover, { ...stateUpdaterDeps(), readIn: probeAt(dynamoEndpoint(), 'no-such-table'), readBackMs: 0 });
    assert.ok(!missing.ok);
    assert.match(missing.error, /takeover refused: eu-west-1's replica answered \(ResourceNotFoundException, HTTP 400\)/);
    for (const r of [EU, AP]) assert.equal((await getItem(r, appConfig, APP_STATE_ID))?.version, 5, `nothing written in ${r}`);
  });

  it('takeover allowed when the designated region is unreachable: a 5xx after the SDK retries, a refused connection, a timeout', async () => {
    env(AP);
    const takeover = { newState: 'fenced', reason: 'primary down?', takeover: 'eu-west-1 console is down' };
    // an impaired DynamoDB answers 500 InternalServerError or 503 ServiceUnavailable: the same outage as a timeout
    const fake = await fakeDynamo();
    try {
      const answers: [number, string][] = [
        [500, 'InternalServerError'],
        [503, 'ServiceUnavailable'],
      ];
      for (const [status, type] of answers) {
        await seed('active', new Date().toISOString());
        fake.answer(status, type, `${type} from the designated region`);
        const before = fake.requests;
        const res = await updateState(takeover, { ...stateUpdaterDeps(), readIn: probeAt(fake.url, appConfig), readBackMs: 0 });
        assert.ok(res.ok, `${type}: ${JSON.stringify(res)}`);
        assert.equal(fake.requests - before, 2, `${type}: the probe's SDK client retried once (maxAttempts 2) before giving up`);
        assert.deepEqual((await getItem(AP, appConfig, APP_STATE_ID))?.takeover, { from: EU, why: 'eu-west-1 console is down', probe: `HTTP ${status} ${type}` });
        assert.equal((await getItem(EU, appConfig, APP_STATE_ID))?.version, 5, `${type}: the designated replica was not written`);
      }
    } finally {
      await fake.close();
    }

    // unreachable: nothing listens (ECONNREFUSED) → the takeover goes through and the item names the probe's error
    await seed('active', new Date().toISOString());
    const refused = await updateState(takeover, { ...stateUpdaterDeps(), readIn: probeAt(`http://127.0.0.1:${await closedPort()}`, appConfig), readBackMs: 0 });
    assert.ok(refused.ok, JSON.stringify(refused));
    assert.deepEqual((await getItem(AP, appConfig, APP_STATE_ID))?.takeover, { from: EU, why: 'eu-west-1 console is down', probe: 'ECONNREFUSED' });
    // unreachable: an endpoint that accepts and never answers (the SDK's request timeout)
    await seed('active', new Date().toISOString());
    const silent = await silentServer();
    try {
      const stalled = await updateState(takeover, { ...stateUpdaterDeps(), readIn: probeAt(silent.url, appConfig, 300), readBackMs: 0 });
      assert.ok(stalled.ok, JSON.stringify(stalled));
      assert.equal(((await getItem(AP, appConfig, APP_STATE_ID))?.takeover as { probe: string }).probe, 'TimeoutError');
    } finally {
      await silent.close();
    }
  });

  it('fenced → active waits STATE_MIN_FENCED_SECONDS (default 60) in fenced: refused before, with the time it is allowed; moves after', async () => {
    const since = new Date(Date.now() - 10_000).toISOString();
    await seed('fenced', since, [EU]);
    env(EU);
    const early = await updateState({ newState: 'active', reason: 'too soon' }, { ...stateUpdaterDeps(), readBackMs: 0 });
    assert.ok(!early.ok);
    assert.equal(early.errorType, 'FencedTooShort');
    assert.match(early.error, /fenced for 1\d s .*active is allowed after 60 s in fenced .*retry at (\S+) or later; nothing was written/);
    assert.equal(early.error.match(/retry at (\S+) or later/)?.[1], new Date(Date.parse(since) + 60_000).toISOString());
    assert.equal((await getItem(EU, appConfig, APP_STATE_ID))?.state, 'fenced');
    // a shorter minimum leaves the write bound (default 30 s: writes that read the state before the fence)
    env(EU, { STATE_MIN_FENCED_SECONDS: '5' });
    const bound = await updateState({ newState: 'active', reason: 'still in the bound' }, { ...stateUpdaterDeps(), readBackMs: 0 });
    assert.ok(!bound.ok);
    assert.equal(bound.errorType, 'FencedTooShort');
    assert.match(bound.error, /active is allowed after 30 s in fenced \(the write bound of 30 s: writes that read the state before the fence may commit until then\)/);
    assert.equal(bound.error.match(/retry at (\S+) or later/)?.[1], new Date(Date.parse(since) + 30_000).toISOString());
    env(EU, { STATE_MIN_FENCED_SECONDS: '5', STATE_WRITE_BOUND_MS: '8000' });
    const later = await updateState({ newState: 'active', reason: 'after the dwell' }, { ...stateUpdaterDeps(), readBackMs: 0 });
    assert.ok(later.ok, JSON.stringify(later));
    assert.equal((await getItem(EU, appConfig, APP_STATE_ID))?.state, 'active');
  });

  it('failover in writeMode primary stores writesFromMs = now + the bound (from active) or fence + the bound (from a recent fence); multi-master and an old fence store none', async () => {
    const bound = 30_000;
    const cases = [
      { writeMode: 'primary', from: 'active', since: 0, expect: (t: number) => [t + bound, t + bound + 2000] },
      { writeMode: 'primary', from: 'fenced', since: 12_000, expect: (t: number) => [t - 12_000 + bound, t - 12_000 + bound + 2000] },
      { writeMode: 'primary', from: 'fenced', since: 45_000, expect: null },
      { writeMode: 'multi-master', from: 'active', since: 0, expect: null },
    ];
    for (const c of cases) {
      const t = Date.now();
      await seed(c.from, new Date(t - c.since).toISOString());
      env(AP, { WRITE_MODE: c.writeMode, STATE_WRITE_BOUND_MS: `${bound}` });
      const res = await updateState({ newState: 'failover', reason: `from ${c.from}` }, { ...stateUpdaterDeps(), readBackMs: 0 });
      assert.ok(res.ok, JSON.stringify(res));
      const storedFrom = (await getItem(AP, appConfig, APP_STATE_ID))?.writesFromMs;
      const what = `${c.writeMode}, ${c.from} ${c.since / 1000} s ago: ${storedFrom}`;
      if (c.expect === null) {
        assert.equal(storedFrom, undefined, what);
        assert.equal(res.writesFromMs, undefined, what);
      } else {
        const [lo, hi] = c.expect(t);
        assert.ok(typeof storedFrom === 'number' && storedFrom >= lo && storedFrom <= hi, `${what} not in [${lo}, ${hi}]`);
        assert.equal(res.writesFromMs, storedFrom);
      }
    }
  });

  it('STATE_WRITE_BOUND_MS must be an integer from 0 to 600000: anything else is a ConfigError naming it', async () => {
    for (const bad of ['-1', '1.5', 'soon', '600001']) {
      env(EU, { STATE_WRITE_BOUND_MS: bad });
      const res = await handler({ newState: 'fenced', reason: 'x' });
      assert.ok(!res.ok);
      assert.equal(res.errorType, 'ConfigError');
      assert.match(res.error, /STATE_WRITE_BOUND_MS is ".*": allowed is an integer from 0 to 600000/);
    }
  });

  it('reads the change back from every region: converged once replication carries it, with what each region saw', async () => {
    await seed('active', new Date().toISOString());
    env(EU);
    // The updater's clock moves only when it pauses between read-back rounds, and a stand-in for global-table
    // replication copies EU's item to AP during its second pause: 2 rounds × 200 ms of its clock after the write.
    const clock = steppedClock();
    let pauses = 0;
    const deps = {
      ...stateUpdaterDeps(),
      ...clock,
      sleep: async (ms: number) => {
        await clock.sleep(ms);
        pauses += 1;
        if (pauses === 2) await putItem(AP, appConfig, (await getItem(EU, appConfig, APP_STATE_ID))!);
      },
    };
    const res = await updateState({ newState: 'fenced', reason: 'incident 7' }, deps);
    assert.ok(res.ok, JSON.stringify(res));
    const rb = res.readBack!;
    assert.equal(rb.converged, true, JSON.stringify(rb));
    assert.equal(pauses, 2, 'read back until AP showed the change, then stopped');
    assert.equal(rb.waitedMs, 2 * 200, 'waited for replication: two read-back rounds');
    assert.deepEqual(rb.regions[AP], { state: 'fenced', version: 6, updatedAt: res.updatedAt, updatedRegion: EU });
    assert.deepEqual(rb.regions[EU], rb.regions[AP]);
  });

  it('a lagging replica is reported as not converged with its old state; a racing writer is named', async () => {
    await seed('active', new Date().toISOString());
    env(EU);
    const lag = await updateState({ newState: 'fenced', reason: 'AP lags' }, { ...stateUpdaterDeps(), ...steppedClock(), readBackMs: 500 });
    assert.ok(lag.ok);
    assert.equal(lag.readBack?.converged, false);
    assert.deepEqual(lag.readBack?.regions[AP], { state: 'active', version: 5, updatedAt: (await getItem(AP, appConfig, APP_STATE_ID))?.updatedAt, updatedRegion: EU });
    assert.equal(lag.readBack?.raced, undefined);
    // someone declared failover in AP meanwhile (version 6 there too): the read-back says so at once
    await putItem(AP, appConfig, { id: APP_STATE_ID, state: 'failover', version: 7, updatedAt: new Date().toISOString(), reason: 'other operator', updatedRegion: AP });
    env(EU, { STATE_MIN_FENCED_SECONDS: '0', STATE_WRITE_BOUND_MS: '0' });
    const raced = await updateState({ newState: 'active', reason: 'back' }, { ...stateUpdaterDeps(), ...steppedClock(), readBackMs: 2000 });
    assert.ok(raced.ok);
    assert.match(raced.readBack?.raced ?? '', /ap-southeast-2 holds version 7 \(failover, written in ap-southeast-2\), not this change: another update raced it/);
    assert.equal(raced.readBack?.waitedMs, 0, 'a race ends the read-back at once: after the first round, no pause');
  });

  it('caps its work by getRemainingTimeInMillis: too little time writes nothing; a stalled replica ends the read-back on time', async () => {
    await seed('active', new Date().toISOString());
    env(EU);
    const short = await handler({ newState: 'fenced', reason: 'no time' }, { getRemainingTimeInMillis: () => 1200 });
    assert.ok(!short.ok);
    assert.equal(short.errorType, 'Unavailable');
    assert.match(short.error, /only \d+ ms of the invocation are left, under the 1000 ms a change needs; nothing was written/);
    assert.equal((await getItem(EU, appConfig, APP_STATE_ID))?.version, 5);
    // AP accepts the read and never answers: only the call's abort signal ends it
    const stalls: number[] = [];
    const stalled = (_r: string, signal?: AbortSignal) => {
      const from = Date.now();
      return new Promise<never>((_, reject) =>
        signal?.addEventListener('abort', () => {
          stalls.push(Date.now() - from);
          reject(Object.assign(new Error('stalled'), { name: 'TimeoutError' }));
        }),
      );
    };
    // the write takes 1.3 s of the updater's clock, leaving at most 200 ms of the invocation for the read-back
    let skew = 0;
    const real = stateUpdaterDeps(Date.now() + 1500);
    const deps = {
      ...real,
      now: () => new Date(Date.now() + skew),
      write: async (...args: Parameters<typeof real.write>) => {
        const won = await real.write(...args);
        skew += 1300;
        return won;
      },
      readIn: stalled,
    };
    const res = await updateState({ newState: 'fenced', reason: 'AP silent' }, deps);
    assert.ok(res.ok, JSON.stringify(res));
    assert.deepEqual(res.readBack?.regions[AP], { error: 'TimeoutError' });
    assert.equal(res.readBack?.converged, false);
    assert.equal(stalls.length, 1, 'one stalled read, aborted; no round after it');
    // aborted by what was left of the invocation (≤ 200 ms), not by CALL_TIMEOUT_MS (2 s) or READBACK_MS (5 s): the
    // bound is 5 × what was left, a guard against the wrong timer, not a speed test
    assert.ok(stalls[0] < 5 * 200 && 5 * 200 < CALL_TIMEOUT_MS, `the stalled read was aborted after ${stalls[0]} ms`);
  });
});
