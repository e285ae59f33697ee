/**
 * FisConfigBucket (one per region, only with `drills`): what the AWS FIS Lambda actions need before the notifier is
 * created (https://docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html, read 2026-11-30):
 *
 * - an S3 bucket in the region (FIS needs one per region) where an experiment writes the fault config under
 *   `FisConfigs/` and the extension in the function reads it; private (public access blocked), S3-managed
 *   encryption (S3's default), `forceDestroy` so that removing `drills` or the region also removes the few
 *   leftover config objects;
 * - the AWS FIS Lambda extension for arm64, as a layer ARN read from its public SSM parameter in that region
 *   (https://docs.aws.amazon.com/fis/latest/userguide/actions-lambda-extension-arns.html).
 *   Not pinned, deliberately: that page publishes the extension's ARNs only through the `1.x.x` parameters (no
 *   parameter per version, no table of ARNs, and the layer version in the ARN differs per region), so a pin would be
 *   a hand-kept per-region table of ARNs no AWS page lists and nothing here could check. The cost of following
 *   `1.x.x`: when AWS publishes a new 1.x release (the page's release notes list 1.0.0 and 1.0.6), the next
 *   `pulumi up` updates the notifier's `layers` — `pulumi preview` shows it as an update of that function.
 * components/notifier.ts adds the layer, AWS_FIS_CONFIGURATION_LOCATION and AWS_LAMBDA_EXEC_WRAPPER
 * (components/lambdaEnv.ts) and read access to the folder; components/fisDrills.ts lets FIS write there.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { FIS_CONFIG_PREFIX, FIS_EXTENSION_PARAMETER } from '../config/drills';

export interface FisConfigBucketArgs {
  region: string;
}

export class FisConfigBucket extends pulumi.ComponentResource {
  readonly bucketArn: pulumi.Output<string>;
  /** `arn:aws:s3:::<bucket>/FisConfigs/`: the extension's AWS_FIS_CONFIGURATION_LOCATION */
  readonly configLocation: pulumi.Output<string>;
  readonly prefix = FIS_CONFIG_PREFIX;
  /** the AWS FIS Lambda extension (arm64) in this region */
  readonly layerArn: pulumi.Output<string>;

  constructor(name: string, args: FisConfigBucketArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('global-appsync:index:FisConfigBucket', name, {}, opts);
    // S3 tag values take letters, numbers, spaces and _ . : / = + - @ only — no comma
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_S3Tag.html): a comma fails the bucket with InvalidTag
    const bucket = new aws.s3.Bucket(name, { forceDestroy: true, tags: { purpose: `AWS FIS fault configs for ${args.region}` } }, { parent: this });
    new aws.s3.BucketPublicAccessBlock(`${name}-private`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, { parent: this });
    this.bucketArn = bucket.arn;
    this.configLocation = pulumi.interpolate`${bucket.arn}/${FIS_CONFIG_PREFIX}/`;
    this.layerArn = aws.ssm.getParameterOutput({ name: FIS_EXTENSION_PARAMETER }, { parent: this }).value;
    this.registerOutputs({ bucketArn: this.bucketArn, layerArn: this.layerArn });
  }
}
