/**
 * The ONLY reader of raw stack config (docs/architecture.md, "Stack config"). Everything else receives the typed,
 * validated, frozen StackConfig this module returns. Every problem is collected and reported at once, each naming
 * the key, the bad value and what is allowed, with a "did you mean" when a near miss is close to one valid value
 * (regions, keys, auth modes, the `global-appsync:` namespace); long lists (the AWS regions) are printed once, at
 * the end. The program throws before registering any resource when there is a problem.
 */
import type * as PulumiSdk from '@pulumi/pulumi';
import { WRITE_MODES, type WriteMode } from '../schema/rules';
import { appConfigTableName } from '../schema/tables';
import { parseAlarms, type AlarmThresholds } from './alarms';
import { type AuthConfig, parseAuth } from './auth';
import { type AwsProviderSettings, parseAwsSettings } from './aws';
import { type Consistency, mrscProblems, parseConsistency } from './consistency';
import { type DomainConfig, parseDomain } from './domain';
import { type DrillsConfig, parseDrills } from './drills';
import { PROJECT, stateUpdaterFunctionName } from './names';
import { type NotifierTuning, parseNotifierKeys, type ReservedConcurrency } from './notifier';
import { ConfigError, type ConfigProblem, explainQuotedNumbers, hint, parseBoolean, type RawConfig, show } from './problems';
import { parseThrottle, parseWaf, type ThrottleConfig, type WafConfig } from './protection';
import { parseDrainRegions, parseRegions, regionIn, REGIONS_NOTE } from './regions';
import { namespaceProblems, projectKeys } from './stackFile';
import { parseStateCacheMs } from './writes';

// The typed slices and helpers the rest of the program imports from config/.
export { type AlarmThresholds } from './alarms';
export { AUTH_MODES, type AuthConfig, type ClientAuthMode, type TokenAuthConfig } from './auth';
export { AWS_NOT_FORWARDED, AWS_SETTINGS, type AwsProviderSettings } from './aws';
export { type DomainConfig } from './domain';
export { PROJECT } from './names';
export { ConfigError, type ConfigProblem, didYouMean, type RawConfig } from './problems';
export { AWS_REGIONS, HOME_REGION_HINT, OPT_IN_REGIONS, REGIONS_NOTE, SUPPORTED_REGIONS } from './regions';
export { stackFileWarnings, stackWarnings } from './warnings';
export { namespaceProblems, parseStackYaml, projectKeys, readStackFile } from './stackFile';

export interface StackConfig {
  project: string;
  stack: string;
  regions: readonly string[];
  homeRegion: string;
  primaryRegion: string;
  writeMode: WriteMode;
  domain?: Readonly<DomainConfig>;
  auth: Readonly<AuthConfig>;
  tableName: string;
  appConfigTableName: string;
  protect: boolean;
  alarmEmail?: string;
  /**
   * Regions kept deployed but taken out of routing (`drainRegions`): health forced unhealthy (DRAIN=true) and no
   * latency record. Always a subset of `regions`, never all of them.
   */
  drainRegions: readonly string[];
  /** Region-independent `aws:*` stack settings, forwarded into every region's explicit provider. */
  providerSettings: Readonly<AwsProviderSettings>;
  /** Alarm thresholds (`alarms`), every field filled in (config/alarms.ts has the defaults). */
  alarms: Readonly<AlarmThresholds>;
  /** `waf`: a regional web ACL per region (components/waf.ts); absent = off (the default unless `protect`). */
  waf?: Readonly<WafConfig>;
  /** `throttle`: stage throttling, and the apiKey usage plan's throttle and quota (config/protection.ts). */
  throttle: Readonly<ThrottleConfig>;
  // --- consistency and drills (validation in config/consistency.ts, config/drills.ts) ---
  /** `consistency`: eventual (multi-Region eventual consistency, default) or strong (MRSC). */
  consistency: Consistency;
  /** `witnessRegion`: the MRSC witness, only with consistency strong and two regions. */
  witnessRegion?: string;
  /** `drills`: AWS FIS experiment templates per region; undefined = off. */
  drills?: Readonly<DrillsConfig>;
  /** Lambda reserved concurrency of the items and notifier functions, per region (config/notifier.ts). */
  reservedConcurrency: Readonly<ReservedConcurrency>;
  /** The notifier's batch parallelism and publish concurrency, defaults filled in (config/notifier.ts). */
  notifier: Readonly<NotifierTuning>;
  /** `stateCacheMs`: how long an items container reuses its app state read (config/writes.ts). */
  stateCacheMs: number;
}

/** The config keys this program reads (without the `global-appsync:` prefix). */
export const CONFIG_KEYS = ['regions', 'homeRegion', 'primaryRegion', 'writeMode', 'domain', 'auth', 'tableName', 'protect', 'alarmEmail', 'drainRegions', 'alarms', 'waf', 'throttle', 'consistency', 'witnessRegion', 'drills', 'reservedConcurrency', 'notifier', 'stateCacheMs'] as const;

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Validates raw config. Pure: no Pulumi runtime needed (the plan script and the tests call it directly).
 * Throws ConfigError listing every problem; returns a deeply frozen StackConfig otherwise.
 */
