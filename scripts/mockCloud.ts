/**
 * The offline cloud: Pulumi mocks for `npm run plan` and the unit tests: records every resource registration ({type, name,
 * inputs, provider → region}) and answers the invokes the program makes, with outputs shaped like AWS's
 * (ARNs, stream ARNs where the real provider fills them, AppSync URIs, ACM validation options...) so components wire
 * real values. It keeps the DynamoDB tables a run creates per region (and their streams), so `getTable` and the
 * stream enabler's Invocation answer what DynamoDB in that region would.
 *
 * `runProgram(config, stack)` sets the mocks and config, runs index.ts's exported program, waits for every
 * registration and returns what was registered plus the resolved stack outputs. It can run any number of
 * times in one process; each run gets a fresh mock monitor.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- recorded inputs and outputs are whatever JSON the program registered */
import * as pulumi from '@pulumi/pulumi';
import { createHash } from 'node:crypto';
import { bundledCode, type CodeSource } from '../components/lambda';
import { PROJECT, type StackConfig } from '../config';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require('@pulumi/pulumi/runtime/settings') as { waitForRPCs: () => Promise<void> };

export const ACCOUNT = '123456789012';
export const ZONE_ID = 'ZMOCKZONE0000';

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** raw `args.provider` ("<provider URN>::<id>"), undefined for components and default providers */
  provider?: string;
  /** the region of `provider` (from the recorded aws.Provider), undefined when there is none */
  region?: string;
  custom: boolean;
  state: Record<string, any>;
  /** resource options as the monitor received them */
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  /** URNs this resource depends on (dependsOn + input dependencies) */
  dependencies: string[];
  /** the parent's URN ('' at the top) */
  parent: string;
  /** top-level inputs the program passed as secrets (pulumi.secret): never printed */
  secretInputs: string[];
}

export interface Invoke {
  token: string;
  inputs: Record<string, any>;
  provider?: string;
}

export interface ProgramRun {
  resources: Recorded[];
  invokes: Invoke[];
  outputs: Record<string, any>;
  /** output key → whether it is a secret */
  secret: Record<string, boolean>;
}

// The mock monitor hands mocks no resource options: record them from the request on the way in.
interface RequestOptions {
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  dependencies: string[];
  parent: string;
}
// Pulumi's wire marker of a secret value (sdk/nodejs/runtime/rpc.ts: specialSigKey, specialSecretSig)
const SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
function holdsSecret(v: unknown): boolean {
  if (!v || typeof v !== 'object') return false;
  if ((v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG) return true;
  return Object.values(v).some(holdsSecret);
}
const requestOptions = new Map<string, RequestOptions>();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MockMonitor } = require('@pulumi/pulumi/runtime/mocks') as { MockMonitor: { prototype: { registerResource: (req: any, cb: any) => Promise<void> } } };
const registerResource = MockMonitor.prototype.registerResource;
/** Lambda function name → the folder of its code archive (the mock monitor hands newResource the archive without its path). */
const codeFolders = new Map<string, string>();
MockMonitor.prototype.registerResource = function (req: any, cb: any) {
  if (req.getType() === 'aws:lambda/function:Function') {
    const codePath = (req.getObject()?.toJavaScript() as { code?: { path?: unknown } } | undefined)?.code?.path;
    if (typeof codePath === 'string') codeFolders.set(req.getName(), codePath.split(/[\\/]/).pop() ?? '');
  }
  requestOptions.set(`${req.getType()}::${req.getName()}`, {
    protect: req.getProtect() === true,
    retainOnDelete: req.getRetainondelete() === true,
    ignoreChanges: req.getIgnorechangesList(),
    dependencies: req.getDependenciesList(),
    parent: req.getParent(),
  });
  return registerResource.call(this, req, cb);
};

/** Rewrites the state a mock returns (tests use it to make the cloud answer what AWS sometimes does). */
export type StateHook = (type: string, name: string, state: Record<string, any>) => Record<string, any>;
let stateHook: StateHook | undefined;
/** Rewrites what a data source (invoke) answers, as StateHook does for resources. */
export type InvokeHook = (token: string, inputs: Record<string, any>, result: Record<string, any>) => Record<string, any>;
let invokeHook: InvokeHook | undefined;

let resources: Recorded[] = [];
let invokes: Invoke[] = [];
const providerRegions = new Map<string, string>();

