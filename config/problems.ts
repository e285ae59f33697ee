/**
 * What every config module shares: the problem record, the error that lists them all at once, the "did you mean"
 * for near misses, and the small readers of structured values. No imports beyond config/names.ts, so every module
 * of config/ can use it.
 */
import { PROJECT } from './names';

/** One config problem: the key, the value as given, and what is allowed. */
export interface ConfigProblem {
  key: string;
  value: string;
  allowed: string;
}

export class ConfigError extends Error {
  /** `notes`: lines printed once after the problems (e.g. the list of AWS regions several problems refer to). */
  constructor(
    readonly problems: readonly ConfigProblem[],
    readonly notes: readonly string[] = [],
  ) {
    super(
      `${PROJECT} stack config has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p.key}: ${p.value} — ${p.allowed}`).join('\n') +
        notes.map((n) => `\n${n}`).join(''),
    );
    this.name = 'ConfigError';
  }
}

/** Edit distance (Levenshtein) between two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const cur = [i];
    for (let j = 1; j <= b.length; j += 1) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The one valid value a near miss most likely meant: same letters ignoring case and punctuation
 * (`EU-WEST-1`, `eu-west1`, `globalappsync`), else the single closest within an edit distance of 2.
 * Undefined when nothing is close or two candidates are equally close.
 */
export function didYouMean(value: string, candidates: readonly string[]): string | undefined {
  const fold = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const same = candidates.filter((c) => fold(c) === fold(value));
  if (same.length === 1) return same[0];
  const scored = candidates.map((c) => ({ c, d: distance(value.toLowerCase(), c.toLowerCase()) })).sort((x, y) => x.d - y.d);
  if (scored.length === 0 || scored[0].d > 2 || scored[0].d >= value.length) return undefined;
  return scored.length > 1 && scored[1].d === scored[0].d ? undefined : scored[0].c;
}
export const hint = (value: unknown, candidates: readonly string[]): string => {
  const s = typeof value === 'string' ? didYouMean(value, candidates) : undefined;
  return s ? `did you mean ${JSON.stringify(s)}? ` : '';
};

/** Raw config as Pulumi hands it over: key (without project prefix) → string (structured values as JSON). */
export type RawConfig = Readonly<Record<string, string | undefined>>;

export const show = (v: unknown): string => (v === undefined ? '(not set)' : JSON.stringify(v) ?? String(v));

/** Parses a JSON/YAML-ish structured value, which Pulumi passes as a JSON string. */
export function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

export function parseObject(key: string, raw: string, problems: ConfigProblem[], hint: string): Record<string, unknown> | undefined {
  const parsed = parseJson(raw);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    problems.push({ key, value: show(raw), allowed: `an object ${hint}` });
    return undefined;
  }
  return parsed.value as Record<string, unknown>;
}

export function unknownFields(key: string, obj: Record<string, unknown>, known: readonly string[], problems: ConfigProblem[]): void {
  for (const f of Object.keys(obj)) {
    if (!known.includes(f)) problems.push({ key: `${key}.${f}`, value: show(obj[f]), allowed: `${hint(f, known)}unknown field; ${key} takes: ${known.join(', ')}` });
  }
}

export function parseBoolean(key: string, raw: string | undefined, dflt: boolean, problems: ConfigProblem[]): boolean {
  if (raw === undefined || raw === '') return dflt;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  problems.push({ key, value: show(raw), allowed: 'true or false' });
  return dflt;
}

/**
 * A field inside a structured value given as a quoted number (`rateLimit: "100"`) is a string to YAML and JSON, so a
 * check for a number refuses it; say so, with the fix, before what is allowed. Only fields of objects (`throttle.x`):
 * a top-level key always reaches the program as a string (Pulumi hands config over as strings), so the quotes there
 * are not the user's.
 */
export function explainQuotedNumbers(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return problems.map((p) => {
    if (!p.key.includes('.') || !/\bnumber\b/.test(p.allowed)) return p;
    let given: unknown;
    try {
      given = JSON.parse(p.value);
    } catch {
      return p;
    }
    if (typeof given !== 'string' || given.trim() === '' || !Number.isFinite(Number(given))) return p;
    return { ...p, allowed: `a string, not a number: write ${given.trim()} without quotes; ${p.allowed}` };
  });
}
