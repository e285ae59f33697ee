import assert from 'node:assert/strict';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createTable, ddbClient, uniqueTableName } from './dynamodb';

describe('DynamoDB Local (test setup)', () => {
  it('keeps tables apart per region name', async () => {
    const name = uniqueTableName('smoke');
    await createTable('eu-west-1', name);
    const eu = await ddbClient('eu-west-1').send(new ListTablesCommand({}));
    const ap = await ddbClient('ap-southeast-2').send(new ListTablesCommand({}));
    assert.ok(eu.TableNames?.includes(name));
    assert.ok(!ap.TableNames?.includes(name));
  });
});