const hash = (s: string, n = 10): string => createHash('sha256').update(s).digest('hex').slice(0, n);

// ---- the DynamoDB tables the run created: table name → region → its stream (viewType when enabled) ----------
const STREAM_LABEL = '2026-01-01T00:00:00.000';
const tableArnOf = (name: string, region: string): string => `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${name}`;
const streamArnOf = (name: string, region: string): string => `${tableArnOf(name, region)}/stream/${STREAM_LABEL}`;
const dynamoTables = new Map<string, Map<string, { viewType?: string }>>();
/** "<region>|<function name>" → what it runs */
const lambdaFunctions = new Map<string, { bundle?: string }>();

/**
 * An aws.lambda.Invocation: Lambda runs the function in its region with the input and the resource's `result` is what
 * it returns. Only the functions the program invokes are simulated — the region readiness gate (regionReady, below) and
 * the stream enabler (handlers/streamEnabler.ts):
 * UpdateTable in its own region turns that region's replica's stream on; it fails, as the function would, when the
 * table has no replica there or already streams another view type.
 */
function invoke(region: string, functionName: string, input: string): string {
  const fn = lambdaFunctions.get(`${region}|${functionName}`);
  if (!fn) throw new Error(`Invocation: no function ${functionName} in ${region}`);
  if (fn.bundle === 'regionReady') return regionReady(region, input);
  if (fn.bundle !== 'streamEnabler') throw new Error(`Invocation of ${functionName} (${fn.bundle ?? 'unknown code'}) is not simulated by the mocks`);
  const { tableName, streamViewType } = JSON.parse(input) as { tableName: string; streamViewType: string };
  const table = dynamoTables.get(tableName)?.get(region);
  if (!table) throw new Error(`stream enabler: ResourceNotFoundException, no table ${tableName} in ${region}`);
  if (table.viewType && table.viewType !== streamViewType) throw new Error(`stream enabler: table ${tableName} in ${region} already has a stream of view type ${table.viewType}`);
  const enabled = !table.viewType;
  table.viewType = streamViewType;
  return JSON.stringify({ streamArn: streamArnOf(tableName, region), streamLabel: STREAM_LABEL, enabled });
}
/**
 * The readiness gate (handlers/regionReady.ts): DescribeTable of each table in its own region — it fails, as the gate
 * would time out, when the run created no replica there; /health cannot be asked offline and counts as passing.
 */
function regionReady(region: string, input: string): string {
  const { tables, healthUrl, passes, drained } = JSON.parse(input) as { tables: string[]; healthUrl: string; passes: number; drained: boolean };
  for (const t of tables) if (!dynamoTables.get(t)?.get(region)) throw new Error(`region ready gate: no table ${t} in ${region} (ResourceNotFoundException until the gate gives up)`);
  if (!/^https:\/\/[^/]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com\/[^/]+\/health$/.test(healthUrl)) throw new Error(`region ready gate: healthUrl ${healthUrl} is not an execute-api /health URL`);
  return JSON.stringify({ region, tables: Object.fromEntries(tables.map((t) => [t, 'ACTIVE'])), healthPasses: drained ? 0 : passes, waitedMs: 0 });
}
function tablesOf(name: string): Map<string, { viewType?: string }> {
  let t = dynamoTables.get(name);
  if (!t) {
    t = new Map();
    dynamoTables.set(name, t);
  }
  return t;
}

/** "<urn>::<id>" → the provider's logical name (the URN's last part). */
export function providerNameOf(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const parts = ref.split('::');
  return parts.length >= 2 ? parts[parts.length - 2] : undefined;
}

