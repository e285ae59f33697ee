/**
 * What every benchmark series gives the runner (scripts/bench.ts): rows of numbers with their distribution, the
 * target the project set for them, where the row stands against it, why, and what would fix a miss.
 */

/** A distribution by nearest rank (the value below which p % of the samples lie), in the row's unit. */
export interface Stats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `values` (not modified); throws on an empty list (a series with no sample is a bug). */
export function stats(values: readonly number[]): Stats {
  if (values.length === 0) throw new Error('stats of no samples');
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted[sorted.length - 1] };
}

/** A number a row is judged by, e.g. records/s, or the p99 of its distribution. */
export interface Figure {
  label: string;
  value: number;
  unit: string;
}

export interface Target {
  /** The target as the project states it, e.g. "p99 ≤ 500 ms". */
  text: string;
  met: boolean;
}

export interface Row {
  /** What was measured, e.g. "2 regions, lag 0, 10 writes/s → subscriber on B". */
  case: string;
  /** The unit of `stats`. */
  unit: string;
  stats?: Stats;
  /** The row's headline number when it is not one of the percentiles (a rate, a size, a ratio). */
  figure?: Figure;
  /** A short note printed with the result (e.g. the p50 of each hop, CPU per record). */
  extra?: string;
  target?: Target;
  /** Why the row stands where it does (for a miss, at least). */
  why?: string;
  /** What would fix a miss. */
  fix?: string;
  /** Anything else worth keeping in the results file (per-hop breakdowns, raw settings). */
  detail?: Record<string, unknown>;
}

export interface SeriesResult {
  id: number;
  key: string;
  name: string;
  /** false: the series could not run in this revision (reason says why); no number is made up. */
  available: boolean;
  reason?: string;
  rows: Row[];
  seconds: number;
}

// What an emulator session is lives with the session (./emulatorSession.ts), which imports nothing from here.
export { type SessionSpec, sessionName } from './emulatorSession';
import type { SessionSpec } from './emulatorSession';

export interface BenchContext {
  quick: boolean;
  /** Progress lines (stderr): the table is the output. */
  log: (line: string) => void;
}

/**
 * One series. Series that measure the emulator name the sessions they need; the runner starts each session once,
 * runs `inSession` of every series that asked for it (in series order, so the emulator series measures memory
 * after the load of the others), stops it, and then asks every series for its rows (`finish`).
 */
export interface Series<S = import('./emulatorSession').Session> {
  id: number;
  key: string;
  name: string;
  sessions?(ctx: BenchContext): SessionSpec[];
  inSession?(session: S, ctx: BenchContext): Promise<void>;
  finish(ctx: BenchContext): Promise<Omit<SeriesResult, 'id' | 'key' | 'name' | 'seconds'>>;
}
