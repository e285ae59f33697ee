/**
 * Where the local APPSYNC_JS stand-in used to differ from AppSync's documented behaviour,
 * each checked against the documentation: runtime.earlyReturn in pipelines (Runtime utilities page), util.dynamodb
 * attribute forms (DynamoDB helpers page), VTL-only utils gone, AppSync's error shape, and the DynamoDB data
 * source refusing placeholders defined in both update and condition (aws/aws-appsync-community#162), on DynamoDB
 * Local.
 */
import assert from 'node:assert/strict';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvalidRequestError, executeDynamoDBRequest } from '../../local/appsync/dynamodb';
import { createResolverRunner } from '../../local/appsync/runner';
import { runtime, UnsupportedUtilError, util } from '../../local/appsync/util';
import { createTable, ddbClient, uniqueTableName } from '../support/dynamodb';
import { createFixture, EU, PUT, setState } from './support';

const FIXTURES = '../../test/resolvers/fixtures';
const NO_TABLE = { tableName: 'unused', region: EU };

/** A runner over the earlyReturn fixtures: Mutation.early = before/after + functions A, B (NONE data source). */
function earlyRunner() {
  return createResolverRunner({
    settings: { region: EU, primaryRegion: EU, writeMode: 'multi-master' },
    dataSources: { localItems: NO_TABLE, primaryItems: NO_TABLE, appConfig: NO_TABLE },
    manifest: {
      resolvers: [{ kind: 'pipeline', typeName: 'Mutation', fieldName: 'early', file: `${FIXTURES}/earlyBefore`, functions: ['A', 'B'] }],
      functions: { A: { file: `${FIXTURES}/earlyFunctionA`, dataSource: 'none' }, B: { file: `${FIXTURES}/earlyFunctionB`, dataSource: 'none' } },
    },
  });
}

describe('runtime.earlyReturn as AWS documents it (runtime-utils-js.html)', () => {
  const run = async (args: Record<string, unknown>) => {
    const out = await earlyRunner().resolve('Mutation', 'early', { arguments: args });
    assert.deepEqual(out.errors, []);
    return out.data as { trail: string[]; prev: unknown };
  };

  it('without earlyReturn every handler runs in order', async () => {
    const data = await run({});
    assert.deepEqual(data.trail, ['before', 'A.request', 'A.response', 'B.request', 'B.response', 'after']);
    assert.deepEqual(data.prev, { from: 'B.dataSource', prev: { from: 'A.dataSource' } });
  });

  it('in the pipeline request (before) handler: the functions are skipped and the response (after) handler IS called', async () => {
    for (const before of ['plain', 'END']) {
      const data = await run({ before });
      assert.deepEqual(data.trail, ['before', 'after'], `before: ${before}`);
      assert.deepEqual(data.prev, { from: 'before' }, 'the after handler sees the early value as ctx.prev.result');
    }
  });

  it("skipTo 'NEXT' in the before handler runs the next pipeline handler (the functions)", async () => {
    const data = await run({ before: 'NEXT' });
    assert.deepEqual(data.trail, ['before', 'A.request', 'A.response', 'B.request', 'B.response', 'after']);
  });

  it('in a function request handler: its data source and response are skipped, the next function gets the value', async () => {
    const data = await run({ a: 'plain' });
    assert.deepEqual(data.trail, ['before', 'A.request', 'B.request', 'B.response', 'after']);
    assert.deepEqual(data.prev, { from: 'B.dataSource', prev: { from: 'A' } });
  });

  it("skipTo 'END' in a function: the remaining functions are skipped, the after handler gets the value", async () => {
    const data = await run({ a: 'END' });
    assert.deepEqual(data.trail, ['before', 'A.request', 'after']);
    assert.deepEqual(data.prev, { from: 'A' });
  });

  it('refuses a skipTo that is neither END nor NEXT', () => {
    assert.throws(() => runtime.earlyReturn(1, { skipTo: 'LAST' }), /skipTo must be 'END' or 'NEXT', not "LAST"/);
  });
});