function computed(type: string, name: string, inputs: Record<string, any>, region: string): Record<string, any> {
  const id = `${name}-id`;
  const arn = (svc: string, rest: string): string => `arn:aws:${svc}:${region}:${ACCOUNT}:${rest}`;
  switch (type) {
    case 'aws:dynamodb/table:Table': {
      // Stream ARNs only where the Terraform provider under @pulumi/aws fills them: the table's own when
      // streamEnabled; per replica, what DescribeTable in the replica's region gives as LatestStreamArn
      // (terraform-provider-aws internal/service/dynamodb/table.go, enrichReplicas: "" when there is none). DynamoDB
      // gives an eventually consistent (MREC) replica the table's stream; the provider enables streams on the home
      // table only when the table is MRSC (https://github.com/hashicorp/terraform-provider-aws/issues/48213), so a
      // STRONG replica has no stream until something enables it in its region (components/replicaStream.ts).
      const tables = tablesOf(inputs.name);
      tables.set(region, inputs.streamEnabled === true ? { viewType: inputs.streamViewType } : {});
      for (const r of inputs.replicas ?? []) tables.set(r.regionName, r.consistencyMode === 'STRONG' || inputs.streamEnabled !== true ? {} : { viewType: inputs.streamViewType });
      const streamOf = (r: string): { streamArn: string; streamLabel: string } => (tables.get(r)?.viewType ? { streamArn: streamArnOf(inputs.name, r), streamLabel: STREAM_LABEL } : { streamArn: '', streamLabel: '' });
      return {
        arn: tableArnOf(inputs.name, region),
        ...streamOf(region),
        replicas: (inputs.replicas ?? []).map((r: any) => ({ ...r, arn: tableArnOf(inputs.name, r.regionName), ...streamOf(r.regionName) })),
      };
    }
    case 'aws:appsync/graphQLApi:GraphQLApi':
      return {
        arn: arn('appsync', `apis/${id}`),
        uris: { GRAPHQL: `https://${hash(id)}.appsync-api.${region}.amazonaws.com/graphql`, REALTIME: `wss://${hash(id)}.appsync-realtime-api.${region}.amazonaws.com/graphql` },
      };
    case 'aws:appsync/apiKey:ApiKey':
      return { key: `da2-${hash(name, 26)}` };
    case 'aws:appsync/function:Function':
      return { functionId: `fn-${hash(name)}`, arn: arn('appsync', `apis/x/functions/${hash(name)}`) };
    case 'aws:apigateway/restApi:RestApi':
      return { rootResourceId: `root-${hash(name, 6)}`, executionArn: arn('execute-api', id) };
    case 'aws:apigateway/resource:Resource':
      return { path: `/${inputs.pathPart}` };
    case 'aws:apigateway/stage:Stage':
      return {
        invokeUrl: `https://${inputs.restApi}.execute-api.${region}.amazonaws.com/${inputs.stageName}`,
        executionArn: arn('execute-api', `${inputs.restApi}/${inputs.stageName}`),
        arn: `arn:aws:apigateway:${region}::/restapis/${inputs.restApi}/stages/${inputs.stageName}`,
      };
    case 'aws:wafv2/webAcl:WebAcl':
      return { arn: `arn:aws:wafv2:${region}:${ACCOUNT}:regional/webacl/${inputs.name}/${hash(name, 8)}` };
    case 'random:index/randomPassword:RandomPassword':
      // deterministic per logical name, the requested length, letters and digits (special: false)
      return { result: createHash('sha256').update(name).digest('base64').replace(/[^A-Za-z0-9]/g, '').repeat(4).slice(0, inputs.length) };
    case 'aws:apigateway/domainName:DomainName':
      return { regionalDomainName: `d-${hash(name)}.execute-api.${region}.amazonaws.com`, regionalZoneId: 'ZREGIONALAPIGW' };
    case 'aws:lambda/function:Function': {
      const fnArn = arn('lambda', `function:${name}`);
      // what the function would run: the bundle folder of its code archive (components/bundle.ts: dist/handlers/<name>)
      lambdaFunctions.set(`${region}|${name}`, { bundle: codeFolders.get(name) });
      return { arn: fnArn, name, invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${fnArn}/invocations` };
    }
    case 'aws:lambda/invocation:Invocation':
      return { result: invoke(region, String(inputs.functionName), String(inputs.input)) };
    case 'aws:sqs/queue:Queue':
      return { arn: arn('sqs', name), url: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${name}`, name };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { arn: arn('logs', `log-group:${inputs.name ?? name}`), name: inputs.name ?? name };
    case 'aws:iam/role:Role':
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, name };
    case 'aws:sns/topic:Topic':
      return { arn: arn('sns', name), name };
    case 'aws:acm/certificate:Certificate':
      return {
        arn: arn('acm', `certificate/${hash(name)}`),
        // ACM gives one account the same validation record for a name in every region: derived from the name only
        domainValidationOptions: [inputs.domainName, ...(inputs.subjectAlternativeNames ?? [])].map((d: string) => ({
          domainName: d,
          resourceRecordName: `_${hash(d)}.${d}.`,
          resourceRecordType: 'CNAME',
          resourceRecordValue: `_${hash(`v${d}`)}.acm-validations.aws.`,
        })),
      };
    case 'aws:acm/certificateValidation:CertificateValidation':
      return { certificateArn: inputs.certificateArn };
    case 'aws:route53/record:Record':
      return { fqdn: String(inputs.name).replace(/\.$/, '') };
    // alarm ARNs (the drills' stop conditions) and the FIS config buckets
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      return { arn: arn('cloudwatch', `alarm:${inputs.name ?? name}`) };
    case 'aws:s3/bucket:Bucket':
      return { arn: `arn:aws:s3:::${name}-${hash(name, 7)}`, bucket: `${name}-${hash(name, 7)}` };
    default:
      return {};
  }
}

