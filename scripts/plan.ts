/**
 * `npm run plan -- --stack <name>`: what `pulumi up` would create for a stack, offline and without
 * credentials. Runs the real program (index.ts, real bundles) under Pulumi mocks (scripts/mockCloud.ts) with
 * config read from Pulumi.<stack>.yaml the way the CLI hands it over, then prints the resources region by
 * region (type and name), the totals and the stack outputs. A bad config prints every problem and exits 1.
 *
 * With `--diff <stack file | git revision>[:<stack>]` it runs the program twice — the baseline config, then the
 * current one — and prints what the change would do (scripts/planDiff.ts): per region, what is created, updated
 * (changed inputs, secrets masked), replaced (why, and what data that destroys) and deleted.
 *
 *   npm run plan -- --stack prod [--json]
 *   npm run plan -- --stack prod --diff HEAD          # the working copy's Pulumi.prod.yaml against the last commit
 *   npm run plan -- --stack prod --diff old.yaml:prod # against a saved stack file
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, parseConfig, parseStackYaml, projectKeys, readStackFile, stackFileWarnings } from '../config';
import { formatRecovery, recoveryObjectives, writeLatencyNote } from '../components/recovery';
import { notifierConcurrencyWarning } from '../config/notifier';
import { roundTripMs } from '../local/latency';
import { bundledCode } from '../components/lambda';
import { cachedRun, type ProgramRun, type Recorded, runProgram } from './mockCloud';
import { addedRegionOrder, diffPlans, formatDiff, type PlanDiff } from './planDiff';
import { runMain } from './runMain';

const ROOT = path.resolve(__dirname, '..');

export const USAGE = `usage: npm run plan -- [--stack <name>] [--diff <stack file | git revision>[:<stack>] [--verbose]] [--json]

  What \`pulumi up\` would do for a stack, offline: the real program runs under Pulumi mocks, so no
  credentials, no backend and no AWS calls are needed, and nothing is deployed.

  --stack, -s <name>   the stack: Pulumi.<name>.yaml in the project directory (default: dev)
  --diff <baseline>    compare with a baseline config and print, per region, what would be created, updated
                       (changed inputs, secrets masked), replaced (why, and what data it destroys) and deleted.
                       <baseline> is a stack file (old.yaml) or a git revision (HEAD, main, HEAD~1) whose
                       Pulumi.<stack>.yaml is used; ":<stack>" names the baseline's stack when it differs.
                       The program's code is today's in both runs: the diff is what the CONFIG change does.
  --verbose            with --diff: every changed value in full (by default large values are summarised,
                       e.g. "+5 widgets for ap-northeast-1", and no line is longer than 200 characters)
  --json               the same as data
  --help, -h           this text

  Exit status: 0 planned, 1 config problems (each one printed), 2 bad arguments.`;

/**
 * Region of a resource: its provider's region; providers carry their own; components have none; resources of
 * other providers (random: apiKey mode's shared key value) belong to no region.
 */
function regionOf(r: Recorded): string {
  if (r.type === 'pulumi:providers:aws') return String(r.inputs.region);
  if (!r.type.startsWith('aws:') && r.custom) return '(stack-wide)';
  return r.region ?? '(components)';
}

function masked(outputs: Record<string, unknown>, secret: Record<string, boolean>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, secret[k] ? '[secret]' : v]));
}

export interface PlanSummary {
  stack: string;
  regions: Record<string, { count: number; resources: Array<{ type: string; name: string; protect: boolean }> }>;
  components: number;
  total: number;
  outputs: Record<string, unknown>;
}

export function summarize(stack: string, run: ProgramRun): PlanSummary {
  const regions: PlanSummary['regions'] = {};
  let components = 0;
  for (const r of run.resources) {
    if (!r.custom) {
      components += 1;
      continue;
    }
    const region = regionOf(r);
    regions[region] ??= { count: 0, resources: [] };
    regions[region].count += 1;
    regions[region].resources.push({ type: r.type, name: r.name, protect: r.protect });
  }
  for (const g of Object.values(regions)) g.resources.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  // the regions in the order the program registered them, then the groups that are no region: a stable print
  const ordered = Object.fromEntries([...Object.entries(regions).filter(([k]) => !k.startsWith('(')), ...Object.entries(regions).filter(([k]) => k.startsWith('('))]);
  return { stack, regions: ordered, components, total: run.resources.length, outputs: masked(run.outputs, run.secret) };
}

