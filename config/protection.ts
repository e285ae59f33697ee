/**
 * Validation of the two protection keys of the stack config (config/index.ts stays the only reader of raw config and
 * calls these): `waf` (a regional AWS WAF web ACL per region, components/waf.ts) and `throttle` (API Gateway stage
 * throttling and, in apiKey mode, the usage plan's throttle and daily quota, components/restApi.ts). Pure: no
 * Pulumi, so `npm run plan`, the emulator and the tests use it as they use config/. Each problem names the key,
 * the value as given and what is allowed; the caller collects them with every other key's.
 */

/** One config problem, as config/problems.ts's ConfigProblem. */
export interface ProtectionProblem {
  key: string;
  value: string;
  allowed: string;
}

export interface WafConfig {
  /**
   * Requests per 5 minutes from one IP address before the rate-based rule blocks it. AWS WAF's lowest allowed
   * limit is 10 ("Rate limit … The lowest limit setting allowed is 10",
   * https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html);
   * botocore's RateLimit shape caps it at 2,000,000,000.
   */
  rateLimitPer5Min: number;
  /** The AWS managed rule groups AWSManagedRulesCommonRuleSet and AWSManagedRulesKnownBadInputsRuleSet. */
  managedRules: boolean;
}

export interface ThrottleConfig {
  /** Steady-state requests per second per region (stage `*` / `*`; also the apiKey usage plan's rate). */
  rateLimit: number;
  /** Burst bucket size per region. */
  burstLimit: number;
  /** apiKey mode: requests per day per region for the shared key (usage plan quota); unset = no quota. */
  quotaPerDay?: number;
}

export const WAF_RATE_LIMIT_MIN = 10;
export const WAF_RATE_LIMIT_MAX = 2_000_000_000;
export const DEFAULT_WAF: Readonly<WafConfig> = { rateLimitPer5Min: 2000, managedRules: true };

/**
 * API Gateway's default account-level throttle is 10,000 requests per second with a burst of 5,000 per region
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html): a stage or
 * usage plan limit above it has no effect, so larger values are refused as a likely typo (raise the account quota
 * first, then this bound).
 */
export const THROTTLE_RATE_MAX = 10_000;
export const THROTTLE_BURST_MAX = 5_000;
export const DEFAULT_THROTTLE: Readonly<ThrottleConfig> = { rateLimit: 100, burstLimit: 200 };

const show = (v: unknown): string => (v === undefined ? '(not set)' : JSON.stringify(v) ?? String(v));

function parseObject(key: string, raw: string, problems: ProtectionProblem[], example: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ key, value: show(raw), allowed: `an object ${example}` });
    return undefined;
  }
  return value as Record<string, unknown>;
}

function unknownFields(key: string, obj: Record<string, unknown>, known: readonly string[], problems: ProtectionProblem[]): void {
  for (const f of Object.keys(obj)) {
    if (!known.includes(f)) problems.push({ key: `${key}.${f}`, value: show(obj[f]), allowed: `unknown field; ${key} takes: ${known.join(', ')}` });
  }
}

const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * `waf`: unset → on when `protect` is (prod), with the defaults; `true` / `false` → on with the defaults / off;
 * an object `{rateLimitPer5Min?, managedRules?}` → on with those settings. Returns undefined when off.
 */
export function parseWaf(raw: string | undefined, protect: boolean, problems: ProtectionProblem[]): WafConfig | undefined {
  if (raw === undefined || raw === '') return protect ? { ...DEFAULT_WAF } : undefined;
  if (raw === 'true') return { ...DEFAULT_WAF };
  if (raw === 'false') return undefined;
  const example = `{rateLimitPer5Min, managedRules}, or true / false; e.g. {"rateLimitPer5Min": 2000, "managedRules": true}`;
  const obj = parseObject('waf', raw, problems, example);
  if (!obj) return undefined;
  unknownFields('waf', obj, ['rateLimitPer5Min', 'managedRules'], problems);
  const out: WafConfig = { ...DEFAULT_WAF };
  const rate = obj.rateLimitPer5Min;
  if (rate !== undefined) {
    if (!isWhole(rate) || rate < WAF_RATE_LIMIT_MIN || rate > WAF_RATE_LIMIT_MAX) {
      problems.push({
        key: 'waf.rateLimitPer5Min',
        value: show(rate),
        allowed: `a whole number of requests per 5 minutes per IP address from ${WAF_RATE_LIMIT_MIN} (AWS WAF's lowest rate limit) to ${WAF_RATE_LIMIT_MAX} (default ${DEFAULT_WAF.rateLimitPer5Min})`,
      });
    } else {
      out.rateLimitPer5Min = rate;
    }
  }
  const managed = obj.managedRules;
  if (managed !== undefined) {
    if (typeof managed !== 'boolean') problems.push({ key: 'waf.managedRules', value: show(managed), allowed: 'true or false (default true)' });
    else out.managedRules = managed;
  }
  return out;
}

/** `throttle`: `{rateLimit?, burstLimit?, quotaPerDay?}`, each optional; unset → the defaults. */
export function parseThrottle(raw: string | undefined, problems: ProtectionProblem[]): ThrottleConfig {
  const out: ThrottleConfig = { ...DEFAULT_THROTTLE };
  if (raw === undefined || raw === '') return out;
  const obj = parseObject('throttle', raw, problems, '{rateLimit, burstLimit[, quotaPerDay]}; e.g. {"rateLimit": 100, "burstLimit": 200, "quotaPerDay": 100000}');
  if (!obj) return out;
  unknownFields('throttle', obj, ['rateLimit', 'burstLimit', 'quotaPerDay'], problems);
  const { rateLimit, burstLimit, quotaPerDay } = obj;
  if (rateLimit !== undefined) {
    // API Gateway takes a double rate, but a fraction below 1 request per second is not what anyone means
    if (typeof rateLimit !== 'number' || !Number.isFinite(rateLimit) || rateLimit < 1 || rateLimit > THROTTLE_RATE_MAX) {
      problems.push({ key: 'throttle.rateLimit', value: show(rateLimit), allowed: `requests per second per region, a number from 1 to ${THROTTLE_RATE_MAX} (API Gateway's default account limit; default ${DEFAULT_THROTTLE.rateLimit})` });
    } else {
      out.rateLimit = rateLimit;
    }
  }
  if (burstLimit !== undefined) {
    if (!isWhole(burstLimit) || burstLimit < 1 || burstLimit > THROTTLE_BURST_MAX) {
      problems.push({ key: 'throttle.burstLimit', value: show(burstLimit), allowed: `a whole number of requests from 1 to ${THROTTLE_BURST_MAX} (API Gateway's default account burst; default ${DEFAULT_THROTTLE.burstLimit})` });
    } else {
      out.burstLimit = burstLimit;
    }
  }
  if (out.burstLimit < out.rateLimit && problems.every((p) => !p.key.startsWith('throttle.'))) {
    problems.push({ key: 'throttle.burstLimit', value: show(out.burstLimit), allowed: `at least rateLimit (${out.rateLimit}): a bucket smaller than one second of the steady rate throttles the rate itself` });
  }
  if (quotaPerDay !== undefined) {
    if (!isWhole(quotaPerDay) || quotaPerDay < 1) problems.push({ key: 'throttle.quotaPerDay', value: show(quotaPerDay), allowed: 'a whole number of requests per day per region, at least 1 (unset: no quota)' });
    else out.quotaPerDay = quotaPerDay;
  }
  return out;
}
