/**
 * The region keys (`regions`, `homeRegion`, `primaryRegion`, `drainRegions`) and the regions they may name.
 *
 * Where every AWS service this program deploys has a regional endpoint, read from config/aws-constraints.json
 * (botocore's endpoints.json, extracted by scripts/extract-aws-constraints.py with its version and date). AWS's
 * human-readable source is "AWS Services by Region" and each service's "endpoints and quotas" page, e.g.
 * https://docs.aws.amazon.com/general/latest/gr/appsync.html (AppSync has no endpoint in ap-east-2,
 * ap-southeast-6 or mx-central-1 as of the extraction date). No imports of @pulumi/*: the config tests and the local
 * emulator load it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type ConfigProblem, hint, parseJson, show } from './problems';

/** Regional services the program creates resources in, in every region (IAM and Route53 are global). */
export const REGIONAL_SERVICES: Readonly<Record<string, string>> = {
  appsync: 'AppSync',
  apigateway: 'API Gateway',
  lambda: 'Lambda',
  dynamodb: 'DynamoDB',
  sqs: 'SQS',
  sns: 'SNS',
  logs: 'CloudWatch Logs',
  monitoring: 'CloudWatch',
  acm: 'ACM',
  xray: 'X-Ray',
};

interface ServiceRegionsFile {
  botocore: string;
  extracted: string;
  serviceRegions: Record<string, { global: boolean; regions: string[] }>;
}

const data = JSON.parse(fs.readFileSync(path.join(__dirname, 'aws-constraints.json'), 'utf8')) as ServiceRegionsFile;

/** Where the region list comes from, for error messages. */
export const SERVICE_REGIONS_SOURCE = `botocore ${data.botocore} endpoints.json, extracted ${data.extracted}; see https://docs.aws.amazon.com/general/latest/gr/appsync.html`;

/** The services of REGIONAL_SERVICES (display names) with no endpoint in `region`. */
export function missingServices(region: string): string[] {
  return Object.entries(REGIONAL_SERVICES)
    .filter(([id]) => {
      const s = data.serviceRegions[id];
      if (!s) throw new Error(`config/aws-constraints.json has no region list for ${id}: re-run scripts/extract-aws-constraints.py`);
      return !s.regions.includes(region);
    })
    .map(([, label]) => label);
}

/**
 * AWS regions of the commercial `aws` partition, taken from the `aws.Region` enum of @pulumi/aws 7.48.0
 * (node_modules/@pulumi/aws/types/enums/index.d.ts). China (cn-*), GovCloud (us-gov-*) and the ISO regions are
 * left out: they are other partitions, with their own accounts, ARNs and Route53, and cannot share one global
 * table or hosted zone with these.
 */
export const AWS_REGIONS: readonly string[] = [
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1',
  'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5',
  'ap-southeast-6', 'ap-southeast-7', 'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-north-1',
  'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1',
  'mx-central-1', 'sa-east-1', 'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
];

/**
 * The regions of AWS_REGIONS where every regional service this program deploys (AppSync, API Gateway, Lambda,
 * DynamoDB, SQS, SNS, CloudWatch, ACM, X-Ray: REGIONAL_SERVICES above) has an endpoint. A region outside
 * it is refused with the services it lacks, instead of failing halfway through `pulumi up`.
 */
export const SUPPORTED_REGIONS: readonly string[] = AWS_REGIONS.filter((r) => missingServices(r).length === 0);

/**
 * The opt-in regions of AWS_REGIONS: launched after March 20, 2019, so disabled in every account until someone
 * enables them (AWS console: Account → AWS Regions, or `aws account enable-region --region-name R`), and every call
 * there fails until then (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html). The
 * README's Prerequisites list is this list (a test compares them); `npm run plan` and `npm start` name the ones a
 * stack uses (config/warnings.ts).
 */
export const OPT_IN_REGIONS: readonly string[] = [
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5',
  'ap-southeast-6', 'ap-southeast-7', 'ca-west-1', 'eu-central-2', 'eu-south-1', 'eu-south-2', 'il-central-1',
  'me-central-1', 'me-south-1', 'mx-central-1',
];

/** The note listing every AWS region, printed once however many region problems refer to it. */
export const REGIONS_NOTE = `AWS regions of the aws partition: ${AWS_REGIONS.join(', ')}`;

