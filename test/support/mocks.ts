/**
 * Pulumi mocks for the unit tests and `npm run plan`: records every resource registration ({type, name,
 * inputs, provider → region}) and answers the invokes the program makes, with outputs shaped like AWS's
 * (ARNs, stream ARNs per replica, AppSync URIs, ACM validation options...) so components wire real values.
 *
 * `runProgram(config, stack)` sets the mocks and config, runs index.ts's exported program, waits for every
 * registration and returns what was registered plus the resolved stack outputs. It can run any number of
 * times in one process; each run gets a fresh mock monitor.
 */
import * as pulumi from '@pulumi/pulumi';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HANDLER_NAMES, ROOT } from '../../components/bundle';
import { bundledCode, type CodeSource } from '../../components/lambda';
import { PROJECT } from '../../config';

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

let resources: Recorded[] = [];
let invokes: Invoke[] = [];
const providerRegions = new Map<string, string>();

const hash = (s: string, n = 10): string => createHash('sha256').update(s).digest('hex').slice(0, n);

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
      const tableArn = (r: string): string => `arn:aws:dynamodb:${r}:${ACCOUNT}:table/${inputs.name}`;
      const stream = (r: string): string => `${tableArn(r)}/stream/2026-01-01T00:00:00.000`;
      return {
        arn: tableArn(region),
        streamArn: stream(region),
        streamLabel: '2026-01-01T00:00:00.000',
        replicas: (inputs.replicas ?? []).map((r: any) => ({ ...r, arn: tableArn(r.regionName), streamArn: stream(r.regionName), streamLabel: '2026-01-01T00:00:00.000' })),
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
      return { invokeUrl: `https://${inputs.restApi}.execute-api.${region}.amazonaws.com/${inputs.stageName}`, executionArn: arn('execute-api', `${inputs.restApi}/${inputs.stageName}`) };
    case 'aws:apigateway/domainName:DomainName':
      return { regionalDomainName: `d-${hash(name)}.execute-api.${region}.amazonaws.com`, regionalZoneId: 'ZREGIONALAPIGW' };
    case 'aws:lambda/function:Function': {
      const fnArn = arn('lambda', `function:${name}`);
      return { arn: fnArn, name, invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${fnArn}/invocations` };
    }
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
    default:
      return {};
  }
}

const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    if (args.type === 'pulumi:providers:aws') providerRegions.set(args.name, args.inputs.region);
    const region = providerRegions.get(providerNameOf(args.provider) ?? '') ?? 'default-region';
    const id = `${args.name}-id`;
    const state = { ...args.inputs, ...computed(args.type, args.name, args.inputs, region) };
    resources.push({
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      provider: args.provider || undefined,
      region: args.provider ? providerRegions.get(providerNameOf(args.provider) ?? '') : undefined,
      custom: args.custom !== false,
      state,
    });
    return { id, state };
  },
  call(args) {
    invokes.push({ token: args.token, inputs: args.inputs, provider: args.provider });
    switch (args.token) {
      case 'aws:index/getCallerIdentity:getCallerIdentity':
        return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/mock`, userId: 'MOCK', id: ACCOUNT };
      case 'aws:route53/getZone:getZone':
        return { zoneId: ZONE_ID, id: ZONE_ID, name: args.inputs.name };
      default:
        throw new Error(`unmocked invoke ${args.token}`);
    }
  },
};

/** Lambda code for tests: the real bundles when the handler file exists, else a stub (logged once). */
const warned = new Set<string>();
export const testCode: CodeSource = (handler) => {
  if (fs.existsSync(path.join(ROOT, 'handlers', `${handler}.ts`))) return bundledCode(handler);
  if (!warned.has(handler)) {
    warned.add(handler);
    console.warn(`  (handlers/${handler}.ts missing: using a stub archive)`);
  }
  return new pulumi.asset.AssetArchive({ 'index.js': new pulumi.asset.StringAsset('exports.handler = async () => ({});') });
};
export { HANDLER_NAMES };

/** Fully qualifies short keys (`regions` → `global-appsync:regions`); qualified keys pass through. */
function qualify(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(':') ? k : `${PROJECT}:${k}`, v]));
}

type Program = (opts?: { code?: CodeSource; now?: Date }) => Record<string, any>;

async function settle(outputs: Record<string, any>): Promise<{ values: Record<string, any>; secret: Record<string, boolean> }> {
  const values: Record<string, any> = {};
  const secret: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(outputs)) {
    const o = pulumi.output(v);
    values[k] = await new Promise((resolve) => o.apply(resolve));
    secret[k] = await (o as any).isSecret;
  }
  return { values, secret };
}

export const FIXED_NOW = new Date('2026-11-25T12:34:56Z');

/**
 * Runs the program under mocks with `config` (short or qualified keys; values as the CLI hands them: strings,
 * structured values as JSON) for `stack`. Rejects with the program's error (e.g. ConfigError); `lastRun()`
 * still shows what was registered before it.
 */
export async function runProgram(config: Record<string, string>, stack = 'dev', opts: { code?: CodeSource; now?: Date } = {}): Promise<ProgramRun> {
  resources = [];
  invokes = [];
  providerRegions.clear();
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
  pulumi.runtime.setAllConfig(qualify(config));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require('../../index') as Program;
  const outputs = program({ code: opts.code ?? testCode, now: opts.now ?? FIXED_NOW });
  const { values, secret } = await settle(outputs);
  await waitForRPCs();
  return { resources: [...resources], invokes: [...invokes], outputs: values, secret };
}

/** What the last run registered (also after it threw). */
export function lastRun(): { resources: Recorded[]; invokes: Invoke[] } {
  return { resources: [...resources], invokes: [...invokes] };
}
