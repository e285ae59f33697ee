/**
 * Series 8, on AWS, on paper: the same write → subscriber path as the notify series, itemised hop by hop from
 * published figures (with their source) and, where AWS publishes none, from a stated assumption, for the dev
 * stack's regions (a write on eu-west-1, a subscriber on ap-southeast-2 and one on eu-west-1). Nothing is measured.
 *
 * p50 of the path ≈ the sum of the hops' medians; p99 ≤ the sum of their p99s (an upper bound: the hops' tails
 * rarely coincide).
 */
import { realisticLagMs } from '../../local/latency';
import type { Row, Series } from './series';

export interface PaperHop {
  hop: string;
  p50: number;
  p99: number;
  basis: 'published' | 'model' | 'assumption';
  /** What the figure rests on. */
  note: string;
  source?: string;
}

export const WRITER = 'eu-west-1';
export const REMOTE = 'ap-southeast-2';

const LAMBDA_POLL = 'https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html';
const READ_CONSISTENCY = 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html';
const REPLICATION_METRIC = 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_monitoring.html';
const COLD_STARTS = 'https://aws.amazon.com/blogs/compute/operating-lambda-performance-optimization-part-1/';
const APPSYNC_METRICS = 'https://docs.aws.amazon.com/appsync/latest/devguide/monitoring.html';

export function paperHops(remote: boolean): PaperHop[] {
  const lag = realisticLagMs(WRITER, REMOTE);
  return [
    {
      hop: 'write (AppSync mutation + DynamoDB transaction)',
      p50: 30,
      p99: 100,
      basis: 'assumption',
      note: "AWS publishes no AppSync request latency; read it from the API's Latency metric once deployed",
      source: APPSYNC_METRICS,
    },
    ...(remote
      ? [
          {
            hop: `replication ${WRITER} → ${REMOTE}`,
            p50: lag,
            p99: 1000,
            basis: 'model' as const,
            note: `"replicated to all the other replicas ... typically within a second" (no percentile published); p50 = local/latency.ts's model, 250 ms + half the ${WRITER}–${REMOTE} round trip; ReplicationLatency per region pair is the metric to watch (${REPLICATION_METRIC})`,
            source: READ_CONSISTENCY,
          },
        ]
      : []),
    {
      hop: 'stream poll (event source mapping)',
      p50: 125,
      p99: 248,
      basis: 'published',
      note: '"Lambda polls shards in your DynamoDB stream for records at a base rate of 4 times per second": a record waits 0–250 ms, evenly',
      source: LAMBDA_POLL,
    },
    {
      hop: 'notifier (warm invocation, SigV4 signing)',
      p50: 10,
      p99: 100,
      basis: 'assumption',
      note: 'a warm sandbox; cold starts take from under 100 ms to over 1 s but hit under 1% of invocations (a stream keeps its sandboxes warm)',
      source: COLD_STARTS,
    },
    {
      hop: 'publish (AppSync publishItemChange, NONE data source)',
      p50: 50,
      p99: 150,
      basis: 'assumption',
      note: "no published figure; 50 ms is the project's working figure (the notifier's throughput model); AppSync's Latency metric measures it",
      source: APPSYNC_METRICS,
    },
    {
      hop: 'fan-out (WebSocket frame to a client near the region)',
      p50: 20,
      p99: 100,
      basis: 'assumption',
      note: "one-way network time to the client, which depends on the client's network; AWS publishes no delivery latency",
    },
  ];
}

export function paperPath(remote: boolean): { p50: number; p99: number; hops: PaperHop[] } {
  const hops = paperHops(remote);
  return { p50: hops.reduce((s, h) => s + h.p50, 0), p99: hops.reduce((s, h) => s + h.p99, 0), hops };
}

export function awsSeries(): Series {
  return {
    id: 8,
    key: 'aws',
    name: 'On AWS, on paper',
    async finish() {
      const rows: Row[] = [true, false].map((remote) => {
        const p = paperPath(remote);
        return {
          case: `write on ${WRITER} → subscriber on ${remote ? REMOTE : `${WRITER} (same region)`}: expected p50 (sum of ${p.hops.length} hops)`,
          unit: 'ms',
          figure: { label: 'p50', value: p.p50, unit: 'ms' },
          extra: `p99 ≤ ${p.p99.toLocaleString('en-US')} ms (sum of the hops' p99s); ${p.hops.map((h) => `${h.hop.split(' (')[0]} ${h.p50}`).join(' · ')}`,
          detail: { p50: p.p50, p99UpperBound: p.p99, hops: p.hops },
        };
      });
      return { available: true, rows };
    },
  };
}
