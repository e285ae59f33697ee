/**
 * The request time budget (handlers/lib/budget.ts): derived from Lambda's remaining time, capped by the handler's own
 * REQUEST_WORK_CAP_MS (the write bound rests on it), and the jittered backoff the items handler's conflict retries use.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ANSWER_RESERVE_MS, Budget, DEFAULT_BUDGET_MS, backoffMs } from '../../handlers/lib/budget';
import { REQUEST_WORK_CAP_MS, writeBoundMs } from '../../schema/rules';

describe('request time budget', () => {
  const clock = (t: number) => () => t;

  it('is the remaining invocation time minus the answer reserve, at most the 29 s work cap, the default without a context', () => {
    assert.equal(Budget.fromContext({ getRemainingTimeInMillis: () => 3000 }, clock(0)).deadline, 3000 - ANSWER_RESERVE_MS);
    assert.equal(REQUEST_WORK_CAP_MS, 29_000);
    assert.equal(Budget.fromContext({ getRemainingTimeInMillis: () => 900_000 }, clock(0)).deadline, REQUEST_WORK_CAP_MS - ANSWER_RESERVE_MS);
    assert.equal(Budget.fromContext(undefined, clock(0)).deadline, DEFAULT_BUDGET_MS);
    assert.equal(Budget.fromContext({ getRemainingTimeInMillis: () => 100 }, clock(0)).remaining(), 0, 'less than the reserve left: nothing starts');
  });

  it('never lets a request work longer than the REST term of the write bound, for any Lambda timeout (API Gateway\'s timeout stops nothing)', () => {
    // writeBoundMs(0, t, 0) is the REST term alone: how long after its start a request with a t ms Lambda timeout
    // may still write; the budget the handler gives itself at the start of such an invocation must end by then
    for (const timeoutMs of [1000, 10_000, 28_000, 29_000, 30_000, 60_000, 300_000, 900_000]) {
      const work = Budget.fromContext({ getRemainingTimeInMillis: () => timeoutMs }, clock(0)).deadline;
      assert.ok(work <= writeBoundMs(0, timeoutMs, 0), `a ${timeoutMs} ms function works ${work} ms, past the bound's ${writeBoundMs(0, timeoutMs, 0)} ms`);
    }
    assert.equal(writeBoundMs(0, 900_000, 0), REQUEST_WORK_CAP_MS, 'a function longer than the cap counts as the cap');
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