export function parseConfig(raw: RawConfig, ctx: { project?: string; stack: string; aws?: RawConfig; all?: Readonly<Record<string, string>> }): StackConfig {
  const problems: ConfigProblem[] = [];
  const project = ctx.project ?? PROJECT;
  const misspaced = namespaceProblems({ ...(ctx.all ?? {}), ...Object.fromEntries(Object.entries(raw).filter(([k]) => k.includes(':'))) } as Record<string, string>, project);
  for (const key of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key) && !misspaced.some((p) => p.key === key)) {
      problems.push({ key, value: show(raw[key]), allowed: `${hint(key, CONFIG_KEYS)}unknown key of ${project}; the keys are: ${CONFIG_KEYS.join(', ')}` });
    }
  }
  problems.push(...misspaced);
  const regions = parseRegions(raw.regions, problems);
  const homeRegion = regionIn('homeRegion', raw.homeRegion, regions, problems);
  const primaryRegion = regionIn('primaryRegion', raw.primaryRegion, regions, problems);
  const writeMode = (raw.writeMode ?? 'multi-master') as WriteMode;
  if (!WRITE_MODES.includes(writeMode)) {
    problems.push({ key: 'writeMode', value: show(raw.writeMode), allowed: `${hint(raw.writeMode, WRITE_MODES)}one of ${WRITE_MODES.join(', ')}` });
  }
  const domain = parseDomain(raw.domain, problems);
  const auth = parseAuth(raw.auth, problems);
  const tableName = raw.tableName ?? `${project}-${ctx.stack}-items`;
  const appConfig = appConfigTableName(tableName);
  if (!TABLE_NAME.test(tableName) || !TABLE_NAME.test(appConfig)) {
    problems.push({ key: 'tableName', value: show(tableName), allowed: 'a DynamoDB table name: 3 to 255 of A-Z a-z 0-9 _ . - (the app-config table adds "-app-config")' });
  }
  const protect = parseBoolean('protect', raw.protect, ctx.stack === 'prod' || ctx.stack.startsWith('prod-'), problems);
  const updater = stateUpdaterFunctionName(project, ctx.stack);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(updater)) {
    problems.push({
      key: '(stack name)',
      value: show(ctx.stack),
      allowed: `must make a valid Lambda function name: "${updater}" needs 1-64 of A-Z a-z 0-9 _ -, so a stack name of at most ${64 - updater.length + ctx.stack.length} such characters`,
    });
  }
  const alarmEmail = raw.alarmEmail;
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) {
    problems.push({ key: 'alarmEmail', value: show(alarmEmail), allowed: 'an e-mail address such as ops@example.com' });
  }
  const drainRegions = parseDrainRegions(raw.drainRegions, regions, problems);
  const providerSettings = parseAwsSettings(ctx.aws ?? {}, problems);
  const alarms = parseAlarms(raw.alarms, problems);
  const waf = parseWaf(raw.waf, protect, problems);
  const throttle = parseThrottle(raw.throttle, problems);
  const consistency = parseConsistency(raw.consistency, problems);
  if (consistency) problems.push(...mrscProblems(consistency, regions, raw.witnessRegion === '' ? undefined : raw.witnessRegion));
  const drills = parseDrills(raw.drills, problems);
  const { notifier, reservedConcurrency } = parseNotifierKeys(raw, problems);
  const stateCacheMs = parseStateCacheMs(raw.stateCacheMs, problems);
  if (problems.length > 0) throw new ConfigError(explainQuotedNumbers(problems), problems.some((p) => p.allowed.includes('(the list is below)')) ? [REGIONS_NOTE] : []);

  return deepFreeze({
    project,
    stack: ctx.stack,
    regions,
    homeRegion,
    primaryRegion,
    writeMode,
    ...(domain ? { domain } : {}),
    auth,
    tableName,
    appConfigTableName: appConfig,
    protect,
    ...(alarmEmail ? { alarmEmail } : {}),
    drainRegions,
    providerSettings,
    alarms,
    ...(waf ? { waf } : {}),
    throttle,
    consistency: consistency ?? 'eventual',
    ...(raw.witnessRegion ? { witnessRegion: raw.witnessRegion } : {}),
    ...(drills ? { drills } : {}),
    reservedConcurrency,
    notifier,
    stateCacheMs,
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Reads this project's keys from the running Pulumi program's config and validates them. */
export function loadConfig(): StackConfig {
  // required here rather than imported: the emulator and the scripts parse stack files without the Pulumi runtime,
  // and loading it costs them ~1.5 s
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require('@pulumi/pulumi') as typeof PulumiSdk;
  const project = pulumi.getProject();
  const all = pulumi.runtime.allConfig();
  return parseConfig(projectKeys(all, project), { project, stack: pulumi.getStack(), aws: projectKeys(all, 'aws'), all });
}