function print(plan: PlanSummary, out: (line: string) => void): void {
  out(`global-appsync plan for stack "${plan.stack}" — offline, under Pulumi mocks: nothing is deployed`);
  for (const [region, g] of Object.entries(plan.regions)) {
    out('');
    out(`── ${region}: ${g.count} resources`);
    const width = Math.max(...g.resources.map((r) => r.type.length));
    for (const r of g.resources) out(`   ${r.type.padEnd(width)}  ${r.name}${r.protect ? '  [protected]' : ''}`);
  }
  out('');
  out('── totals');
  for (const [region, g] of Object.entries(plan.regions)) out(`   ${region.padEnd(16)} ${String(g.count).padStart(4)} resources`);
  out(`   ${'components'.padEnd(16)} ${String(plan.components).padStart(4)}`);
  out(`   ${'total'.padEnd(16)} ${String(plan.total).padStart(4)} (what \`pulumi up\` would create, components included)`);
  out('');
  out('── outputs (values as the mocks compute them; real ids come from AWS)');
  out(JSON.stringify(plan.outputs, null, 2));
}

/** Where the baseline config of `--diff` comes from: a file, or a git revision's stack file. */
export function readBaseline(spec: string, stack: string, root: string = ROOT): { label: string; stack: string; config: Record<string, string> } {
  const at = spec.lastIndexOf(':');
  const [source, baseStack] = at > 0 && /^[A-Za-z0-9_.-]+$/.test(spec.slice(at + 1)) && !fs.existsSync(path.resolve(root, spec)) ? [spec.slice(0, at), spec.slice(at + 1)] : [spec, stack];
  const file = path.resolve(root, source);
  if (fs.existsSync(file) && fs.statSync(file).isFile()) return { label: source, stack: baseStack, config: parseStackYaml(fs.readFileSync(file, 'utf8'), source) };
  const blob = `${source}:Pulumi.${baseStack}.yaml`;
  let text: string;
  try {
    text = execFileSync('git', ['show', blob], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const why = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0];
    throw new BaselineError(`--diff ${spec}: not a file, and git has no ${blob} (${why})`);
  }
  return { label: blob, stack: baseStack, config: parseStackYaml(text, blob) };
}

export class BaselineError extends Error {}

/** Config keys whose value differs between two stack configs (qualified keys, raw values). */
export function configChanges(before: Record<string, string>, after: Record<string, string>): Array<{ key: string; before?: string; after?: string }> {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => before[k] !== after[k]).map((k) => ({ key: k, before: before[k], after: after[k] }));
}

export interface PlanDiffReport extends PlanDiff {
  stack: string;
  baseline: string;
  configChanges: ReturnType<typeof configChanges>;
  /** per region the change adds, one line: the order `pulumi up` brings it in, and what AWS says of fill time */
  regionsAdded?: string[];
}

