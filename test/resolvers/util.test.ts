import assert from 'node:assert/strict';
import { util, runtime, UnsupportedUtilError, UtilError, EarlyReturn, withAppendedErrors, type AppSyncError } from '../../local/appsync/util';
import { ID_PATTERN, idProblem } from '../../schema/rules';

describe('APPSYNC_JS util stand-in', () => {
  it('util.matches matches the whole string, like AppSync (Java String.matches)', () => {
    assert.equal(util.matches('a*b', 'aaab'), true);
    assert.equal(util.matches('b', 'abc'), false, 'a partial match is not a match');
    assert.equal(util.matches(ID_PATTERN, 'item-1'), true);
    assert.equal(util.matches(ID_PATTERN, 'item-1\n'), false);
  });

  it('util.error throws {message, errorType, data}; util.appendError records and continues', () => {
    assert.throws(() => util.error('boom', 'BadInput', { x: 1 }), (e: unknown) => e instanceof UtilError && e.error.errorType === 'BadInput' && e.error.message === 'boom');
    const sink: AppSyncError[] = [];
    const value = withAppendedErrors(sink, () => {
      util.appendError('soft', 'Warn');
      return 7;
    });
    assert.equal(value, 7);
    assert.deepEqual(sink, [{ message: 'soft', errorType: 'Warn' }]);
  });

  it("runtime.earlyReturn carries its value and skipTo; util.dynamodb gives AppSync's form ({N: number}, lists)", () => {
    assert.throws(() => runtime.earlyReturn({ a: 1 }), (e: unknown) => e instanceof EarlyReturn && (e.value as { a: number }).a === 1 && e.skipTo === null);
    assert.throws(() => runtime.earlyReturn(2, { skipTo: 'END' }), (e: unknown) => e instanceof EarlyReturn && e.value === 2 && e.skipTo === 'END');
    assert.deepEqual(util.dynamodb.toMapValues({ id: 'x', version: 2, gone: undefined }), { id: { S: 'x' }, version: { N: 2 } });
    assert.deepEqual(util.dynamodb.toDynamoDB(['a', 1]), { L: [{ S: 'a' }, { N: 1 }] });
    assert.match(util.time.nowISO8601(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('anything not covered fails loudly, naming the member', () => {
    const u = util as unknown as Record<string, Record<string, unknown>>;
    assert.throws(() => u.str, (e: unknown) => e instanceof UnsupportedUtilError && /util\.str is not covered/.test(e.message));
    assert.throws(() => u.dynamodb.toS, /util\.dynamodb\.toS is not covered/);
    assert.throws(() => (runtime as unknown as Record<string, unknown>).foo, /runtime\.foo is not covered/);
  });
});

describe('idProblem (schema/rules.ts) agrees with ID_PATTERN', () => {
  it('accepts and rejects exactly what the documented pattern does', () => {
    const re = new RegExp(ID_PATTERN);
    const samples = ['a', 'item-1', 'A.b:c_d-e', '0', 'x'.repeat(128), 'x'.repeat(129), '', '-a', '_a', 'a b', 'a/b', "x' OR 1=1", '<script>', 'é', 'a\n', 'id#1', 'a%20'];
    for (const s of samples) {
      assert.equal(idProblem(s) === null, re.test(s), `disagree on ${JSON.stringify(s)}`);
    }
    assert.match(idProblem(undefined) ?? '', /id is required/);
  });
});