const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    if (args.type === 'pulumi:providers:aws') providerRegions.set(args.name, args.inputs.region);
    const region = providerRegions.get(providerNameOf(args.provider) ?? '') ?? 'default-region';
    const id = `${args.name}-id`;
    const computedState = { ...args.inputs, ...computed(args.type, args.name, args.inputs, region) };
    const state = stateHook ? stateHook(args.type, args.name, computedState) : computedState;
    resources.push({
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      provider: args.provider || undefined,
      region: args.provider ? providerRegions.get(providerNameOf(args.provider) ?? '') : undefined,
      custom: args.custom !== false,
      state,
      ...(requestOptions.get(`${args.type}::${args.name}`) ?? { protect: false, retainOnDelete: false, ignoreChanges: [], dependencies: [], parent: '' }),
      // the inputs as deserialised keep a secret wrapped at the top-level input holding it (Pulumi's
      // deserializeProperties lifts nested secrets up), so they tell which inputs were secret without a second
      // conversion of the request
      secretInputs: Object.entries(args.inputs as Record<string, unknown>).filter(([, v]) => holdsSecret(v)).map(([k]) => k),
    });
    return { id, state };
  },
  call(args) {
    invokes.push({ token: args.token, inputs: args.inputs, provider: args.provider });
    const result = answer(args);
    return invokeHook ? invokeHook(args.token, args.inputs, result) : result;
  },
};