export function parseRegions(raw: string | undefined, problems: ConfigProblem[]): string[] {
  const allowed = 'a list of 1 or more distinct AWS regions (YAML list, JSON array or "a,b,c"), each one of the AWS regions (the list is below)';
  if (raw === undefined || raw.trim() === '') {
    problems.push({ key: 'regions', value: '(not set)', allowed: `required: ${allowed}; e.g. pulumi config set regions eu-west-1,ap-southeast-2` });
    return [];
  }
  let list: unknown;
  if (/^[[{]/.test(raw.trim())) {
    const parsed = parseJson(raw);
    if (!parsed.ok) {
      problems.push({ key: 'regions', value: show(raw), allowed: `not valid JSON; ${allowed}` });
      return [];
    }
    list = parsed.value;
  } else {
    list = raw.split(',').map((s) => s.trim());
  }
  if (!Array.isArray(list) || list.length === 0) {
    problems.push({ key: 'regions', value: show(raw), allowed });
    return [];
  }
  const regions: string[] = [];
  const seen = new Set<string>();
  list.forEach((r, i) => {
    if (typeof r !== 'string' || !AWS_REGIONS.includes(r)) {
      problems.push({ key: `regions[${i}]`, value: show(r), allowed: `${hint(r, AWS_REGIONS)}not an AWS region of the aws partition (the list is below)` });
    } else if (missingServices(r).length > 0) {
      problems.push({
        key: `regions[${i}]`,
        value: show(r),
        allowed: `${missingServices(r).join(', ')} not available in ${r} (${SERVICE_REGIONS_SOURCE}); regions with every service this program deploys: ${SUPPORTED_REGIONS.join(', ')}`,
      });
    } else if (seen.has(r)) {
      problems.push({ key: `regions[${i}]`, value: show(r), allowed: 'duplicate: each region may appear once' });
    } else {
      seen.add(r);
      regions.push(r);
    }
  });
  return regions;
}

/** What the homeRegion error says: moving it is state surgery, never a config edit (README, "Retiring the home region"). */
export const HOME_REGION_HINT =
  'the global tables live in homeRegion and are deleted and re-created if it changes; to retire the home region, do not edit this key: follow the README section "Retiring the home region" (pulumi state delete + pulumi import of the tables in the new home region)';


export function regionIn(key: string, raw: string | undefined, regions: string[], problems: ConfigProblem[]): string {
  if (raw === undefined || raw === '') return regions[0] ?? '';
  if (!regions.includes(raw)) {
    problems.push({ key, value: show(raw), allowed: `${hint(raw, regions)}must be one of regions (${regions.join(', ') || 'none valid'})${key === 'homeRegion' ? `; ${HOME_REGION_HINT}` : ''}` });
  }
  return raw;
}

/**
 * drainRegions: a subset of regions, not all of them. Whether a region being REMOVED from `regions` was drained
 * first cannot be checked here: the program sees only the config being applied, never the one deployed before
 * (Pulumi hands no previous config; a self StackReference would need the org and a deployed stack, and would be
 * read only after resources start registering). So the README's removal procedure (drain → up → remove → up)
 * is the guard, and the error for a drained region missing from `regions` repeats it.
 */
export function parseDrainRegions(raw: string | undefined, regions: string[], problems: ConfigProblem[]): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const procedure = 'to remove a region: add it to drainRegions, pulumi up, then remove it from both regions and drainRegions, pulumi up (README, "Removing a region")';
  let list: unknown;
  if (/^[[{]/.test(raw.trim())) {
    const parsed = parseJson(raw);
    list = parsed.ok ? parsed.value : undefined;
  } else {
    list = raw.split(',').map((x) => x.trim());
  }
  if (!Array.isArray(list)) {
    problems.push({ key: 'drainRegions', value: show(raw), allowed: 'a list of regions (YAML list, JSON array or "a,b")' });
    return [];
  }
  const out: string[] = [];
  list.forEach((r, i) => {
    if (typeof r !== 'string' || !regions.includes(r)) {
      problems.push({ key: `drainRegions[${i}]`, value: show(r), allowed: `${hint(r, regions)}must be one of regions (${regions.join(', ')}): a drained region stays deployed; ${procedure}` });
    } else if (!out.includes(r)) {
      out.push(r);
    }
  });
  if (regions.length > 0 && regions.every((r) => out.includes(r))) {
    problems.push({ key: 'drainRegions', value: show(raw), allowed: 'at least one region must stay routed: draining every region would leave no healthy latency record' });
  }
  return out;
}
