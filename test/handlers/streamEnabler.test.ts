/**
 * The stream enabler (handlers/streamEnabler.ts) against DynamoDB Local: the bundle `pulumi up` deploys turns a
 * table's stream on in its own region and answers the ARN DescribeTable then shows; a second run changes nothing; a
 * stream of another view type, a bad event or a missing table fail with what was wrong and leave the table as it was.
 * AccessDeniedException right after the role is created (IAM still propagating its policy) through a proxy in front
 * of DynamoDB Local that refuses the first DescribeTable calls. The waiting paths (a table not ACTIVE,
 * ResourceInUseException, a denial that outlasts IAM's propagation, running out of time) with scripted answers and a
 * scripted clock, since DynamoDB Local applies UpdateTable at once.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, type TableDescription } from '@aws-sdk/client-dynamodb';
import { bundleHandler } from '../../components/bundle';
import { enableStream, IAM_PROPAGATION_MS, POLL_MS, SAFETY_MS, type StreamEnablerDeps } from '../../handlers/streamEnabler';
import { ddbClient, dynamoEndpoint, uniqueTableName } from '../support/dynamodb';
import { refusingProxy } from './faultProxy';

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

  it('AccessDeniedException while IAM propagates the new role\'s policy: retried, then the stream is turned on', async () => {
    const name = uniqueTableName('mrsc-iam-lag');
    await createBareTable(name);
    const proxy = await refusingProxy(dynamoEndpoint());
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    try {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.url;
      proxy.refuse('DescribeTable', 2, 'AccessDeniedException', `User: arn:aws:sts::123456789012:assumed-role/enabler/fn is not authorized to perform: dynamodb:DescribeTable on resource: ${name}`);
      const answer = await handler({ tableName: name, streamViewType: 'NEW_AND_OLD_IMAGES' }, context);
      // the SDK does not retry AccessDeniedException itself: each refusal reached the enabler, which asked again
      assert.deepEqual(proxy.seen, ['DescribeTable!', 'DescribeTable!', 'DescribeTable', 'UpdateTable', 'DescribeTable']);
      assert.equal(answer.enabled, true);
      assert.equal(answer.streamArn, (await describeTable(name)).LatestStreamArn);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
      await proxy.close();
    }
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
      // a scripted clock: only sleeps move it
      let clock = 1_000_000;
      const deps: StreamEnablerDeps = {
        region: REGION,
        describe: async () => states[Math.min(calls.describe++, states.length - 1)],
        update: async () => {
          calls.update += 1;
          await update();
        },
        sleep: async (ms) => {
          calls.sleeps.push(ms);
          clock += ms;
        },
        remainingMs,
        now: () => clock,
      };
      return { deps, calls };
    }
    const denied = (action: string) => Object.assign(new Error(`not authorized to perform: ${action}`), { name: 'AccessDeniedException' });
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
      const invalid = scripted([{ TableStatus: 'ACTIVE' }], async () => {
        throw Object.assign(new Error('Table already has an enabled stream'), { name: 'ValidationException' });
      });
      await assert.rejects(enableStream(invalid.deps, { tableName: 'tbl1', streamViewType: 'NEW_AND_OLD_IMAGES' }), { name: 'ValidationException' });
      assert.deepEqual(invalid.calls.sleeps, [], 'not retried');
    });

    it('AccessDeniedException on UpdateTable too is retried while IAM may still be propagating', async () => {
      let refusals = 3;
      const lag = scripted([{ TableStatus: 'ACTIVE' }, on], async () => {
        if (refusals-- > 0) throw denied('dynamodb:UpdateTable');
      });
      assert.deepEqual(await enableStream(lag.deps, { tableName: 'tbl1', streamViewType: 'NEW_AND_OLD_IMAGES' }), { streamArn: ARN, streamLabel: 'L', enabled: true });
      assert.deepEqual([lag.calls.update, lag.calls.sleeps], [4, [POLL_MS, POLL_MS, POLL_MS]]);
    });

    it('a denial that outlasts IAM propagation fails, naming the action and how long it was refused', async () => {
      const stuck = scripted([{ TableStatus: 'ACTIVE' }]);
      stuck.deps.describe = async () => {
        stuck.calls.describe += 1;
        throw denied('dynamodb:DescribeTable');
      };
      const err = await enableStream(stuck.deps, { tableName: 'tbl1', streamViewType: 'NEW_AND_OLD_IMAGES' }).then(
        () => assert.fail('resolved'),
        (e: Error) => e,
      );
      assert.match(err.message, /^table tbl1 in eu-central-1: dynamodb:DescribeTable refused with AccessDeniedException for 30 s, longer than IAM takes .*run `pulumi up` again: not authorized to perform: dynamodb:DescribeTable$/);
      assert.equal((err.cause as Error).name, 'AccessDeniedException');
      // asked again every POLL_MS for IAM_PROPAGATION_MS, never past it
      assert.equal(stuck.calls.sleeps.length, IAM_PROPAGATION_MS / POLL_MS);
      assert.equal(stuck.calls.describe, IAM_PROPAGATION_MS / POLL_MS + 1);
      // and never past the invocation's remaining time either
      let left = POLL_MS + SAFETY_MS + 1;
      const short = scripted([{ TableStatus: 'ACTIVE' }], undefined, () => left);
      short.deps.describe = async () => {
        throw denied('dynamodb:DescribeTable');
      };
      short.deps.sleep = async (ms) => {
        left -= ms;
        short.calls.sleeps.push(ms);
      };
      await assert.rejects(enableStream(short.deps, { tableName: 'tbl1', streamViewType: 'NEW_AND_OLD_IMAGES' }), /dynamodb:DescribeTable refused with AccessDeniedException/);
      assert.deepEqual(short.calls.sleeps, [POLL_MS]);
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