/** What a data source the program reads answers here (before any InvokeHook). */
function answer(args: pulumi.runtime.MockCallArgs): Record<string, any> {
  switch (args.token) {
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/mock`, userId: 'MOCK', id: ACCOUNT };
    case 'aws:dynamodb/getTable:getTable': {
      // DescribeTable in the invoke's region: that region's table (the home table or a replica) and its stream
      const region = providerRegions.get(providerNameOf(args.provider) ?? '') ?? 'default-region';
      const table = dynamoTables.get(args.inputs.name)?.get(region);
      if (!table) throw new Error(`getTable: ResourceNotFoundException, no table ${args.inputs.name} in ${region}`);
      const stream = table.viewType ? { streamEnabled: true, streamViewType: table.viewType, streamArn: streamArnOf(args.inputs.name, region), streamLabel: STREAM_LABEL } : { streamEnabled: false, streamViewType: '', streamArn: '', streamLabel: '' };
      return { id: args.inputs.name, name: args.inputs.name, arn: tableArnOf(args.inputs.name, region), region, ...stream };
    }
    case 'aws:route53/getZone:getZone':
      return { zoneId: ZONE_ID, id: ZONE_ID, name: args.inputs.name };
    case 'aws:ssm/getParameter:getParameter': {
      // the AWS FIS Lambda extension's public parameter (components/fisConfigBucket.ts): a layer ARN of the invoke's region
      const region = providerRegions.get(providerNameOf(args.provider) ?? '') ?? 'default-region';
      return { name: args.inputs.name, type: 'String', value: `arn:aws:lambda:${region}:211125607513:layer:aws-fis-extension-arm64:9`, id: args.inputs.name };
    }
    default:
      throw new Error(`unmocked invoke ${args.token}`);
  }
}


/** Fully qualifies short keys (`regions` → `global-appsync:regions`); qualified keys pass through. */
function qualify(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(':') ? k : `${PROJECT}:${k}`, v]));
}

type Program = (opts?: { code?: CodeSource; now?: Date; config?: StackConfig }) => Record<string, any>;

async function settle(outputs: Record<string, any>): Promise<{ values: Record<string, any>; secret: Record<string, boolean> }> {
  const values: Record<string, any> = {};
  const secret: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(outputs)) {
    const o = pulumi.output(v) as pulumi.Output<unknown> & { promise(): Promise<unknown>; isSecret: Promise<boolean> };
    // promise() (unlike apply) rejects when the program fails inside an output
    values[k] = await o.promise();
    secret[k] = await o.isSecret;
  }
  return { values, secret };
}

/** A program that fails inside an output can leave promises pending forever: fail the run instead of hanging. */
function withTimeout<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the program did not settle ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export const FIXED_NOW = new Date('2026-11-25T12:34:56Z');

/**
 * Runs the program under mocks with `config` (short or qualified keys; values as the CLI hands them: strings,
 * structured values as JSON) for `stack`. Rejects with the program's error (e.g. ConfigError); `lastRun()`
 * still shows what was registered before it.
 */
export async function runProgram(
  config: Record<string, string>,
  stack = 'dev',
  opts: { code?: CodeSource; now?: Date; state?: StateHook; invoke?: InvokeHook; /** an already parsed config (the program then skips loadConfig) */ parsed?: StackConfig } = {},
): Promise<ProgramRun> {
  stateHook = opts.state;
  invokeHook = opts.invoke;
  resources = [];
  invokes = [];
  providerRegions.clear();
  requestOptions.clear();
  dynamoTables.clear();
  lambdaFunctions.clear();
  codeFolders.clear();
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
  pulumi.runtime.setAllConfig(qualify(config));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require('../index') as Program;
  // Pulumi records `new Error().stack` on every promise it makes (runtime/debuggable.js), only to print leak
  // reports: capturing no frames while the program runs makes an all-region run several times faster. Errors
  // thrown meanwhile carry their message but no frames; MOCK_STACK_TRACES=1 keeps them for debugging.
  const stackTraceLimit = Error.stackTraceLimit;
  if (process.env.MOCK_STACK_TRACES !== '1') Error.stackTraceLimit = 0;
  // Each resource's source position is still read from a full stack (Resource.callsites lifts the limit), which
  // Node maps through the source maps when they are on (tsx turns them on): a tenth of a run. The positions are
  // never asserted on, so they stay as transpiled while the program runs (mapped with MOCK_STACK_TRACES=1).
  const sourceMaps = process.sourceMapsEnabled;
  if (process.env.MOCK_STACK_TRACES !== '1') process.setSourceMapsEnabled(false);
  // An error thrown inside an apply() of the program surfaces as an unhandled rejection (Pulumi then waits on
  // the failed outputs forever): fail the run with it at once.
  let onError: (reason: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    onError = (reason) => reject(reason instanceof Error ? reason : new Error(String(reason)));
  });
  process.on('unhandledRejection', onError);
  try {
    const outputs = program({ code: opts.code ?? bundledCode, now: opts.now ?? FIXED_NOW, ...(opts.parsed ? { config: opts.parsed } : {}) });
    const { values, secret } = await Promise.race([withTimeout(settle(outputs), 'the outputs'), failed]);
    await Promise.race([withTimeout(waitForRPCs(), 'the resource registrations'), failed]);
    return { resources: [...resources], invokes: [...invokes], outputs: values, secret };
  } finally {
    process.off('unhandledRejection', onError);
    Error.stackTraceLimit = stackTraceLimit;
    process.setSourceMapsEnabled(sourceMaps);
  }
}

/** What the last run registered (also after it threw). */
export function lastRun(): { resources: Recorded[]; invokes: Invoke[] } {
  return { resources: [...resources], invokes: [...invokes] };
}

const cache = new Map<string, Promise<ProgramRun>>();
/** runProgram, memoised by (config, stack) for the process: several tests look at the same topology. */
export function cachedRun(config: Record<string, string>, stack = 'dev'): Promise<ProgramRun> {
  const key = `${stack}|${JSON.stringify(Object.entries(config).sort())}`;
  let run = cache.get(key);
  if (!run) {
    // chained: runs share the Pulumi runtime's global state and must not overlap
    run = (cache.size === 0 ? Promise.resolve() : Promise.all([...cache.values()].map((p) => p.catch(() => undefined)))).then(() => runProgram(config, stack));
    cache.set(key, run);
  }
  return run;
}

// ---- helpers for assertions -------------------------------------------------------------------------------

/** A recorded value with Pulumi's secret wrappers removed, at every level (the plain values the program passed). */
export function reveal<T = any>(v: unknown): T {
  if (Array.isArray(v)) return v.map((x) => reveal(x)) as T;
  if (!v || typeof v !== 'object') return v as T;
  const o = v as Record<string, unknown>;
  if (o[SIG_KEY] === SECRET_SIG) return reveal(o.value);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, reveal(x)])) as T;
}

export const custom = (run: ProgramRun): Recorded[] => run.resources.filter((r) => r.custom);
export const ofType = (run: ProgramRun, type: string): Recorded[] => run.resources.filter((r) => r.type === type);
/** The resource called `name` (an AWS resource before a component of the same name). */
export function named(run: ProgramRun, name: string): Recorded {
  const r = run.resources.find((x) => x.name === name && x.custom) ?? run.resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource named ${name}; have: ${run.resources.map((x) => x.name).join(', ')}`);
  return r;
}
export function countByType(run: ProgramRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of run.resources) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

