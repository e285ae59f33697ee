/**
 * The local AppSync DynamoDB data source's TransactWriteItems (local/appsync/dynamodb.ts) against DynamoDB Local:
 * AppSync's request shape, ctx.result {keys, cancellationReasons} on success and on cancellation (with the stored
 * item unless returnValuesOnConditionCheckFailure is false), and the strict refusals.
 */
import assert from 'node:assert/strict';
import { executeDynamoDBRequest, InvalidRequestError, UnsupportedRequestError } from '../../local/appsync/dynamodb';
import { appsyncUtilsModule } from '../../local/appsync/util';
import { createTable, ddbClient, uniqueTableName } from '../support/dynamodb';

const REGION = 'eu-west-1';
const { util } = appsyncUtilsModule;

describe('local AppSync data source: TransactWriteItems', () => {
  const a = uniqueTableName('tx-a');
  const b = uniqueTableName('tx-b');
  // made in before(): DynamoDB Local's endpoint is known once mocha's global setup ran (after files load, unless parallel)
  let client: ReturnType<typeof ddbClient>;
  const run = (request: unknown) => executeDynamoDBRequest({ tableName: a, region: REGION }, request, () => client);
  before(async () => {
    client = ddbClient(REGION);
    await createTable(REGION, a);
    await createTable(REGION, b);
  });
  after(() => client?.destroy());

  it('writes to two tables atomically and answers {keys, cancellationReasons: null}', async () => {
    const out = await run({
      operation: 'TransactWriteItems',
      transactItems: [
        { table: a, operation: 'PutItem', key: util.dynamodb.toMapValues({ id: 'x' }), attributeValues: util.dynamodb.toMapValues({ n: 1 }) },
        { table: b, operation: 'UpdateItem', key: util.dynamodb.toMapValues({ id: 'y' }), update: { expression: 'SET #n = :n', expressionNames: { '#n': 'n' }, expressionValues: util.dynamodb.toMapValues({ ':n': 2 }) } },
      ],
    });
    assert.deepEqual(out, { result: { keys: [{ id: 'x' }, { id: 'y' }], cancellationReasons: null } });
  });

  it('a failed condition cancels everything: ctx.error TransactionCanceledException and ctx.result.cancellationReasons in request order, with the stored item', async () => {
    const out = await run({
      operation: 'TransactWriteItems',
      transactItems: [
        { table: a, operation: 'ConditionCheck', key: util.dynamodb.toMapValues({ id: 'x' }), condition: { expression: '#n = :two', expressionNames: { '#n': 'n' }, expressionValues: util.dynamodb.toMapValues({ ':two': 2 }) } },
        { table: b, operation: 'DeleteItem', key: util.dynamodb.toMapValues({ id: 'y' }) },
        { table: b, operation: 'PutItem', key: util.dynamodb.toMapValues({ id: 'z' }), attributeValues: {}, condition: { expression: 'attribute_exists(id)', returnValuesOnConditionCheckFailure: false } },
      ],
    });
    assert.equal(out.error?.type, 'DynamoDB:TransactionCanceledException');
    const result = out.result as { keys: unknown; cancellationReasons: Array<Record<string, unknown>> };
    assert.equal(result.keys, null);
    assert.deepEqual(
      result.cancellationReasons.map((r) => [r.type, r.item ?? null]),
      [
        ['ConditionalCheckFailed', { id: 'x', n: 1 }],
        ['None', null],
        ['ConditionalCheckFailed', null],
      ],
    );
    const y = await executeDynamoDBRequest({ tableName: b, region: REGION }, { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: 'y' }), consistentRead: true }, () => client);
    assert.deepEqual(y.result, { id: 'y', n: 2 }, 'the delete was cancelled with the rest');
  });

  it('refuses what AppSync does not take: unknown fields, a ConditionCheck without a condition, no table, an empty list', async () => {
    const key = util.dynamodb.toMapValues({ id: 'x' });
    await assert.rejects(run({ operation: 'TransactWriteItems', transactItems: [{ table: a, operation: 'DeleteItem', key, returnValues: 'ALL_OLD' }] }), UnsupportedRequestError);
    await assert.rejects(run({ operation: 'TransactWriteItems', transactItems: [{ table: a, operation: 'ConditionCheck', key }] }), InvalidRequestError);
    await assert.rejects(run({ operation: 'TransactWriteItems', transactItems: [{ operation: 'DeleteItem', key }] }), InvalidRequestError);
    await assert.rejects(run({ operation: 'TransactWriteItems', transactItems: [] }), InvalidRequestError);
    await assert.rejects(run({ operation: 'TransactWriteItems', transactItems: [{ table: a, operation: 'GetItem', key }] }), UnsupportedRequestError);
    await assert.rejects(run({ operation: 'TransactWriteItems', transactItems: [], clientRequestToken: 't' }), UnsupportedRequestError);
  });
});
