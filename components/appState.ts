/**
 * AppState: the initial `active` app-state item and the state updater Lambdas.
 *
 * - The item ({id: APP_STATE_ID, state, updatedAt, reason, version}) is written ONCE, when the stack is
 *   created, with `ignoreChanges: ['item']`: the state is then owned by the state updater / `npm run state`,
 *   and no later `pulumi up` ever resets it.
 *   It is written through the HOME region's provider, not the primary's. The table is global, so the item
 *   replicates to every region either way, but a resource whose provider changes is replaced: tying it to
 *   `primaryRegion` would make a primary switch (typically done during an incident) delete and re-create the
 *   item, i.e. reset the state to `active` and then delete it. The home region never moves (it owns the tables)
 *   and is where the table exists first; the item depends on the table resource, which is only complete once
 *   every replica exists.
 * - The state updater λ is deployed in EVERY region (through each region's provider), not only the primary:
 *   fencing or failing over is exactly what one does when a region — often the primary — is down, so it must be
 *   invokable in any surviving region. Each writes its local replica of the app-config table (version-checked
 *   writes; the global table replicates them), but only the changes designated to its region
 *   (handlers/lib/stateRules.ts: failover in the failover region, the rest in the primary; STATE_REGIONS), and
 *   reads the state back from every region's replica after a change (GetItem on each).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { HASH_KEY } from '../schema/tables';
import type { WriteMode } from '../schema/rules';
import type { RegionTable } from './globalTable';
import { type CodeSource, regionalLambda } from './lambda';
import { initialStateItem } from './initialState';
import { lambdaEnvironments } from './lambdaEnv';

export { INITIAL_STATE_REASON } from './initialState';

export interface AppStateArgs {
  appConfigTable: aws.dynamodb.Table;
  /** region → that region's replica of the app-config table */
  appConfigByRegion: Readonly<Record<string, RegionTable>>;
  homeRegion: string;
  primaryRegion: string;
  writeMode: WriteMode;
  /** region → its provider (every region of the stack, config order) */
  providers: ReadonlyMap<string, aws.Provider>;
  code: CodeSource;
  now: Date;
  /** physical name of the updater function in every region (config/names.ts) */
  updaterFunctionName: string;
  /** `consistency` (issue 11): the updater's CONSISTENCY */
  consistency?: 'eventual' | 'strong';
  /** `stateCacheMs`: part of the write bound the updater waits out (STATE_WRITE_BOUND_MS) */
  stateCacheMs?: number;
}

export class AppState extends pulumi.ComponentResource {
  /** region → state updater function name */
  readonly updaterNames: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: AppStateArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:AppState', name, {}, opts);
    const homeProvider = args.providers.get(args.homeRegion);
    if (!homeProvider) throw new Error(`no provider for homeRegion ${args.homeRegion}`);

    new aws.dynamodb.TableItem(
      `${name}-initial`,
      {
        tableName: args.appConfigTable.name,
        hashKey: HASH_KEY,
        item: JSON.stringify(initialStateItem(args.now)),
      },
      { parent: this, provider: homeProvider, dependsOn: [args.appConfigTable], ignoreChanges: ['item'] },
    );

    const updaterNames: Record<string, pulumi.Output<string>> = {};
    for (const [region, provider] of args.providers) {
      const local = args.appConfigByRegion[region];
      if (!local) throw new Error(`no app-config replica for ${region}`);
      // sorted, so reordering `regions` leaves the policy alone
      const others = [...args.providers.keys()].filter((r) => r !== region).sort().map((r) => args.appConfigByRegion[r].tableArn);
      const fn = regionalLambda(
        `${name}-${region}-updater`,
        {
          handler: 'stateUpdater',
          functionName: args.updaterFunctionName,
          code: args.code,
          description: `sets the app state (active|fenced|failover), ${region}`,
          environment: lambdaEnvironments<pulumi.Input<string>>({
            itemsTable: '',
            appConfigTable: args.appConfigTable.name,
            primaryRegion: args.primaryRegion,
            writeMode: args.writeMode,
            graphqlUrl: '',
            consistency: args.consistency,
            stateRegions: [...args.providers.keys()],
            ...(args.stateCacheMs !== undefined ? { stateCacheMs: args.stateCacheMs } : {}),
          }).stateUpdater,
          statements: [
            // handlers/stateUpdater.ts reads (GetItem) and writes (a conditional PutItem) the state item, nothing else
            { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [local.tableArn] },
            // the read-back after a change (handlers/stateUpdater.ts): the state item of every other region's replica
            ...(others.length ? [{ actions: ['dynamodb:GetItem'], resources: others }] : []),
          ],
        },
        { parent: this, provider },
      );
      updaterNames[region] = fn.fn.name;
    }
    this.updaterNames = updaterNames;
    this.registerOutputs({ updaterNames });
  }
}
