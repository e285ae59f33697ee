/**
 * The stream enabler: a deploy-time helper, invoked once per MRSC replica by `pulumi up` (aws.lambda.Invocation in
 * components/replicaStream.ts), never by clients. It turns on DynamoDB Streams on the table in ITS OWN region and
 * answers the stream's ARN.
 *
 * Why it exists: under `consistency: strong` (MRSC) the Terraform provider under @pulumi/aws enables the stream of the
 * home region's table only; the other replicas get none, so their notifiers would have nothing to read
 * (https://github.com/hashicorp/terraform-provider-aws/issues/48213, open). The fix proposed there, and the one
 * Crossplane shipped in its fork (https://github.com/crossplane-contrib/provider-upjet-aws/pull/2185), is an
 * UpdateTable with a StreamSpecification in each replica's region — what this does. For MRSC global tables streams
 * "are not required and can be changed for existing tables"
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-globaltable-streamspecification.html).
 *
 * Event: `{tableName, streamViewType}` (both required; the view type one of DynamoDB's four). Behaviour:
 * - AccessDeniedException in the first IAM_PROPAGATION_MS of the run is retried: `pulumi up` creates the function's role
 *   and policy seconds before the invocation, and IAM is eventually consistent — "changes that you make are not always
 *   immediately visible" (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency),
 *   so the first DescribeTable (or UpdateTable) can be refused; a denial that outlasts the window is a real one and
 *   fails with a message naming it;
 * - waits while the table is not ACTIVE (a replica still being created or updated refuses UpdateTable with
 *   ResourceInUseException, which is retried too);
 * - a stream already on with the same view type: nothing to do, its ARN is the answer (idempotent: a re-run, or a
 *   provider that one day enables it itself);
 * - a stream on with ANOTHER view type: refused with an error naming both (UpdateTable cannot change a stream's view
 *   type in place: "You receive a ValidationException if you try to enable a stream on a table that already has a
 *   stream" — UpdateTable, StreamSpecification: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html);
 * - otherwise UpdateTable {StreamSpecification: {StreamEnabled: true, StreamViewType}}, then DescribeTable until the
 *   table is ACTIVE with a LatestStreamArn.
 * Answer: `{streamArn, streamLabel, enabled}` (`enabled`: whether this call turned it on). Errors are thrown: the
 * Invocation resource then fails `pulumi up` with the message. The whole run is bounded by the invocation's remaining
 * time (minus a margin) and says what it was waiting for when it runs out.
 */
import { DescribeTableCommand, DynamoDBClient, UpdateTableCommand, type TableDescription } from '@aws-sdk/client-dynamodb';
import { errorName } from './lib/dynamo';

export const STREAM_VIEW_TYPES = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'] as const;
export type StreamViewType = (typeof STREAM_VIEW_TYPES)[number];
/** DynamoDB table names: 3 to 255 of a-z A-Z 0-9 _ - . (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html) */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
/** Between two DescribeTable calls while waiting. */
export const POLL_MS = 2000;
/** Left of the invocation's time when the enabler gives up waiting (room to answer). */
export const SAFETY_MS = 3000;
/** How long after the run starts an AccessDeniedException is taken for IAM still propagating the new role's policy. */
export const IAM_PROPAGATION_MS = 30_000;

export interface StreamEnablerEvent {
  tableName: string;
  streamViewType: StreamViewType;
}

export interface StreamEnablerAnswer {
  streamArn: string;
  streamLabel: string;
  enabled: boolean;
}

export interface StreamEnablerDeps {
  region: string;
  describe(tableName: string): Promise<TableDescription>;
  update(tableName: string, viewType: StreamViewType): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** milliseconds left before the enabler must answer */
  remainingMs(): number;
  /** a clock in milliseconds (Date.now): how long the run has been denied */
  now(): number;
}

/** The event, checked: a clear error naming the field otherwise. */
export function parseEvent(event: unknown): StreamEnablerEvent {
  const e = (event ?? {}) as Record<string, unknown>;
  if (typeof e.tableName !== 'string' || !TABLE_NAME.test(e.tableName)) {
    throw new Error(`tableName: ${JSON.stringify(e.tableName)} is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ - .)`);
  }
  if (!STREAM_VIEW_TYPES.includes(e.streamViewType as StreamViewType)) {
    throw new Error(`streamViewType: ${JSON.stringify(e.streamViewType)} is not one of ${STREAM_VIEW_TYPES.join(', ')}`);
  }
  return { tableName: e.tableName, streamViewType: e.streamViewType as StreamViewType };
}