export interface RunDiff {
  added: string[];
  removed: string[];
  /** name → the input keys (or 'provider' / 'protect' / 'retainOnDelete' / 'ignoreChanges') that differ */
  changed: Record<string, string[]>;
}

/**
 * Inputs the provider schema declares as sets (Terraform `TypeSet` blocks): element order is not a change, as in
 * the provider's own diff. Only the ones the program sets are listed.
 */
export const SET_INPUTS: Readonly<Record<string, readonly string[]>> = {
  'aws:dynamodb/table:Table': ['replicas', 'attributes'],
};
export function comparable(type: string, input: string, value: unknown): string {
  if (Array.isArray(value) && SET_INPUTS[type]?.includes(input)) return JSON.stringify(value.map((v) => JSON.stringify(v)).sort());
  return JSON.stringify(value);
}

/** What changes between two runs, resource by resource (by type + name), the way `pulumi preview` would diff. */
export function diffRuns(a: ProgramRun, b: ProgramRun): RunDiff {
  const key = (r: Recorded): string => `${r.type}::${r.name}`;
  const before = new Map(a.resources.map((r) => [key(r), r]));
  const after = new Map(b.resources.map((r) => [key(r), r]));
  const diff: RunDiff = { added: [], removed: [], changed: {} };
  for (const [k, r] of after) if (!before.has(k)) diff.added.push(r.name);
  for (const [k, r] of before) if (!after.has(k)) diff.removed.push(r.name);
  for (const [k, r] of after) {
    const old = before.get(k);
    if (!old) continue;
    const keys = new Set([...Object.keys(old.inputs), ...Object.keys(r.inputs)]);
    const changed = [...keys].filter((i) => comparable(r.type, i, old.inputs[i]) !== comparable(r.type, i, r.inputs[i]));
    if (providerNameOf(old.provider) !== providerNameOf(r.provider)) changed.push('provider');
    if (old.protect !== r.protect) changed.push('protect');
    if (old.retainOnDelete !== r.retainOnDelete) changed.push('retainOnDelete');
    if (JSON.stringify(old.ignoreChanges) !== JSON.stringify(r.ignoreChanges)) changed.push('ignoreChanges');
    if (changed.length > 0) diff.changed[r.name] = changed.sort();
  }
  return diff;
}

/** The IAM policy documents of a run: role inline policies (RolePolicy) and trust policies (Role). */
export function policies(run: ProgramRun): { name: string; kind: 'policy' | 'trust'; doc: { Statement: { Effect: string; Action: string | string[]; Resource?: string | string[]; Condition?: Record<string, Record<string, string[]>> }[] } }[] {
  const out: ReturnType<typeof policies> = [];
  for (const r of run.resources) {
    if (r.type === 'aws:iam/rolePolicy:RolePolicy') out.push({ name: r.name, kind: 'policy', doc: JSON.parse(r.inputs.policy) });
    if (r.type === 'aws:iam/role:Role') out.push({ name: r.name, kind: 'trust', doc: JSON.parse(r.inputs.assumeRolePolicy) });
  }
  return out;
}
