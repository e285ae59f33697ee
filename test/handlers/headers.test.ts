/**
 * Hostile headers: every parser of client-controlled request text in the REST handlers is
 * timed on 64 KB of adversarial input against a generous ceiling (not a benchmark: a linear parser takes well
 * under a millisecond, the former If-Match regex took seconds on a few thousand spaces). Plus what each parser
 * accepts and refuses.
 */
import assert from 'node:assert/strict';
import { handleItems, type ItemsDeps } from '../../handlers/items';
import { Budget } from '../../handlers/lib/budget';
import { MAX_CALLER_CHARS, MAX_IDEMPOTENCY_KEY_CHARS, MAX_IF_MATCH_CHARS, callerIdentity, idempotencyKeyValue, parseIdempotencyKey, parseIfMatch, parseVersionText } from '../../handlers/lib/headers';
import { toRequest } from '../../handlers/lib/http';
import { itemsEvent } from '../support/apigw';

const KB64 = 64 * 1024;
// A guard against a hang, not a speed test: the parsers refuse this input by their length caps in well under a
// millisecond, so 1 s leaves room for any busy machine and still catches backtracking (12 s on 2,000 spaces).
const CEILING_MS = 1000;

/** Adversarial 64 KB inputs: long runs of what the parsers skip, strip or scan for. */
const HOSTILE: Record<string, string> = {
  spaces: ' '.repeat(KB64),
  'spaces then x': `${' '.repeat(KB64 - 1)}x`,
  tabs: '\t'.repeat(KB64),
  // the former regex's worst case: whitespace, then a quoted value and junk (2,000 spaces took it 12 s)
  'spaces, a quoted value, junk': `${' '.repeat(KB64 - 4)}"x"a`,
  'a quote, spaces, a quoted value': `"${' '.repeat(KB64 - 3)}"x`,
  quotes: '"'.repeat(KB64),
  'W/ prefixes': 'W/'.repeat(KB64 / 2),
  'W/" runs': 'W/"'.repeat(Math.floor(KB64 / 3)),
  digits: '1'.repeat(KB64),
  'quoted digits with inner spaces': `"${' 1'.repeat(KB64 / 2 - 1)}"`,
  'mixed whitespace and quotes': ' "\t'.repeat(Math.floor(KB64 / 3)),
};

