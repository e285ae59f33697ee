/**
 * Where every AWS service this program deploys has a regional endpoint, read from components/aws-constraints.json
 * (botocore's endpoints.json, extracted by scripts/extract-aws-constraints.py with its version and date). AWS's
 * human-readable source is "AWS Services by Region" and each service's "endpoints and quotas" page, e.g.
 * https://docs.aws.amazon.com/general/latest/gr/appsync.html (AppSync has no endpoint in ap-east-2,
 * ap-southeast-6 or mx-central-1 as of the extraction date). No imports of @pulumi/*: config.ts and the local
 * emulator load it.
 */
import fs from 'node:fs';
import path from 'node:path';

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
      if (!s) throw new Error(`components/aws-constraints.json has no region list for ${id}: re-run scripts/extract-aws-constraints.py`);
      return !s.regions.includes(region);
    })
    .map(([, label]) => label);
}
