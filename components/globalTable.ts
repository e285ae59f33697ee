/**
 * GlobalTable: the items table and the app-config table, each one DynamoDB global table (version 2019.11.21)
 * whose own resource lives in `homeRegion` with an inline replica in every other region.
 *
 * - `homeRegion`, not `primaryRegion`, owns the tables: a table with a physical name is delete-before-replace,
 *   so moving its resource would destroy data. Changing `primaryRegion` therefore never touches a table.
 * - `streamEnabled: true` is set explicitly: with replicas, leaving it implicit makes every update try to
 *   disable the stream (terraform-provider-aws#43625).
 * - Each region's items stream ARN (`itemStreams`, what that region's notifier reads), known after one `pulumi up` —
 *   no second deploy, no CLI look-up: home region, the table's own `streamArn`; eventual (MREC) replicas,
 *   `replicas[].streamArn` (DynamoDB gives every MREC replica the table's stream, and the provider copies each one's
 *   LatestStreamArn from DescribeTable in its region); strong (MRSC) replicas, components/replicaStream.ts, because
 *   the provider turns streams on for the home replica only (terraform-provider-aws#48213) — it enables the stream in
 *   the replica's region and reads the ARN back there. The app-config table needs no stream: nothing reads it.
 * - `consistency: strong`: multi-Region strong consistency. Every replica gets `consistencyMode: STRONG`,
 *   and with two regions the third is `globalTableWitness` (config/consistency.ts validated the shape and checks
 *   the table uses nothing MRSC refuses: no TTL, no local secondary indexes). Streams stay on: the notifiers read
 *   them (MRSC does not replicate through streams, but supports them). The mode is fixed when a global table is
 *   created (and needs an empty table): DynamoDB refuses to switch a deployed table, and terraform-provider-aws
 *   treats `replica.consistency_mode` as an in-place change (not ForceNew), so a switch would fail partway through
 *   replica updates. Switch by deploying a new stack (docs/consistency.md).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { HASH_KEY, HASH_KEY_TYPE, STREAM_VIEW_TYPE } from '../schema/tables';
import type { CodeSource } from './lambda';
import { assertMrscTable, type Consistency } from '../config/consistency';
import { ReplicaStream } from './replicaStream';
import { requireStreamArn } from './streamArn';

export { requireStreamArn } from './streamArn';

export interface GlobalTableArgs {
  /** All regions, in config order. */
  regions: readonly string[];
  homeRegion: string;
  /** The home region's provider: both tables' own resources go through it and never move. */
  homeProvider: aws.Provider;
  /** Every region's provider (strong: each replica's stream is turned on and read in its own region). */
  providers: ReadonlyMap<string, aws.Provider>;
  /** Lambda code (strong: the stream enabler, handlers/streamEnabler.ts). */
  code: CodeSource;
  itemsTableName: string;
  appConfigTableName: string;
  protect: boolean;
  /** default eventual; strong = MRSC (config/ checked regions + witnessRegion against the region sets) */
  consistency?: Consistency;
  /** the MRSC witness (strong consistency with two regions) */
  witnessRegion?: string;
}

/** One table's ARN as seen from one region (its replica there). */
export interface RegionTable {
  tableArn: pulumi.Output<string>;
}

export interface TableRefs {
  table: aws.dynamodb.Table;
  name: pulumi.Output<string>;
  /** region → that region's replica (home region: the table itself) */
  byRegion: Readonly<Record<string, RegionTable>>;
}

export class GlobalTable extends pulumi.ComponentResource {
  readonly items: TableRefs;
  readonly appConfig: TableRefs;
  /** region → the items stream ARN that region's notifier reads (see the header for where each comes from) */
  readonly itemStreams: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: GlobalTableArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:GlobalTable', name, {}, opts);
    if (!args.regions.includes(args.homeRegion)) throw new Error(`homeRegion ${args.homeRegion} is not one of ${args.regions.join(', ')}`);
    const replicaRegions = args.regions.filter((r) => r !== args.homeRegion);
    const strong = args.consistency === 'strong';
    if (strong && args.regions.length + (args.witnessRegion ? 1 : 0) !== 3) {
      throw new Error(`consistency strong needs three regions, or two and a witness; got ${args.regions.join(', ')}${args.witnessRegion ? ` + witness ${args.witnessRegion}` : ''}`);
    }

