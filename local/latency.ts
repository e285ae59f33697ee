/**
 * The "realistic" replication lag between two emulated regions, for local/replicator.ts (`lagMs: 'realistic'`).
 *
 * Source of the network numbers: average round-trip times between AWS regions (EC2 to EC2, ms), the table
 * "Latency Between AWS Global Regions" as reproduced in "AWS Regions", A Computer Scientist Learns AWS, April 2017,
 * https://acomputerscientistlearnsaws.blogspot.com/2017/04/aws-regions.html (consulted 2026-11-30). Rows are the
 * source region, columns the destination; the table has no São Paulo row in the part we could read, so sa-east-1 as
 * a source uses its column (RTT is close to symmetric everywhere else in the table). The numbers are from 2017;
 * live matrices (e.g. cloudping.co) are similar in magnitude.
 *
 * How lag is derived: DynamoDB's ReplicationLatency is "the elapsed time between when an item is written to a
 * replica table, and when that item appears in another replica", emitted per source/destination pair, and varies
 * with geographic distance (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_monitoring.html;
 * https://repost.aws/knowledge-center/replication-delay-global-table-dynamodb), and AWS describes multi-Region
 * eventually consistent replication as typically completing within a second
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html). We model
 *     lag = REPLICATION_BASE_MS + one-way network time (RTT / 2)
 * where REPLICATION_BASE_MS (250 ms) stands for reading the source stream and writing the replica: our modelling
 * choice, not a measured value, picked so every pair lands between ~260 ms and ~415 ms, inside "within a second".
 * Regions missing from the table borrow the nearest listed region's row (NEAREST below; e.g. eu-west-2 → eu-west-1);
 * two regions sharing one stand-in are given NEARBY_RTT_MS (10 ms, same-continent neighbours).
 */

const REGIONS = [
  'us-east-1',
  'us-west-1',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'sa-east-1',
] as const;
type Listed = (typeof REGIONS)[number];

/** Average RTT in ms, row = from, column = to, in REGIONS order (source above). */
const RTT_MS: Record<Exclude<Listed, 'sa-east-1'>, readonly number[]> = {
  'us-east-1': [0, 72.74, 86.98, 80.55, 88.66, 145.3, 178.4, 216.7, 230, 119.5],
  'us-west-1': [71.63, 0, 19.46, 153.2, 166.6, 102.5, 131.5, 174, 157.5, 192.7],
  'us-west-2': [88.68, 19.2, 0, 137, 159.5, 89.1, 118.3, 161.4, 162.2, 182.7],
  'eu-west-1': [80.52, 153.2, 137, 0, 19.56, 212.4, 242.4, 239, 309.6, 191.3],
  'eu-central-1': [88.62, 166.6, 159.5, 19.55, 0, 236.5, 266.2, 325.9, 323.5, 194.9],
  'ap-northeast-1': [145.3, 102.5, 89.16, 212.4, 236.6, 0, 31.44, 73.79, 103.9, 256.8],
  'ap-northeast-2': [176.6, 132.6, 118.2, 242.4, 265.3, 31.32, 0, 71.87, 134, 286.3],
  'ap-southeast-1': [216.7, 173.9, 161.4, 238.1, 325.9, 73.81, 71.29, 0, 175.3, 328.1],
  'ap-southeast-2': [229.7, 157.8, 161.9, 309.6, 323.2, 103.9, 134, 175.4, 0, 322.5],
};

/** Stand-ins for regions the table does not list (nearest listed region by geography). */
const NEAREST: Record<string, Listed> = {
  'us-east-2': 'us-east-1',
  'ca-central-1': 'us-east-1',
  'ca-west-1': 'us-west-2',
  'mx-central-1': 'us-east-1',
  'eu-west-2': 'eu-west-1',
  'eu-west-3': 'eu-central-1',
  'eu-north-1': 'eu-central-1',
  'eu-south-1': 'eu-central-1',
  'eu-south-2': 'eu-central-1',
  'eu-central-2': 'eu-central-1',
  'il-central-1': 'eu-central-1',
  'me-south-1': 'ap-southeast-1',
  'me-central-1': 'ap-southeast-1',
  'af-south-1': 'eu-west-1',
  'ap-south-1': 'ap-southeast-1',
  'ap-south-2': 'ap-southeast-1',
  'ap-east-1': 'ap-southeast-1',
  'ap-east-2': 'ap-northeast-1',
  'ap-northeast-3': 'ap-northeast-1',
  'ap-southeast-3': 'ap-southeast-1',
  'ap-southeast-4': 'ap-southeast-2',
  'ap-southeast-5': 'ap-southeast-1',
  'ap-southeast-6': 'ap-southeast-2',
  'ap-southeast-7': 'ap-southeast-1',
};

export const REPLICATION_BASE_MS = 250;
export const NEARBY_RTT_MS = 10;

function listed(region: string): Listed {
  if ((REGIONS as readonly string[]).includes(region)) return region as Listed;
  const near = NEAREST[region];
  if (!near) throw new Error(`no latency figure for region ${JSON.stringify(region)}: add it to NEAREST in local/latency.ts`);
  return near;
}

/** Average round-trip time in ms from one region to another, per the source table (with stand-ins). */
export function roundTripMs(from: string, to: string): number {
  if (from === to) return 0;
  const a = listed(from);
  const b = listed(to);
  if (a === b) return NEARBY_RTT_MS;
  const col = REGIONS.indexOf(b);
  if (a === 'sa-east-1') return RTT_MS[b as Exclude<Listed, 'sa-east-1'>][REGIONS.indexOf('sa-east-1')];
  return RTT_MS[a][col];
}

/** The modelled replication lag from one region's replica to another's, in whole ms (see header). */
export function realisticLagMs(from: string, to: string): number {
  if (from === to) return 0;
  return Math.round(REPLICATION_BASE_MS + roundTripMs(from, to) / 2);
}
