/**
 * Config `reservedConcurrency` and `notifier` (config/notifier.ts): what the program deploys for them
 * under Pulumi mocks (reserved concurrency on the items and notifier functions, parallelizationFactor on the stream
 * mapping, the notifier's publish concurrency and DLQ URL in its environment, its right to write to the DLQ), the
 * defaults, and every bad value refused with the key, the value and what is allowed.
 */
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../config';
import { DEFAULT_NOTIFIER_TUNING, notifierConcurrencyWarning, PUBLISH_CONCURRENCY_MAX } from '../../config/notifier';
import { MAX_SOCKETS } from '../../handlers/lib/signedPost';
import { cachedRun, named, policies } from '../../scripts/mockCloud';

const R = 'eu-west-1';

function problems(extra: Record<string, string>): string {
  try {
    parseConfig({ regions: R, ...extra }, { stack: 'dev' });
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
}

describe('config reservedConcurrency and notifier (deployed under Pulumi mocks)', function () {
  this.timeout(120_000);

  it('deploys the configured reserved concurrency, parallelization factor and publish concurrency, and the DLQ wiring', async () => {
    const run = await cachedRun({
      regions: R,
      reservedConcurrency: JSON.stringify({ items: 50, notifier: 8 }),
      notifier: JSON.stringify({ parallelizationFactor: 4, publishConcurrency: 96 }),
    });
    for (const region of [R]) {
      const notifier = named(run, `notifier-${region}`);
      const dlq = named(run, `notifier-${region}-dlq`);
      assert.equal(named(run, `api-${region}-items`).inputs.reservedConcurrentExecutions, 50);
      assert.equal(notifier.inputs.reservedConcurrentExecutions, 8);
      assert.equal(named(run, `api-${region}-health`).inputs.reservedConcurrentExecutions, undefined, 'only items and notifier are reserved');
      assert.equal(named(run, `notifier-${region}-stream`).inputs.parallelizationFactor, 4);
      const env = notifier.inputs.environment.variables as Record<string, string>;
      assert.equal(env.NOTIFIER_CONCURRENCY, '96');
      assert.equal(env.NOTIFIER_DLQ_URL, dlq.state.url);
      const doc = policies(run).find((p) => p.name === `notifier-${region}-policy`)!.doc;
      const sqs = doc.Statement.filter((s) => [s.Action].flat().includes('sqs:SendMessage'));
      assert.deepEqual(sqs.map((s) => [s.Action, s.Resource]), [[['sqs:SendMessage'], [dlq.state.arn]]]);
    }
  });

  it('defaults: no reservation, parallelizationFactor 4, 64 parallel publishes', async () => {
    const run = await cachedRun({ regions: R });
    assert.equal(named(run, `api-${R}-items`).inputs.reservedConcurrentExecutions, undefined);
    assert.equal(named(run, `notifier-${R}`).inputs.reservedConcurrentExecutions, undefined);
    assert.equal(named(run, `notifier-${R}-stream`).inputs.parallelizationFactor, DEFAULT_NOTIFIER_TUNING.parallelizationFactor);
    assert.equal(named(run, `notifier-${R}`).inputs.environment.variables.NOTIFIER_CONCURRENCY, String(DEFAULT_NOTIFIER_TUNING.publishConcurrency));
    const cfg = parseConfig({ regions: R }, { stack: 'dev' });
    assert.deepEqual(cfg.notifier, { parallelizationFactor: 4, publishConcurrency: 64 });
    assert.deepEqual(cfg.reservedConcurrency, {});
    assert.ok(PUBLISH_CONCURRENCY_MAX <= MAX_SOCKETS, 'every parallel publish gets its own socket');
  });

  it('the reservation warning counts the shards it covers and claims no shard count AWS does not document', () => {
    const text = notifierConcurrencyWarning({ notifier: 9 }, { ...DEFAULT_NOTIFIER_TUNING, parallelizationFactor: 4 })!;
    assert.match(text, /covers 2 stream shards at full parallelism/);
    assert.match(text, /DynamoDB decides the shard count: it creates and deletes shards itself and splits them as writes grow, and AWS documents no starting count/);
    // DescribeStream documents that shards come, go and split; no page gives how many a new stream has
    assert.doesNotMatch(text, /several|partitions/);
    assert.equal(notifierConcurrencyWarning({}, DEFAULT_NOTIFIER_TUNING), undefined);
  });

  it('refuses each bad value, naming the key, the value and what is allowed', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ reservedConcurrency: '5' }, /reservedConcurrency: "5" — an object with any of items, notifier/],
      [{ reservedConcurrency: '{"items":0}' }, /reservedConcurrency\.items: 0 — an integer from 1 to 900: Lambda keeps 100 of the account's regional concurrency \(default 1000\) unreserved; 0 would stop the function/],
      [{ reservedConcurrency: '{"items":901}' }, /reservedConcurrency\.items: 901 — an integer from 1 to 900/],
      [{ reservedConcurrency: '{"notifier":2.5}' }, /reservedConcurrency\.notifier: 2\.5 — an integer from 1 to 900/],
      [{ reservedConcurrency: '{"items":"10"}' }, /reservedConcurrency\.items: "10" — an integer/],
      [{ reservedConcurrency: '{"items":500,"notifier":401}' }, /reservedConcurrency: \{"items":500,"notifier":401\} — items \+ notifier is 901, more than the 900/],
      [{ reservedConcurrency: '{"notifier":3}' }, /reservedConcurrency\.notifier: 3 — at least notifier\.parallelizationFactor \(4\)/],
      [{ reservedConcurrency: '{"notifier":3}', notifier: '{"parallelizationFactor":3}' }, /^$/],
      [{ reservedConcurrency: '{"item":5}' }, /reservedConcurrency\.item: 5 — did you mean "items"\? unknown field; reservedConcurrency takes: items, notifier/],
      [{ notifier: '[]' }, /notifier: "\[\]" — an object with any of parallelizationFactor, publishConcurrency/],
      [{ notifier: '{"parallelizationFactor":11}' }, /notifier\.parallelizationFactor: 11 — an integer from 1 to 10 \(Lambda's limit for concurrent batches per shard; default 4\)/],
      [{ notifier: '{"parallelizationFactor":0}' }, /notifier\.parallelizationFactor: 0 — an integer from 1 to 10/],
      [{ notifier: '{"publishConcurrency":0}' }, /notifier\.publishConcurrency: 0 — an integer from 1 to 256/],
      [{ notifier: '{"publishConcurrency":257}' }, /notifier\.publishConcurrency: 257 — an integer from 1 to 256/],
      [{ notifier: '{"publishConcurency":8}' }, /notifier\.publishConcurency: 8 — did you mean "publishConcurrency"\? unknown field/],
    ];
    for (const [extra, expected] of cases) assert.match(problems(extra), expected, JSON.stringify(extra));
    assert.equal(problems({ reservedConcurrency: '{"items":890,"notifier":10}', notifier: '{"parallelizationFactor":10,"publishConcurrency":256}' }), '', 'the limits themselves are fine');
  });
});