/** `root`: the folder holding the Pulumi.<stack>.yaml files (default: the project; tests give a temporary one). */
export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error, root: string = ROOT): Promise<number> {
  let stack: string;
  let json: boolean;
  let diff: string | undefined;
  let verbose: boolean;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { stack: { type: 'string', short: 's', default: 'dev' }, json: { type: 'boolean', default: false }, diff: { type: 'string' }, verbose: { type: 'boolean', short: 'v', default: false }, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    stack = values.stack ?? 'dev';
    json = values.json === true;
    diff = values.diff;
    verbose = values.verbose === true;
    if (diff === '') throw new Error('--diff needs a stack file or a git revision');
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let phase = `Pulumi.${stack}.yaml`;
  try {
    const now = new Date();
    const current = readStackFile(stack, root);
    for (const w of stackFileWarnings(current, stack)) err(`warning: ${w}`);
    if (diff === undefined) {
      const plan = summarize(stack, await runProgram(current, stack, { code: bundledCode, now }));
      if (json) out(JSON.stringify(plan, null, 2));
      else {
        print(plan, out);
        printRecovery(current, stack, out);
        printWarnings(current, stack, out);
      }
      return 0;
    }
    const base = readBaseline(diff, stack, root);
    phase = `the baseline ${base.label}`;
    // both runs with the same fixed clock (API key expiry and the state item's time are ignored changes anyway);
    // memoised, so a process (the tests) that asks again for a config it already ran does not run it twice
    const before = await cachedRun(base.config, base.stack);
    phase = `Pulumi.${stack}.yaml`;
    const after = await cachedRun(current, stack);
    const planned = diffPlans(before, after);
    const report: PlanDiffReport = { stack, baseline: base.label, configChanges: configChanges(base.config, current), ...planned, regionsAdded: addedRegionOrder(planned, before, after) };
    if (json) out(JSON.stringify(report, null, 2));
    else printDiff(report, out, verbose);
    return 0;
  } catch (e) {
    if (e instanceof BaselineError) {
      err(e.message);
      return 2;
    }
    if (e instanceof ConfigError) {
      err(e.message);
      if (!e.problems.some((p) => p.key === '--stack')) err(`nothing was planned: fix ${phase} (or \`pulumi config set\`) and run again`);
      return 1;
    }
    throw e;
  }
}

export function printDiff(report: PlanDiffReport, out: (line: string) => void, verbose = false): void {
  out(`global-appsync plan for stack "${report.stack}" against ${report.baseline} — offline, under Pulumi mocks: nothing is deployed`);
  out('');
  out('── config changes');
  if (report.configChanges.length === 0) out('   none');
  for (const c of report.configChanges) out(`   ${c.key}: ${c.before ?? '(not set)'} → ${c.after ?? '(not set)'}`);
  for (const line of report.regionsAdded ?? []) out(`── region added, in this order: ${line}`);
  formatDiff(report, out, { verbose });
}

runMain(module, main);

// ---- RTO and RPO per failure, computed from the stack's config (components/recovery.ts) -----------------------

/** Appends the recovery objectives section to the plan (the config has already been validated by the run). */
export function printRecovery(current: Record<string, string>, stack: string, out: (line: string) => void): void {
  const cfg = parseConfig(projectKeys(current), { stack, aws: projectKeys(current, 'aws') });
  // consistency strong: a write waits for the nearest other MRSC region (replica or witness), one round trip
  const mrsc = [...cfg.regions, ...(cfg.witnessRegion ? [cfg.witnessRegion] : [])];
  const rtt = (a: string, b: string): number => {
    try {
      return roundTripMs(a, b);
    } catch {
      return Number.NaN; // no figure for this region in local/latency.ts: the note names the region without a number
    }
  };
  const nearest = (r: string): number => Math.min(...mrsc.filter((o) => o !== r).map((o) => rtt(r, o)));
  const writeRoundTripMs = cfg.consistency === 'strong' ? Object.fromEntries(cfg.regions.map((r) => [r, nearest(r)] as const).filter(([, ms]) => Number.isFinite(ms))) : {};
  const input = { ...cfg, writeRoundTripMs };
  out('');
  for (const line of formatRecovery(recoveryObjectives(input), cfg, writeLatencyNote(input))) out(line);
}

/** Settings the plan cannot prove wrong but that can fail at run time (the config has already been validated). */
export function printWarnings(current: Record<string, string>, stack: string, out: (line: string) => void): void {
  const cfg = parseConfig(projectKeys(current), { stack, aws: projectKeys(current, 'aws') });
  const warnings = [notifierConcurrencyWarning(cfg.reservedConcurrency, cfg.notifier)].filter((w): w is string => w !== undefined);
  if (warnings.length === 0) return;
  out('');
  out('── warnings');
  for (const w of warnings) out(`   ${w}`);
}
