/**
 * The drills' names, shared by the AWS FIS experiment templates (components/fisDrills.ts), the stack outputs, the
 * runbook in docs/drills.md and the emulator's fault controls (local/drills.ts, the admin API, `npm run emulator`), so a drill
 * practised locally is the one started in AWS under the same name. No @pulumi imports: the emulator loads it.
 *
 * FIS action ids and their parameters/targets are from the FIS actions reference
 * (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html, read 2026-11-30):
 *   - aws:dynamodb:global-table-pause-replication: target key `Tables`, resource type aws:dynamodb:global-table,
 *     parameter `duration` (ISO 8601); pauses replication into and out of the targeted replica (the experiment's
 *     region) for every other region, then replication resumes from where it paused.
 *   - aws:lambda:invocation-error: target key `Functions`, resource type aws:lambda:function, parameters
 *     `duration`, `invocationPercentage` (optional, default 100) and `preventExecution` (optional, default true);
 *     it needs the AWS FIS Lambda extension on the function (https://docs.aws.amazon.com/fis/latest/userguide/use-lambda-actions.html).
 */
import { type ConfigProblem, parseJson, show, unknownFields } from './problems';

export const PAUSE_REPLICATION_ACTION = 'aws:dynamodb:global-table-pause-replication';
export const LAMBDA_ERROR_ACTION = 'aws:lambda:invocation-error';

/** The drills, by the name every tool uses: `pause-replication` and `notifier-errors`. */
export const DRILLS = {
  pauseReplication: { name: 'pause-replication', actionId: PAUSE_REPLICATION_ACTION },
  notifierErrors: { name: 'notifier-errors', actionId: LAMBDA_ERROR_ACTION },
} as const;

export interface DrillsConfig {
  /** How long each drill runs (pauses replication, fails the notifier), in minutes. */
  pauseMinutes: number;
}

/** `drills.pauseMinutes`: an FIS experiment runs at most 12 hours (https://docs.aws.amazon.com/fis/latest/userguide/fis-quotas.html). */
export const DRILL_PAUSE_MINUTES = { min: 1, max: 720, dflt: 10 } as const;

/** Minutes → the ISO 8601 duration FIS takes (PT10M, PT2H, PT1H30M). */
export function isoMinutes(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `PT${h ? `${h}H` : ''}${m || !h ? `${m}M` : ''}`;
}

/**
 * The AWS FIS Lambda extension (layer) for arm64 functions, as a public SSM parameter per region
 * (https://docs.aws.amazon.com/fis/latest/userguide/actions-lambda-extension-arns.html); the program reads it in each
 * region so no layer ARN or version is hard-coded.
 */
export const FIS_EXTENSION_PARAMETER = '/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x';
/** The folder of the FIS config bucket where FIS writes fault configs and the extension reads them. */
export const FIS_CONFIG_PREFIX = 'FisConfigs';
/** The extension's wrapper script, set as AWS_LAMBDA_EXEC_WRAPPER (use-lambda-actions.html, "Configure the Lambda function"). */
export const FIS_EXEC_WRAPPER = '/opt/aws-fis/bootstrap';

/** `drills`: true | false | {"pauseMinutes": N} (docs/drills.md, "Drills in AWS (FIS)"); undefined = off. */
export function parseDrills(raw: string | undefined, problems: ConfigProblem[]): DrillsConfig | undefined {
  if (raw === undefined || raw === '' || raw === 'false') return undefined;
  const { min, max, dflt } = DRILL_PAUSE_MINUTES;
  if (raw === 'true') return { pauseMinutes: dflt };
  const allowed = `true, false or {"pauseMinutes": N} with N a whole number of minutes from ${min} to ${max} (default ${dflt})`;
  const parsed = /^\s*\{/.test(raw) ? parseJson(raw) : { ok: false as const };
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    problems.push({ key: 'drills', value: show(raw), allowed });
    return undefined;
  }
  const obj = parsed.value as Record<string, unknown>;
  unknownFields('drills', obj, ['pauseMinutes'], problems);
  const n = obj.pauseMinutes ?? dflt;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    problems.push({ key: 'drills.pauseMinutes', value: show(n), allowed: `a whole number of minutes from ${min} to ${max} (default ${dflt}): how long each drill pauses replication or fails the notifier` });
    return undefined;
  }
  return { pauseMinutes: n };
}