function timed<T>(fn: () => T): { result: T; ms: number } {
  const started = process.hrtime.bigint();
  const result = fn();
  return { result, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

/** A core whose table access must never be reached: header problems answer before any call. */
const NO_TABLES: ItemsDeps = {
  region: 'eu-west-1',
  primaryRegion: 'eu-west-1',
  writeMode: 'multi-master',
  local: {
    region: 'eu-west-1',
    get: () => Promise.reject(new Error('no table access expected')),
    put: () => Promise.reject(new Error('no table access expected')),
    upsert: () => Promise.reject(new Error('no table access expected')),
    delete: () => Promise.reject(new Error('no table access expected')),
  },
  storeFor() {
    throw new Error('no table access expected');
  },
  stateOf: () => Promise.reject(new Error('no table access expected')),
  now: () => new Date(0),
  newWriteId: () => 'w',
  random: () => 0,
};

describe('header parsers on hostile input (linear, length-capped)', () => {
  for (const [name, input] of Object.entries(HOSTILE)) {
    it(`64 KB of ${name}: every parser answers within ${CEILING_MS} ms`, async () => {
      const ifMatch = timed(() => parseIfMatch(input));
      assert.ok(ifMatch.ms < CEILING_MS, `parseIfMatch took ${ifMatch.ms} ms`);
      assert.ok('problem' in ifMatch.result, 'refused');
      assert.match((ifMatch.result as { problem: string }).problem, new RegExp(`over the limit of ${MAX_IF_MATCH_CHARS}`));

      const version = timed(() => parseVersionText(input, 'expectedVersion'));
      assert.ok(version.ms < CEILING_MS, `parseVersionText took ${version.ms} ms`);
      assert.ok('problem' in version.result);

      const key = timed(() => parseIdempotencyKey(input));
      assert.ok(key.ms < CEILING_MS, `parseIdempotencyKey took ${key.ms} ms`);
      assert.match((key.result as { problem: string }).problem, new RegExp(`over the limit of ${MAX_IDEMPOTENCY_KEY_CHARS}`));

      const caller = timed(() => callerIdentity({ sub: input, principalId: input, claims: { sub: input } }));
      assert.ok(caller.ms < CEILING_MS, `callerIdentity took ${caller.ms} ms`);
      assert.equal(caller.result, null, `a subject over ${MAX_CALLER_CHARS} characters is not recorded`);

      const event = itemsEvent('DELETE', 'x', { headers: { 'If-Match': input, 'Idempotency-Key': input, 'X-Other': input }, query: { expectedVersion: input } });
      const req = timed(() => toRequest(event));
      assert.ok(req.ms < CEILING_MS, `toRequest took ${req.ms} ms`);

      const started = Date.now();
      const res = await handleItems(req.result, NO_TABLES, { requestId: 'r', budget: Budget.ofMs(1000) });
      assert.ok(Date.now() - started < CEILING_MS, `the handler took ${Date.now() - started} ms`);
      assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 200));
      assert.ok(JSON.stringify(res.body).length < 500, 'the error does not echo the input');
    });
  }

  it('If-Match: accepts <n>, "<n>", W/"<n>" with surrounding whitespace; refuses the rest', () => {
    for (const [header, version] of [['3', 3], ['"3"', 3], ['W/"3"', 3], ['  "42"\t', 42], ['0', 0], ['9007199254740989', 9007199254740989]] as const) {
      assert.deepEqual(parseIfMatch(header), { version }, header);
    }
    assert.deepEqual(parseIfMatch(undefined), {});
    for (const header of ['', '"', '"3', '3"', '""', 'abc', '-1', '01', '1.5', '" 3"', '*', 'W/', 'W/3x']) {
      assert.ok('problem' in parseIfMatch(header), `refused: ${JSON.stringify(header)}`);
    }
    // a write stores version + 1, which must stay an exact integer: the largest safe integer and above name the limit
    for (const header of ['9007199254740990', '9007199254740991', '9007199254740992', '99999999999999999999']) {
      const parsed = parseIfMatch(header);
      assert.ok('problem' in parsed && parsed.problem.startsWith(`If-Match ${header} is over the limit: versions go up to 9007199254740989`), `${header}: ${JSON.stringify(parsed)}`);
    }
  });

  it('Idempotency-Key: the draft\'s quoted sf-string or a bare key, by the writeId rule; refuses the rest', () => {
    const uuid = '8e03978e-40d5-43e8-bc93-6894a57f9324';
    for (const [header, key] of [[`"${uuid}"`, uuid], [uuid, uuid], ['  "k1"  ', 'k1'], ['a.b:c_d-e', 'a.b:c_d-e'], [`"${'k'.repeat(64)}"`, 'k'.repeat(64)]] as const) {
      assert.deepEqual(parseIdempotencyKey(header), { key }, header);
    }
    assert.deepEqual(parseIdempotencyKey(undefined), {});
    for (const header of ['', '""', '"', 'a b', '"a", "b"', 'k'.repeat(65), '"k\\"', 'ключ', '<script>', '"a"b"']) {
      const out = parseIdempotencyKey(header);
      assert.ok('problem' in out, `refused: ${JSON.stringify(header)}`);
      assert.match(out.problem, /Idempotency-Key .*(is invalid|over the limit).*1-64 characters of letters, digits and _ \. : -/);
    }
  });

  it('idempotencyKeyValue: the quoted sf-string an answer names a writeId with, read back as that writeId', () => {
    for (const writeId of ['8e03978e-40d5-43e8-bc93-6894a57f9324', 'a.b:c_d-e', 'k'.repeat(64)]) {
      assert.equal(idempotencyKeyValue(writeId), `"${writeId}"`);
      assert.deepEqual(parseIdempotencyKey(idempotencyKeyValue(writeId)), { key: writeId });
    }
  });

  it('callerIdentity: sub, else principalId, else claims.sub; only non-empty strings', () => {
    assert.equal(callerIdentity({ sub: 'alice', principalId: 'p' }), 'alice');
    assert.equal(callerIdentity({ principalId: 'bob' }), 'bob');
    assert.equal(callerIdentity({ claims: { sub: 'carol' } }), 'carol');
    assert.equal(callerIdentity({ sub: '', principalId: 7, claims: { sub: 'dan' } }), 'dan');
    assert.equal(callerIdentity(null), null);
    assert.equal(callerIdentity(undefined), null);
    assert.equal(callerIdentity({ claims: null }), null);
  });
});
