/**
 * The request time budget (handlers/lib/budget.ts): derived from Lambda's remaining time, capped by API Gateway's
 * integration timeout, and the jittered backoff the items handler's conflict retries use.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ANSWER_RESERVE_MS, API_GATEWAY_TIMEOUT_MS, Budget, DEFAULT_BUDGET_MS, backoffMs } from '../../handlers/lib/budget';

describe('request time budget', () => {
  const clock = (t: number) => () => t;

  it('is the remaining invocation time minus the answer reserve, at most API Gateway\'s 29 s, the default without a context', () => {
    assert.equal(Budget.fromContext({ getRemainingTimeInMillis: () => 3000 }, clock(0)).deadline, 3000 - ANSWER_RESERVE_MS);
    assert.equal(Budget.fromContext({ getRemainingTimeInMillis: () => 900_000 }, clock(0)).deadline, API_GATEWAY_TIMEOUT_MS - ANSWER_RESERVE_MS);
    assert.equal(Budget.fromContext(undefined, clock(0)).deadline, DEFAULT_BUDGET_MS);
    assert.equal(Budget.fromContext({ getRemainingTimeInMillis: () => 100 }, clock(0)).remaining(), 0, 'less than the reserve left: nothing starts');
  });

  it('its signal aborts when the budget is spent; pause refuses to sleep past the deadline', async () => {
    // what is left is read from a clock the test moves, so no decision depends on how busy the machine is
    let t = 0;
    const b = Budget.ofMs(60, () => t);
    assert.equal(b.signal.aborted, false);
    assert.equal(await b.pause(500), false, 'a pause longer than what is left does not start');
    assert.equal(await b.pause(5), true);
    t = 55;
    assert.equal(await b.pause(5), false, 'nor one that would end at the deadline');
    // the signal's timer (60 ms, armed when it was first asked for) fires on its own: wait for the event itself
    await once(b.signal, 'abort');
    assert.equal((b.signal.reason as Error).name, 'BudgetExhausted');
    assert.equal(Budget.ofMs(0).signal.aborted, true);
  });

  it('backoff is full jitter below min(cap, base·2^(attempt-1))', () => {
    assert.equal(backoffMs(1, 25, 1000, () => 0.999), 24);
    assert.equal(backoffMs(3, 25, 1000, () => 0.5), 50);
    assert.equal(backoffMs(10, 25, 1000, () => 0.999), 999);
    assert.equal(backoffMs(4, 25, 1000, () => 0), 0);
  });
});
