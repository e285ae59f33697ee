/**
 * One plan in a fresh process, for the plan-scaling series (./planScaling.ts): what `npm run plan -- --stack prod`
 * does (scripts/plan.ts: the real program under Pulumi mocks), with the prod stack's regions replaced by the
 * first N of the prod regions followed by every other supported region (config.ts SUPPORTED_REGIONS), the first
 * one home and primary. Prints one JSON line: {regions, resources, custom, loadMs, runMs}.
 *
 *   node --import tsx scripts/bench/planRun.ts <N | all>
 */
const started = performance.now();
import { readStackFile, SUPPORTED_REGIONS } from '../../config';
import { runProgram } from '../mockCloud';
import { summarize } from '../plan';

export function planRegions(n: number | 'all'): string[] {
  const prod = JSON.parse(readStackFile('prod')['global-appsync:regions']) as string[];
  const order = [...prod, ...SUPPORTED_REGIONS.filter((r) => !prod.includes(r))];
  return n === 'all' ? order : order.slice(0, n);
}

async function planOnce(arg: string): Promise<void> {
  const n = arg === 'all' ? 'all' : Number(arg);
  if (n !== 'all' && (!Number.isInteger(n) || n < 1 || n > SUPPORTED_REGIONS.length)) throw new Error(`planRun: regions must be 1-${SUPPORTED_REGIONS.length} or all, got ${JSON.stringify(arg)}`);
  const regions = planRegions(n);
  const config = { ...readStackFile('prod'), 'global-appsync:regions': JSON.stringify(regions), 'global-appsync:homeRegion': regions[0], 'global-appsync:primaryRegion': regions[0] };
  const loaded = performance.now();
  const run = await runProgram(config, 'prod');
  const plan = summarize('prod', run);
  const done = performance.now();
  process.stdout.write(`${JSON.stringify({ regions: regions.length, resources: plan.total, custom: plan.total - plan.components, loadMs: loaded - started, runMs: done - loaded })}\n`);
}

if (require.main === module) {
  planOnce(process.argv[2] ?? '').then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    }
  );
}