    const makeTable = (suffix: string, tableName: string): { refs: TableRefs; replicas: Record<string, pulumi.Output<aws.types.output.dynamodb.TableReplica>> } => {
      const tableArgs: aws.dynamodb.TableArgs = {
        name: tableName,
        billingMode: 'PAY_PER_REQUEST',
        hashKey: HASH_KEY,
        attributes: [{ name: HASH_KEY, type: HASH_KEY_TYPE }],
        streamEnabled: true,
        streamViewType: STREAM_VIEW_TYPE,
        pointInTimeRecovery: { enabled: true },
        // AWS managed KMS key (alias/aws/dynamodb) in each region; replicas use their own region's.
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: args.protect,
        replicas: replicaRegions.map((regionName) => ({
          regionName,
          pointInTimeRecovery: true,
          propagateTags: true,
          // Deliberate: a protected stack's replicas cannot be deleted, so removing a region from `regions`
          // fails in a protected stack (DynamoDB refuses to remove the replica) — that is the point, it guards
          // the data. Removing a region from a protected stack takes three updates:
          //   1. `pulumi config set protect false` for that stack, `pulumi up` (lifts deletion protection on the
          //      tables and replicas, and Pulumi's protect);
          //   2. remove the region from `regions`, `pulumi up` (drops the replica and that region's resources);
          //   3. `pulumi config set protect true`, `pulumi up`.
          // Keep 1 and 2 separate updates: the protection must be off in AWS before the replica removal runs.
          // docs/operations.md ("Add or remove a region") documents the same procedure.
          deletionProtectionEnabled: args.protect,
          ...(strong ? { consistencyMode: 'STRONG' } : {}),
        })),
        ...(strong && args.witnessRegion ? { globalTableWitness: { regionName: args.witnessRegion } } : {}),
      };
      if (strong) assertMrscTable(tableName, tableArgs as Record<string, unknown>);
      const table = new aws.dynamodb.Table(`${name}-${suffix}`, tableArgs, { parent: this, provider: args.homeProvider, protect: args.protect });
      const byRegion: Record<string, RegionTable> = { [args.homeRegion]: { tableArn: table.arn } };
      const replicas: Record<string, pulumi.Output<aws.types.output.dynamodb.TableReplica>> = {};
      for (const region of replicaRegions) {
        replicas[region] = table.replicas.apply((rs) => {
          const r = (rs ?? []).find((x) => x.regionName === region);
          if (!r) throw new Error(`table ${tableName} has no replica in ${region}`);
          return r;
        });
        byRegion[region] = { tableArn: replicas[region].apply((r) => r.arn) };
      }
      return { refs: { table, name: table.name, byRegion }, replicas };
    };

    const items = makeTable('items', args.itemsTableName);
    this.items = items.refs;
    this.appConfig = makeTable('app-config', args.appConfigTableName).refs;
    const itemStreams: Record<string, pulumi.Output<string>> = {
      [args.homeRegion]: this.items.table.streamArn.apply((a) => requireStreamArn(a, args.itemsTableName, args.homeRegion, 'streamArn')),
    };
    for (const region of replicaRegions) {
      if (strong) {
        const provider = args.providers.get(region);
        if (!provider) throw new Error(`no aws.Provider for region ${region}`);
        itemStreams[region] = new ReplicaStream(
          `${name}-items-stream-${region}`,
          { region, tableName: this.items.name, replicaArn: this.items.byRegion[region].tableArn, streamViewType: STREAM_VIEW_TYPE, provider, code: args.code },
          { parent: this },
        ).streamArn;
      } else {
        itemStreams[region] = items.replicas[region].apply((r) => requireStreamArn(r.streamArn, args.itemsTableName, region, `replicas[${region}].streamArn`));
      }
    }
    this.itemStreams = itemStreams;
    this.registerOutputs({ itemsTableName: this.items.name, appConfigTableName: this.appConfig.name });
  }
}