const ready = (t: TableDescription): boolean => t.TableStatus === 'ACTIVE';
const streaming = (t: TableDescription): boolean => t.StreamSpecification?.StreamEnabled === true;

/** Turns the stream on (unless it is) and answers its ARN; see the header. */
export async function enableStream(deps: StreamEnablerDeps, event: unknown): Promise<StreamEnablerAnswer> {
  const { tableName, streamViewType } = parseEvent(event);
  const where = `table ${tableName} in ${deps.region}`;
  const started = deps.now();
  /** One DynamoDB call; AccessDeniedException retried while the role's new policy may still be propagating (see the header). */
  const allowed = async <T>(call: string, send: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await send();
      } catch (err) {
        if (errorName(err) !== 'AccessDeniedException') throw err;
        const waited = deps.now() - started;
        if (waited + POLL_MS > IAM_PROPAGATION_MS || deps.remainingMs() < POLL_MS + SAFETY_MS) {
          throw new Error(
            `${where}: ${call} refused with AccessDeniedException for ${Math.round(waited / 1000)} s, longer than IAM takes to apply the enabler's new policy; ` +
              `check that its role may ${call} on this table (and no SCP or permissions boundary denies it), then run \`pulumi up\` again: ${(err as Error).message}`,
            { cause: err },
          );
        }
        await deps.sleep(POLL_MS);
      }
    }
  };
  const describe = (): Promise<TableDescription> => allowed('dynamodb:DescribeTable', () => deps.describe(tableName));
  const waitFor = async (what: string, done: (t: TableDescription) => boolean): Promise<TableDescription> => {
    for (;;) {
      const t = await describe();
      if (done(t)) return t;
      if (deps.remainingMs() < POLL_MS + SAFETY_MS) throw new Error(`${where}: gave up waiting for ${what} (status ${t.TableStatus ?? 'unknown'}); run \`pulumi up\` again`);
      await deps.sleep(POLL_MS);
    }
  };

  const table = await waitFor('the table to be ACTIVE', ready);
  let enabled = false;
  if (streaming(table)) {
    const current = table.StreamSpecification?.StreamViewType;
    if (current !== streamViewType) {
      throw new Error(`${where} already has a stream of view type ${current}, not ${streamViewType}: DynamoDB cannot change a stream's view type in place; disable the stream (aws dynamodb update-table --stream-specification StreamEnabled=false) and run \`pulumi up\` again`);
    }
  } else {
    for (;;) {
      try {
        await allowed('dynamodb:UpdateTable', () => deps.update(tableName, streamViewType));
        enabled = true;
        break;
      } catch (err) {
        // the table (or its replication) is being updated: wait until it is ACTIVE, then try again
        if (errorName(err) !== 'ResourceInUseException') throw err;
        if (deps.remainingMs() < POLL_MS + SAFETY_MS) throw new Error(`${where}: still being updated (ResourceInUseException); run \`pulumi up\` again`);
        await deps.sleep(POLL_MS);
        await waitFor('the table to be ACTIVE', ready);
      }
    }
  }
  const done = await waitFor('the stream to be on', (t) => ready(t) && streaming(t) && typeof t.LatestStreamArn === 'string' && t.LatestStreamArn !== '');
  return { streamArn: done.LatestStreamArn as string, streamLabel: done.LatestStreamLabel ?? '', enabled };
}

/** The adapter: the function's own region, its remaining time, the SDK's DynamoDB client. */
export async function handler(event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<StreamEnablerAnswer> {
  const region = process.env.AWS_REGION;
  if (!region) throw new Error('AWS_REGION is not set (Lambda sets it)');
  const client = new DynamoDBClient({ region });
  const started = Date.now();
  try {
    return await enableStream(
      {
        region,
        describe: async (TableName) => {
          const t = (await client.send(new DescribeTableCommand({ TableName }))).Table;
          if (!t) throw new Error(`table ${TableName} in ${region}: DescribeTable answered no table`);
          return t;
        },
        update: async (TableName, StreamViewType) => {
          await client.send(new UpdateTableCommand({ TableName, StreamSpecification: { StreamEnabled: true, StreamViewType } }));
        },
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        remainingMs: () => context?.getRemainingTimeInMillis?.() ?? 300_000 - (Date.now() - started),
        now: Date.now,
      },
      event,
    );
  } finally {
    client.destroy();
  }
}
