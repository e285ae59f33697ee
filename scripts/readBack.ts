/**
 * The state updater's answer (handlers/stateUpdater.ts) in words, printed by `npm run state` and by
 * `npm run emulator -- state`, so both read the same: what every region read back, and why a change was refused.
 */

/** The updater's read-back as lines for people: one per region, then the verdict. Nothing for other answers. */
export function formatReadBack(answer: unknown): string[] {
  const rb = (answer as { readBack?: unknown } | null)?.readBack as
    | { converged: boolean; waitedMs: number; regions: Record<string, Record<string, unknown>>; raced?: string }
    | undefined;
  if (!rb || typeof rb !== 'object' || !rb.regions) return [];
  const version = (answer as { version?: unknown }).version;
  const width = Math.max(...Object.keys(rb.regions).map((r) => r.length));
  const lines = [`read back from every region after ${rb.waitedMs} ms:`];
  for (const [region, v] of Object.entries(rb.regions)) {
    const what =
      'error' in v
        ? `unreadable (${v.error})`
        : `${v.state} v${v.version ?? '?'} ${v.updatedAt ?? ''}${v.updatedRegion ? ` from ${v.updatedRegion}` : ''}${v.version === version ? '' : ' (not this change yet)'}`;
    lines.push(`  ${region.padEnd(width)}  ${what}`);
  }
  if (rb.raced) lines.push(`RACED: ${rb.raced}`);
  else if (rb.converged) lines.push('every region shows the change');
  else lines.push('not every region shows the change yet (replication lag or an unreachable region): check GET /state in each region before relying on it');
  return lines;
}

/** Why the updater refused a change (`{ok: false, errorType, error}`), in one line; undefined when it did not. */
export function refusal(answer: unknown): string | undefined {
  const a = answer as { ok?: unknown; errorType?: unknown; error?: unknown } | null;
  if (a && typeof a === 'object' && a.ok === true) return undefined;
  if (a && typeof a === 'object' && typeof a.errorType === 'string') return `${a.errorType}: ${String(a.error ?? '')}`;
  return `not an answer of the state updater: ${JSON.stringify(answer)}`;
}

/** A change the updater made, but another region's change raced it (the read-back says RACED). */
export function raced(answer: unknown): boolean {
  return typeof (answer as { readBack?: { raced?: unknown } } | null)?.readBack?.raced === 'string';
}
