/**
 * `npm run plan -- --stack <name>`: what `pulumi up` would create for a stack, offline and without
 * credentials. Runs the real program (index.ts, real bundles) under Pulumi mocks (scripts/mockCloud.ts) with
 * config read from Pulumi.<stack>.yaml the way the CLI hands it over, then prints the resources region by
 * region (type and name), the totals and the stack outputs. A bad config prints every problem and exits 1.
 *
 *   npm run plan -- --stack prod [--json]
 */
import { parseArgs } from 'node:util';
import { ConfigError, readStackFile } from '../config';
import { bundledCode } from '../components/lambda';
import { type ProgramRun, type Recorded, runProgram } from './mockCloud';

const USAGE = 'usage: npm run plan -- [--stack <name>] [--json]   (default stack: dev; stacks are the Pulumi.<name>.yaml files)';

/** Region of a resource: its provider's region; providers carry their own; components have none. */
function regionOf(r: Recorded): string {
  if (r.type === 'pulumi:providers:aws') return String(r.inputs.region);
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
  return { stack, regions, components, total: run.resources.length, outputs: masked(run.outputs, run.secret) };
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

export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let stack: string;
  let json: boolean;
  try {
    const { values } = parseArgs({ args: argv, options: { stack: { type: 'string', short: 's', default: 'dev' }, json: { type: 'boolean', default: false } }, strict: true, allowPositionals: false });
    stack = values.stack ?? 'dev';
    json = values.json === true;
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const run = await runProgram(readStackFile(stack), stack, { code: bundledCode, now: new Date() });
    const plan = summarize(stack, run);
    if (json) out(JSON.stringify(plan, null, 2));
    else print(plan, out);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message);
      if (!e.problems.some((p) => p.key === '--stack')) err(`nothing was planned: fix Pulumi.${stack}.yaml (or \`pulumi config set\`) and run again`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
