/**
 * Reads a table's DynamoDB stream from DynamoDB Local through its Streams JSON API (DescribeStream,
 * GetShardIterator, GetRecords), returning records shaped as Lambda delivers them in a stream event
 * (eventSourceARN added, as Lambda does). Used by the tests and, later, the emulator's stream poller.
 * (@aws-sdk/client-dynamodb-streams would do the same; this avoids a dependency for three JSON calls.)
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';

async function streamsCall<T>(endpoint: string, region: string, target: string, payload: unknown): Promise<T> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDBStreams_20120810.${target}`,
      // DynamoDB Local keeps one database per access key and region; it does not check the signature itself.
      authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`DynamoDB Streams ${target} (${region}): HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Every record of the table's stream so far (from TRIM_HORIZON), in sequence-number order. */
export async function readStreamRecords(endpoint: string, region: string, table: string): Promise<DynamoDBRecord[]> {
  const client = new DynamoDBClient({ region, endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const desc = await client.send(new DescribeTableCommand({ TableName: table }));
  const arn = desc.Table?.LatestStreamArn;
  if (!arn) throw new Error(`table ${table} in ${region} has no stream`);
  const stream = await streamsCall<{ StreamDescription: { Shards: { ShardId: string }[] } }>(endpoint, region, 'DescribeStream', { StreamArn: arn });
  const records: DynamoDBRecord[] = [];
  for (const shard of stream.StreamDescription.Shards) {
    let { ShardIterator: it } = await streamsCall<{ ShardIterator?: string }>(endpoint, region, 'GetShardIterator', {
      StreamArn: arn,
      ShardId: shard.ShardId,
      ShardIteratorType: 'TRIM_HORIZON',
    });
    for (let page = 0; it && page < 50; page += 1) {
      const out = await streamsCall<{ Records: DynamoDBRecord[]; NextShardIterator?: string }>(endpoint, region, 'GetRecords', { ShardIterator: it, Limit: 1000 });
      if (out.Records.length === 0) break;
      records.push(...out.Records.map((r) => ({ ...r, eventSourceARN: arn })));
      it = out.NextShardIterator;
    }
  }
  return records.sort((a, b) => (BigInt(a.dynamodb!.SequenceNumber!) < BigInt(b.dynamodb!.SequenceNumber!) ? -1 : 1));
}
