/**
 * Multi-Region strong consistency (MRSC) rules for the `consistency` and `witnessRegion` stack config keys: which
 * regions may form an MRSC global table, and what such a table does not support. Pure (no @pulumi imports):
 * config/index.ts calls `mrscProblems` while it collects every config problem, components/globalTable.ts calls
 * `assertMrscTable` on the table it is about to declare, and the emulator reads CONSISTENCY_MODES.
 *
 * Source, read 2026-11-30:
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html
 *     (consistency modes: an MRSC global table is exactly three regions — three replicas, or two replicas and one
 *     witness; the regions form one region set, a table cannot span region sets; the mode is chosen when the global
 *     table is created and cannot be changed; time to live, local secondary indexes and transactions
 *     (TransactWriteItems / TransactGetItems) are not supported; streams are not used for replication but can be
 *     enabled; a write that conflicts with a concurrent write from another region fails with
 *     ReplicatedWriteConflictException and can be retried)
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-globaltable-globaltablewitness.html
 *     (the witness must be in a different region than the replicas and within the same region set; the three sets
 *     below, verbatim: US East (N. Virginia), US East (Ohio), US West (Oregon) / Europe (Ireland), Europe (London),
 *     Europe (Paris), Europe (Frankfurt) / Asia Pacific (Tokyo), Asia Pacific (Seoul), Asia Pacific (Osaka))
 * When AWS adds regions to a set, add them here: nothing else in the program names them.
 */
import { type ConfigProblem, hint, show } from './problems';

export const CONSISTENCY_MODES = ['eventual', 'strong'] as const;
export type Consistency = (typeof CONSISTENCY_MODES)[number];

/** The documented MRSC region sets (see header). */
export const MRSC_REGION_SETS: Readonly<Record<string, readonly string[]>> = {
  US: ['us-east-1', 'us-east-2', 'us-west-2'],
  EU: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  AP: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
};

export const MRSC_SOURCE = 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html (read 2026-11-30)';

/** The region set a region belongs to, or undefined when MRSC is not offered there. */
export function regionSetOf(region: string): string | undefined {
  return Object.keys(MRSC_REGION_SETS).find((s) => MRSC_REGION_SETS[s].includes(region));
}

const describeSet = (region: string): string => {
  const set = regionSetOf(region);
  return set ? `${region} is in the ${set} region set` : `${region} is in no MRSC region set`;
};
const SETS_TEXT = Object.entries(MRSC_REGION_SETS).map(([s, rs]) => `${s}: ${rs.join(', ')}`).join('; ');

export interface MrscProblem {
  key: string;
  value: string;
  allowed: string;
}

/**
 * Every problem with `consistency` + `witnessRegion` for these regions (empty: fine). `regions` are the already
 * validated stack regions; `witnessRegion` is the raw value (undefined when not set).
 */
export function mrscProblems(consistency: Consistency, regions: readonly string[], witnessRegion: unknown): MrscProblem[] {
  const out: MrscProblem[] = [];
  const shape = `consistency strong takes exactly three regions of one MRSC region set, or two plus a witnessRegion of the same set (${SETS_TEXT}; ${MRSC_SOURCE})`;
  if (witnessRegion !== undefined && (typeof witnessRegion !== 'string' || witnessRegion === '')) {
    out.push({ key: 'witnessRegion', value: JSON.stringify(witnessRegion), allowed: `a region name of an MRSC region set (${SETS_TEXT})` });
    return out;
  }
  const witness = witnessRegion as string | undefined;
  if (consistency === 'eventual') {
    if (witness !== undefined) out.push({ key: 'witnessRegion', value: JSON.stringify(witness), allowed: 'only with consistency strong (a witness is part of a multi-Region strongly consistent table); remove it, or set consistency strong' });
    return out;
  }
  if (regions.length === 0) return out; // the regions problem is reported already
  const sets = regions.map(regionSetOf);
  const naming = regions.map(describeSet).join(', ');
  regions.forEach((r, i) => {
    if (!sets[i]) out.push({ key: `regions[${i}]`, value: JSON.stringify(r), allowed: `${describeSet(r)}: ${shape}` });
  });
  if (sets.every(Boolean) && new Set(sets).size > 1) {
    out.push({ key: 'regions', value: JSON.stringify(regions), allowed: `${naming}: an MRSC table cannot span region sets; ${shape}` });
  }
  const set = sets.every(Boolean) && new Set(sets).size === 1 ? sets[0] : undefined;
  if (regions.length === 3) {
    if (witness !== undefined) out.push({ key: 'witnessRegion', value: JSON.stringify(witness), allowed: `three regions are already the three MRSC regions (${naming}): a witness is only for two regions; remove witnessRegion` });
  } else if (regions.length === 2) {
    if (witness === undefined) {
      out.push({ key: 'witnessRegion', value: '(not set)', allowed: `required with two regions (${naming}): a third region of ${set ? `the ${set} set that is not in regions (${MRSC_REGION_SETS[set].filter((r) => !regions.includes(r)).join(', ')})` : 'their region set'}; ${shape}` });
    } else if (regions.includes(witness)) {
      out.push({ key: 'witnessRegion', value: JSON.stringify(witness), allowed: `must be a third region, not one of regions (${regions.join(', ')}): the witness holds no replica` });
    } else if (!regionSetOf(witness) || (set && regionSetOf(witness) !== set)) {
      out.push({ key: 'witnessRegion', value: JSON.stringify(witness), allowed: `${describeSet(witness)}, but ${naming}: the witness must be in the same region set${set ? ` (${MRSC_REGION_SETS[set].filter((r) => !regions.includes(r)).join(', ')})` : ''}; ${shape}` });
    }
  } else {
    out.push({ key: 'regions', value: JSON.stringify(regions), allowed: `${regions.length} region${regions.length === 1 ? '' : 's'} (${naming}); ${shape}` });
  }
  return out;
}

/** Table features an MRSC table refuses (see header); globalTable.ts checks its own table arguments against them. */
export const MRSC_UNSUPPORTED: ReadonlyArray<{ field: string; what: string }> = [
  { field: 'ttl', what: 'time to live' },
  { field: 'localSecondaryIndexes', what: 'local secondary indexes' },
];

/** Throws when a table's arguments use what an MRSC table does not support (a programming error, not config). */
export function assertMrscTable(tableName: string, args: Readonly<Record<string, unknown>>): void {
  for (const { field, what } of MRSC_UNSUPPORTED) {
    const v = args[field];
    const used = Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && !(typeof v === 'object' && (v as { enabled?: unknown }).enabled === false);
    if (used) throw new Error(`table ${tableName}: ${field} (${what}) is not supported by a multi-Region strongly consistent table (${MRSC_SOURCE}); remove it or use consistency eventual`);
  }
}

/** `consistency`: eventual | strong (default eventual); undefined after a problem. */
export function parseConsistency(raw: string | undefined, problems: ConfigProblem[]): Consistency | undefined {
  if (raw === undefined || raw === '') return 'eventual';
  if ((CONSISTENCY_MODES as readonly string[]).includes(raw)) return raw as Consistency;
  problems.push({ key: 'consistency', value: show(raw), allowed: `${hint(raw, CONSISTENCY_MODES)}one of ${CONSISTENCY_MODES.join(', ')} (strong = multi-Region strong consistency: docs/consistency.md)` });
  return undefined;
}
