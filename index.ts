/**
 * global-appsync: config → providers → components → outputs (docs/architecture.md, "Layout"). Nothing else happens here.
 *
 * The module exports the program as a function; the Pulumi nodejs runtime calls it (no arguments) and uses the
 * returned object as the stack outputs. Tests and `npm run plan` call it under mocks, any number of times, with
 * ProgramOptions to substitute the code archives or the clock.
 */
import * as pulumi from '@pulumi/pulumi';
import { loadConfig, type StackConfig } from './config';
import { RegionAlarms } from './components/alarms';
import { AppState } from './components/appState';
import { StackDashboard } from './components/dashboard';
import { stateUpdaterFunctionName } from './config/names';
import { GlobalRouting } from './components/globalRouting';
import { GlobalTable } from './components/globalTable';
import { RegionReady } from './components/regionReady';
import { bundledCode, type CodeSource } from './components/lambda';
import { Notifier } from './components/notifier';
import { providerFor, regionProviders, ROUTE53_METRICS_REGION } from './components/providers';
import { RegionalApi } from './components/regionalApi';
import { SharedApiKey } from './components/apiKeys';
import { FisConfigBucket } from './components/fisConfigBucket';
import { FisDrills } from './components/fisDrills';

interface ProgramOptions {
  /** Lambda code archives (default: esbuild bundles of handlers/, once per process). */
  code?: CodeSource;
  /** Deploy time (API key expiry, initial state's updatedAt; default: now). */
  now?: Date;
  /** An already validated config (tests of settings the stack files cannot express yet); default: loadConfig(). */
  config?: StackConfig;
}

interface RegionOutputs {
  graphqlUrl: pulumi.Output<string>;
  realtimeUrl: pulumi.Output<string>;
  restUrl: pulumi.Output<string>;
  healthCheckId: pulumi.Output<string>;
  /** `https://<region>.<domain.name>` with a domain */
  url?: pulumi.Output<string>;
  /** the notifier's DLQ (SQS queue URL): what `npm run replay-dlq` reads */
  notifierDlqUrl: pulumi.Output<string>;
}