describe('util: what APPSYNC_JS has, in the documented form', () => {
  it('util.dynamodb.toDynamoDB / toMapValues: numbers as {N: number}, arrays as lists (dynamodb-helpers-in-util-dynamodb-js.html)', () => {
    assert.deepEqual(util.dynamodb.toDynamoDB(12345), { N: 12345 });
    assert.deepEqual(util.dynamodb.toDynamoDB(['foo', 123, { bar: 'baz' }]), { L: [{ S: 'foo' }, { N: 123 }, { M: { bar: { S: 'baz' } } }] });
    assert.deepEqual(util.dynamodb.toMapValues({ foo: 'bar', baz: 1234, beep: ['boop'] }), { foo: { S: 'bar' }, baz: { N: 1234 }, beep: { L: [{ S: 'boop' }] } });
    assert.deepEqual(util.dynamodb.toDynamoDB(new Set(['a', 'b'])), { L: [{ S: 'a' }, { S: 'b' }] }, 'lists rather than sets');
    assert.deepEqual(util.dynamodb.toDynamoDB(true), { BOOL: true });
  });

  it('util.isNull and util.isNullOrEmpty are VTL-only: not there', () => {
    const u = util as unknown as Record<string, unknown>;
    assert.throws(() => u.isNull, (e: unknown) => e instanceof UnsupportedUtilError && /util\.isNull is not covered/.test(e.message));
    assert.throws(() => u.isNullOrEmpty, /util\.isNullOrEmpty is not covered/);
  });

  it('GraphQL errors carry data: null and errorInfo: null, like AppSync answers', async () => {
    const fx = await createFixture('multi-master');
    const out = await fx.api(EU).execute({ query: PUT, variables: { input: { id: '-bad', value: 'v' } } });
    assert.equal(out.errors?.length, 1);
    const e = out.errors![0];
    assert.equal(e.errorType, 'BadInput');
    assert.ok(Object.hasOwn(e, 'data') && e.data === null, 'data: null present');
    assert.ok(Object.hasOwn(e, 'errorInfo') && e.errorInfo === null, 'errorInfo: null present');
    const invalid = await fx.api(EU).execute({ query: '{ nope }' });
    assert.equal(invalid.errors![0].data, null);
    assert.equal(invalid.errors![0].errorInfo, null);
  });
});

describe('DynamoDB data source: request form and placeholders (DynamoDB Local)', () => {
  let table: string;
  before(async () => {
    table = uniqueTableName('ds');
    await createTable(EU, table);
  });

  it('refuses a placeholder defined in both update and condition (AppSync merges the maps and refuses duplicates)', async () => {
    const req = {
      operation: 'UpdateItem',
      key: { id: { S: 'dup' } },
      update: { expression: 'SET #v = :v', expressionNames: { '#v': 'value' }, expressionValues: { ':v': { S: 'new' } } },
      condition: { expression: '#v = :v', expressionNames: { '#v': 'value' }, expressionValues: { ':v': { NULL: null } } },
    };
    await assert.rejects(
      executeDynamoDBRequest({ tableName: table, region: EU }, req),
      (e: unknown) => e instanceof InvalidRequestError && /expressionNames #v, expressionValues :v defined in both update and condition/.test(e.message),
    );
    const stored = await ddbClient(EU).send(new GetItemCommand({ TableName: table, Key: { id: { S: 'dup' } } }));
    assert.equal(stored.Item, undefined, 'nothing was written');
  });

  it('takes numbers as {N: number} (util.dynamodb output) and stores them as DynamoDB numbers', async () => {
    const out = await executeDynamoDBRequest(
      { tableName: table, region: EU },
      {
        operation: 'UpdateItem',
        key: util.dynamodb.toMapValues({ id: 'num' }),
        update: { expression: 'SET #n = :n, #l = :l', expressionNames: { '#n': 'n', '#l': 'l' }, expressionValues: util.dynamodb.toMapValues({ ':n': 41.5, ':l': [1, 'a'] }) },
      },
    );
    assert.deepEqual(out, { result: { id: 'num', n: 41.5, l: [1, 'a'] } });
    const stored = await ddbClient(EU).send(new GetItemCommand({ TableName: table, Key: { id: { S: 'num' } } }));
    assert.deepEqual(stored.Item?.n, { N: '41.5' });
    assert.deepEqual(stored.Item?.l, { L: [{ N: '1' }, { S: 'a' }] });
  });

  it('putItem with expectedVersion > 0 goes through end to end (its condition has its own placeholders)', async () => {
    const fx = await createFixture('multi-master');
    await setState(fx, 'active');
    const first = await fx.api(EU).execute({ query: PUT, variables: { input: { id: 'ver', value: 'one' } } });
    assert.equal((first.data?.putItem as { version: number }).version, 1);
    const second = await fx.api(EU).execute({ query: PUT, variables: { input: { id: 'ver', value: 'two', expectedVersion: 1 } } });
    assert.deepEqual(second.errors, undefined);
    assert.equal((second.data?.putItem as { version: number }).version, 2);
  });
});
