/**
 * The `alarms` stack config: the thresholds of the regional alarms (components/alarms.ts), their defaults and
 * their bounds and their validation, in one module without @pulumi imports so that config/index.ts and the plan
 * script can read them without loading the Pulumi SDK.
 *
 * Defaults (docs/alarms.md): DynamoDB global tables propagate a change in about a second in normal operation
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_monitoring.html), so an average
 * ReplicationLatency above 5 s over 5 minutes, or any one minute with a maximum above 60 s, means a region falls
 * behind; an API's p99 above 2 s (AppSync) or 3 s (API Gateway, which adds a Lambda cold start) for 5 minutes is
 * degradation users feel; more than 5 server errors a minute is not noise; any Lambda error or throttle alarms.
 */
import { type ConfigProblem, parseObject, show, unknownFields } from './problems';

export interface AlarmThresholds {
  /** ReplicationLatency, Average over a minute, per source → destination pair (ms). */
  replicationLatencyAverageMs: number;
  /** ReplicationLatency, Maximum over a minute, per source → destination pair (ms). */
  replicationLatencyMaximumMs: number;
  /** AppSync 5XXError, Sum per minute. */
  appsync5xxPerMinute: number;
  /** AppSync Latency, p99 per minute (ms). */
  appsyncLatencyP99Ms: number;
  /** API Gateway 5XXError, Sum per minute. */
  apiGateway5xxPerMinute: number;
  /** API Gateway Latency, p99 per minute (ms). */
  apiGatewayLatencyP99Ms: number;
  /** Lambda Errors, Sum per minute, of the items, health and notifier functions. */
  functionErrorsPerMinute: number;
  /** Lambda Throttles, Sum per minute, of the same functions. */
  functionThrottlesPerMinute: number;
}

export const DEFAULT_ALARM_THRESHOLDS: Readonly<AlarmThresholds> = Object.freeze({
  replicationLatencyAverageMs: 5_000,
  replicationLatencyMaximumMs: 60_000,
  appsync5xxPerMinute: 5,
  appsyncLatencyP99Ms: 2_000,
  apiGateway5xxPerMinute: 5,
  apiGatewayLatencyP99Ms: 3_000,
  functionErrorsPerMinute: 0,
  functionThrottlesPerMinute: 0,
});

export const ALARM_THRESHOLD_KEYS = Object.keys(DEFAULT_ALARM_THRESHOLDS) as (keyof AlarmThresholds)[];

/** Upper bounds that catch unit mistakes (seconds typed as milliseconds times 1000, and the like). */
export const ALARM_THRESHOLD_MAX: Readonly<Record<keyof AlarmThresholds, number>> = Object.freeze({
  replicationLatencyAverageMs: 3_600_000,
  replicationLatencyMaximumMs: 3_600_000,
  appsync5xxPerMinute: 1_000_000,
  appsyncLatencyP99Ms: 60_000, // AppSync's request timeout is 30 s
  apiGateway5xxPerMinute: 1_000_000,
  apiGatewayLatencyP99Ms: 60_000, // API Gateway's integration timeout is 29 s by default
  functionErrorsPerMinute: 1_000_000,
  functionThrottlesPerMinute: 1_000_000,
});

/** `alarms`: an object of thresholds, each optional (defaults above), each a number in range. */
export function parseAlarms(raw: string | undefined, problems: ConfigProblem[]): AlarmThresholds {
  const out: AlarmThresholds = { ...DEFAULT_ALARM_THRESHOLDS };
  if (raw === undefined || raw === '') return out;
  const obj = parseObject('alarms', raw, problems, `of thresholds, any of ${ALARM_THRESHOLD_KEYS.join(', ')}; e.g. {"replicationLatencyAverageMs": 2000}`);
  if (!obj) return out;
  unknownFields('alarms', obj, ALARM_THRESHOLD_KEYS, problems);
  for (const k of ALARM_THRESHOLD_KEYS) {
    const v = obj[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > ALARM_THRESHOLD_MAX[k]) {
      problems.push({ key: `alarms.${k}`, value: show(v), allowed: `a number from 0 to ${ALARM_THRESHOLD_MAX[k]} (default ${DEFAULT_ALARM_THRESHOLDS[k]})` });
    } else {
      out[k] = v;
    }
  }
  return out;
}
