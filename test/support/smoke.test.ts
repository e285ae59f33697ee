import assert from 'node:assert/strict';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { createTable, ddbClient, uniqueTableName } from './dynamodb';

describe('DynamoDB Local (test setup)', () => {
  it('keeps tables apart per region name', async () => {
    const name = uniqueTableName('smoke');
    await createTable('eu-west-1', name);
    // DescribeTable, not ListTables: ListTables answers at most 100 names a page, and the parallel test files
    // create many more tables than that in one DynamoDB Local
    const eu = await ddbClient('eu-west-1').send(new DescribeTableCommand({ TableName: name }));
    assert.equal(eu.Table?.TableName, name);
    await assert.rejects(ddbClient('ap-southeast-2').send(new DescribeTableCommand({ TableName: name })), { name: 'ResourceNotFoundException' });
  });
});