function program(options: ProgramOptions = {}) {
  const cfg = options.config ?? loadConfig(); // throws ConfigError (every problem at once) before any resource exists
  const code = options.code ?? bundledCode;
  const now = options.now ?? new Date();
  const providers = regionProviders(cfg.regions, [ROUTE53_METRICS_REGION], cfg.providerSettings);
  const stackProviders = new Map(cfg.regions.map((r) => [r, providerFor(providers, r)] as const));
  const homeProvider = providerFor(providers, cfg.homeRegion);

  const tables = new GlobalTable('tables', {
    regions: cfg.regions,
    homeRegion: cfg.homeRegion,
    homeProvider,
    providers: stackProviders,
    code,
    itemsTableName: cfg.tableName,
    appConfigTableName: cfg.appConfigTableName,
    protect: cfg.protect,
    consistency: cfg.consistency,
    witnessRegion: cfg.witnessRegion,
  });

  // apiKey mode's one API Gateway key value, accepted by every region
  const sharedKey = cfg.auth.mode === 'apiKey' ? new SharedApiKey('api-key', { ...(cfg.auth.key !== undefined ? { key: cfg.auth.key } : {}) }) : undefined;

  const apis = cfg.regions.map((region) => {
    const aws = providerFor(providers, region);
    const api = new RegionalApi(
      `api-${region}`,
      {
        region,
        primaryRegion: cfg.primaryRegion,
        writeMode: cfg.writeMode,
        auth: cfg.auth,
        project: cfg.project,
        stack: cfg.stack,
        items: { name: tables.items.name, local: tables.items.byRegion[region], primary: tables.items.byRegion[cfg.primaryRegion] },
        appConfig: { name: tables.appConfig.name, local: tables.appConfig.byRegion[region] },
        code,
        now,
        drain: cfg.drainRegions.includes(region),
        ...(sharedKey ? { apiKeyValue: sharedKey.value } : {}),
        throttle: cfg.throttle,
        ...(cfg.waf ? { waf: cfg.waf } : {}),
        consistency: cfg.consistency,
        itemsReservedConcurrency: cfg.reservedConcurrency.items,
        stateCacheMs: cfg.stateCacheMs,
        stackProviders,
      },
      { providers: { aws } },
    );
    // drills: the FIS config bucket and extension layer the notifier needs for the notifier-errors drill
    const fisConfig = cfg.drills ? new FisConfigBucket(`fis-config-${region}`, { region }, { providers: { aws } }) : undefined;
    const notifier = new Notifier(
      `notifier-${region}`,
      {
        region,
        streamArn: tables.itemStreams[region],
        apiArn: api.apiArn,
        graphqlUrl: api.graphqlUrl,
        code,
        alarmEmail: cfg.alarmEmail,
        consistency: cfg.consistency,
        tuning: cfg.notifier,
        reservedConcurrency: cfg.reservedConcurrency.notifier,
        ...(fisConfig ? { fis: { layerArn: fisConfig.layerArn, bucketArn: fisConfig.bucketArn, configLocation: fisConfig.configLocation, prefix: fisConfig.prefix } } : {}),
      },
      { providers: { aws } },
    );
    return { region, api, notifier, provider: aws, fisConfig };
  });

  // alarms: replication lag per region pair, API errors and latency, function errors and throttles
  const alarms = new RegionAlarms('alarms', {
    regions: apis.map(({ region, api, notifier, provider }) => ({
      region,
      provider,
      topicArn: notifier.alarmTopicArn,
      graphqlApiId: api.apiId,
      restApiName: api.restApiName,
      stageName: api.stageName,
      functions: { items: api.itemsFunctionName, health: api.healthFunctionName, notifier: notifier.functionName },
    })),
    tableName: tables.items.name,
    thresholds: cfg.alarms,
  });

  new AppState('app-state', {
    appConfigTable: tables.appConfig.table,
    appConfigByRegion: tables.appConfig.byRegion,
    homeRegion: cfg.homeRegion,
    primaryRegion: cfg.primaryRegion,
    writeMode: cfg.writeMode,
    providers: stackProviders,
    code,
    now,
    updaterFunctionName: stateUpdaterFunctionName(cfg.project, cfg.stack),
    consistency: cfg.consistency,
    stateCacheMs: cfg.stateCacheMs,
  });

  // drills: per region, FIS templates that stop on the alarms saying users are hurt (docs/drills.md)
  const drills: Record<string, Record<string, pulumi.Output<string>>> = {};
  // region → drill → why it was not created (a one-region stack has no replication to pause)
  const drillsSkipped: Record<string, Readonly<Record<string, string>>> = {};
  for (const { region, notifier, provider, fisConfig } of apis) {
    if (!cfg.drills || !fisConfig) continue;
    const userFacing = ['appsync-5xx', 'rest-5xx'].map((key) => {
      const arn = alarms.alarmArns[`alarms-${region}-${key}`];
      if (!arn) throw new Error(`drills: no alarm alarms-${region}-${key} to stop the drills on`);
      return arn;
    });
    const fis = new FisDrills(
      `drills-${region}`,
      {
        region,
        tableArns: [tables.items.byRegion[region].tableArn, tables.appConfig.byRegion[region].tableArn],
        notifierFunctionArn: notifier.functionArn,
        configBucketArn: fisConfig.bucketArn,
        configPrefix: fisConfig.prefix,
        pauseMinutes: cfg.drills.pauseMinutes,
        stopAlarms: userFacing,
        consistency: cfg.consistency,
        replicaRegions: cfg.regions.length,
      },
      { providers: { aws: provider } },
    );
    drills[region] = { ...fis.templateIds };
    if (Object.keys(fis.skipped).length > 0) drillsSkipped[region] = fis.skipped;
  }

  // a region enters latency routing only once its replicas are ACTIVE and its /health passes (components/regionReady.ts)
  const replicas = [tables.items.table, tables.appConfig.table];
  const ready = (region: string, api: RegionalApi, provider: ReturnType<typeof providerFor>): RegionReady =>
    new RegionReady(`ready-${region}`, {
      region,
      tableNames: [tables.items.name, tables.appConfig.name],
      replicaArns: [tables.items.byRegion[region].tableArn, tables.appConfig.byRegion[region].tableArn],
      healthUrl: pulumi.interpolate`https://${api.executeApiHost}/${api.stageName}/health`,
      drained: cfg.drainRegions.includes(region),
      tables: replicas,
      provider,
      code,
    });
  const routing = new GlobalRouting('routing', {
    regions: apis.map(({ region, api, provider }) => ({ region, provider, restApiId: api.restApiId, stageName: api.stageName, executeApiHost: api.executeApiHost, replicas, ready: ready(region, api, provider) })),
    homeRegion: cfg.homeRegion,
    drainRegions: cfg.drainRegions,
    metricsProvider: providerFor(providers, ROUTE53_METRICS_REGION),
    domain: cfg.domain,
    alarmEmail: cfg.alarmEmail,
  });

  // one dashboard in the home region, a row of metrics per region
  const watched = apis.map(({ region, api, notifier }) => ({
    region,
    graphqlApiId: api.apiId,
    restApiName: api.restApiName,
    stageName: api.stageName,
    functions: { items: api.itemsFunctionName, health: api.healthFunctionName, notifier: notifier.functionName },
    healthCheckId: routing.healthCheckIds[region],
    dlqName: notifier.dlqName,
  }));
  new StackDashboard('dashboard', { dashboardName: `${cfg.project}-${cfg.stack}`, regions: watched, tableName: tables.items.name }, { providers: { aws: homeProvider } });

  const regions: Record<string, RegionOutputs> = {};
  const apiKeys: Record<string, pulumi.Output<string>> = {};
  const apiKeyExpires: Record<string, pulumi.Output<string>> = {};
  for (const { region, api, notifier } of apis) {
    regions[region] = {
      notifierDlqUrl: notifier.dlqUrl,
      graphqlUrl: api.graphqlUrl,
      realtimeUrl: api.realtimeUrl,
      restUrl: api.restUrl,
      healthCheckId: routing.healthCheckIds[region],
      ...(routing.regionalUrls[region] ? { url: routing.regionalUrls[region] } : {}),
    };
    if (api.apiKey) apiKeys[region] = api.apiKey;
    if (api.apiKeyExpires) apiKeyExpires[region] = api.apiKeyExpires;
  }
  return {
    regions,
    ...(routing.globalUrl ? { globalUrl: routing.globalUrl } : {}),
    // the keys are secret; their expiry dates are not (the keys never roll by themselves: watch these)
    ...(cfg.auth.mode === 'apiKey' ? { apiKeys: pulumi.secret(apiKeys), apiKeyExpires } : {}),
    // apiKey mode: the one key for every region through API Gateway; apiKeys above only for direct AppSync URLs
    ...(sharedKey
      ? {
          apiKey: sharedKey.value,
          apiKeyUse:
            'apiKey (x-api-key): REST /items and /state and POST /graphql through API Gateway (globalUrl, regions.*.url, regions.*.restUrl), the same in every region; apiKeys.<region>: only for that region\'s direct AppSync graphqlUrl and realtimeUrl',
        }
      : {}),
    tables: { items: tables.items.name, appConfig: tables.appConfig.name },
    primaryRegion: cfg.primaryRegion,
    writeMode: cfg.writeMode,
    // regions deployed but out of latency routing (health 503): the removal procedure's first step
    drainedRegions: [...cfg.drainRegions],
    consistency: cfg.consistency,
    // region → drill name → FIS experiment template id: `aws fis start-experiment --experiment-template-id <id>`
    ...(cfg.drills ? { drillTemplates: drills } : {}),
    ...(Object.keys(drillsSkipped).length > 0 ? { drillsSkipped } : {}),
  };
}

export = program;
