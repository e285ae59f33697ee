/**
 * The stream enabler (handlers/streamEnabler.ts) against DynamoDB Local: the bundle `pulumi up` deploys turns a
 * table's stream on in its own region and answers the ARN DescribeTable then shows; a second run changes nothing; a
 * stream of another view type, a bad event or a missing table fail with what was wrong and leave the table as it was.
 * The waiting paths (a table not ACTIVE, ResourceInUseException, running out of time) with scripted DescribeTable
 * answers, since DynamoDB Local applies UpdateTable at once.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, type TableDescription } from '@aws-sdk/client-dynamodb';
import { bundleHandler } from '../../components/bundle';
import { enableStream, POLL_MS, SAFETY_MS, type StreamEnablerDeps } from '../../handlers/streamEnabler';
import { ddbClient, uniqueTableName } from '../support/dynamodb';

const REGION = 'eu-central-1';

type Handler = (event: unknown, context?: { getRemainingTimeInMillis(): number }) => Promise<{ streamArn: string; streamLabel: string; enabled: boolean }>;

async function createBareTable(name: string, stream?: 'KEYS_ONLY' | 'NEW_AND_OLD_IMAGES'): Promise<void> {
  const client = ddbClient(REGION);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream } } : {}),
      }),
    );
  } finally {
    client.destroy();
  }
}

async function describeTable(name: string): Promise<TableDescription> {
  const client = ddbClient(REGION);
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table!;
  } finally {
    client.destroy();
  }
}

describe('stream enabler (MRSC replicas) against DynamoDB Local', function () {
  this.timeout(60_000);
  let handler: Handler;
  const context = { getRemainingTimeInMillis: () => 60_000 };
  let region: string | undefined;

  before(() => {
    region = process.env.AWS_REGION;
    process.env.AWS_REGION = REGION; // Lambda sets the function's region; the enabler works there only
    // the very file `pulumi up` deploys (components/replicaStream.ts → dist/handlers/streamEnabler)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = (require(path.join(bundleHandler('streamEnabler'), 'index.js')) as { handler: Handler }).handler;
  });
  after(() => {
    if (region === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = region;
  });

  it('turns the stream on and answers the ARN DescribeTable shows; a second run changes nothing', async () => {
    const name = uniqueTableName('mrsc-replica');
    await createBareTable(name);
    assert.equal((await describeTable(name)).StreamSpecification?.StreamEnabled, undefined, 'no stream before');
    const first = await handler({ tableName: name, streamViewType: 'NEW_AND_OLD_IMAGES' }, context);
    const after = await describeTable(name);
    assert.deepEqual(after.StreamSpecification, { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    assert.equal(first.streamArn, after.LatestStreamArn);
    assert.match(first.streamArn, new RegExp(`^arn:aws:dynamodb:[^:]*:[^:]*:table/${name}/stream/`));
    assert.equal(first.streamLabel, after.LatestStreamLabel);
    assert.equal(first.enabled, true);
    // UpdateTable would refuse a second enable (ValidationException): the enabler sees the stream and stops
    const second = await handler({ tableName: name, streamViewType: 'NEW_AND_OLD_IMAGES' }, context);
    assert.deepEqual(second, { ...first, enabled: false });
    assert.equal((await describeTable(name)).LatestStreamArn, first.streamArn);
  });

  it('a stream of another view type is refused, naming both, and left as it is', async () => {
    const name = uniqueTableName('mrsc-keys-only');
    await createBareTable(name, 'KEYS_ONLY');
    const before = await describeTable(name);
    await assert.rejects(handler({ tableName: name, streamViewType: 'NEW_AND_OLD_IMAGES' }, context), new RegExp(`table ${name} in ${REGION} already has a stream of view type KEYS_ONLY, not NEW_AND_OLD_IMAGES`));
    const after = await describeTable(name);
    assert.deepEqual([after.StreamSpecification, after.LatestStreamArn], [before.StreamSpecification, before.LatestStreamArn]);
  });

  it('a bad event names the field; a missing table fails with DynamoDB\'s error', async () => {
    await assert.rejects(handler({ tableName: 'x', streamViewType: 'NEW_AND_OLD_IMAGES' }, context), /tableName: "x" is not a DynamoDB table name/);
    await assert.rejects(handler({ tableName: 'some-table', streamViewType: 'NEW' }, context), /streamViewType: "NEW" is not one of KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES/);
    await assert.rejects(handler({ tableName: uniqueTableName('absent'), streamViewType: 'NEW_AND_OLD_IMAGES' }, context), { name: 'ResourceNotFoundException' });
  });

  describe('waiting (scripted DescribeTable answers)', () => {
    const ARN = 'arn:aws:dynamodb:eu-central-1:123456789012:table/tbl1/stream/2026-01-01T00:00:00.000';
    /** deps whose DescribeTable answers the given states in turn (the last one repeats), counting sleeps and updates */
    function scripted(states: TableDescription[], update: () => Promise<void> = async () => undefined, remainingMs = () => 60_000) {
      const calls = { describe: 0, update: 0, sleeps: [] as number[] };
      const deps: StreamEnablerDeps = {
        region: REGION,
        describe: async () => states[Math.min(calls.describe++, states.length - 1)],
        update: async () => {
          calls.update += 1;
          await update();
        },
        sleep: async (ms) => {
          calls.sleeps.push(ms);
        },
        remainingMs,
      };
      return { deps, calls };
    }
    const on: TableDescription = { TableStatus: 'ACTIVE', StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' }, LatestStreamArn: ARN, LatestStreamLabel: 'L' };

    it('waits for a replica that is still UPDATING before UpdateTable, then for the stream to show', async () => {
      const { deps, calls } = scripted([{ TableStatus: 'UPDATING' }, { TableStatus: 'ACTIVE' }, { TableStatus: 'UPDATING', StreamSpecification: on.StreamSpecification }, on]);
      assert.deepEqual(await enableStream(deps, { tableName: 'tbl1', streamViewType: 'NEW_AND_OLD_IMAGES' }), { streamArn: ARN, streamLabel: 'L', enabled: true });
      assert.deepEqual(calls, { describe: 4, update: 1, sleeps: [POLL_MS, POLL_MS] });
    });

    it('retries UpdateTable after ResourceInUseException; other errors are thrown as they are', async () => {
      let refusals = 1;
      const inUse = scripted([{ TableStatus: 'ACTIVE' }, { TableStatus: 'ACTIVE' }, on], async () => {
        if (refusals-- > 0) throw Object.assign(new Error('table is being updated'), { name: 'ResourceInUseException' });
      });
      assert.equal((await enableStream(inUse.deps, { tableName: 'tbl1', streamViewType: 'NEW_AND_OLD_IMAGES' })).streamArn, ARN);
      assert.equal(inUse.calls.update, 2);
      const denied = scripted([{ TableStatus: 'ACTIVE' }], async () => {
        throw Object.assign(new Error('not authorized to perform: dynamodb:UpdateTable'), { name: 'AccessDeniedException' });
      });
      await assert.rejects(enableStream(denied.deps, { tableName: 'tbl1', streamViewType: 'NEW_AND_OLD_IMAGES' }), { name: 'AccessDeniedException' });
    });

    it('out of time: says what it was waiting for, after polling while time was left', async () => {
      let left = POLL_MS + SAFETY_MS + 2 * POLL_MS;
      const stuck = scripted([{ TableStatus: 'UPDATING' }], undefined, () => left);
      stuck.deps.sleep = async (ms) => {
        left -= ms;
      };
      await assert.rejects(enableStream(stuck.deps, { tableName: 'tbl1', streamViewType: 'NEW_AND_OLD_IMAGES' }), /table tbl1 in eu-central-1: gave up waiting for the table to be ACTIVE \(status UPDATING\); run `pulumi up` again/);
    });
  });
});
