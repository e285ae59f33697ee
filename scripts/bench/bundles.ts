/**
 * Series 7, bundles: the size of each handler bundle (dist/handlers/<name>/index.js, what `pulumi up` zips) and
 * its module init time in a fresh Node process — require() of the bundle, what a cold start pays before the
 * handler runs — 5 fresh processes per bundle (2 with `--quick`).
 *
 * Target: the notifier bundle ≤ 150 KiB (scripts/build.ts NOTIFIER_BUNDLE_LIMIT, which `npm run build` enforces).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { bundleHandler, HANDLER_NAMES, handlerSize } from '../../components/bundle';
import { NOTIFIER_BUNDLE_LIMIT } from '../build';
import { type Row, type Series, stats } from './series';

/** Prints the milliseconds require(argv[1]) took, in a process that loaded nothing else. */
const INIT_PROBE = `const t = process.hrtime.bigint(); require(process.argv[1]); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;

function initMs(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // the environment Lambda gives every function (no credentials are used at init)
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'bench',
      NODE_ENV: 'production',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    execFile(process.execPath, ['-e', INIT_PROBE, file], { env }, (err, stdout, stderr) => (err ? reject(new Error(`${file}: ${stderr || err.message}`)) : resolve(Number(stdout))));
  });
}

export function bundlesSeries(): Series {
  return {
    id: 7,
    key: 'bundles',
    name: 'Bundles',
    async finish(ctx) {
      const rows: Row[] = [];
      for (const name of HANDLER_NAMES) {
        const file = path.join(bundleHandler(name), 'index.js');
        const samples: number[] = [];
        for (let i = 0; i < (ctx.quick ? 2 : 5); i += 1) samples.push(await initMs(file));
        const s = stats(samples);
        const bytes = handlerSize(name);
        const row: Row = {
          case: `${name}: module init in a fresh process`,
          unit: 'ms',
          stats: { count: s.count, p50: Math.round(s.p50), p95: Math.round(s.p95), p99: Math.round(s.p99), max: Math.round(s.max) },
          figure: { label: 'size', value: Math.round((bytes / 1024) * 10) / 10, unit: 'KiB' },
          detail: { bytes },
        };
        if (name === 'notifier') {
          row.target = { text: `≤ ${NOTIFIER_BUNDLE_LIMIT / 1024} KiB`, met: bytes <= NOTIFIER_BUNDLE_LIMIT };
          if (!row.target.met) {
            row.why = `${Math.round(bytes / 1024)} KiB: something pulled an SDK client into the notifier`;
            row.fix = 'sign its calls with @smithy/signature-v4 instead of bundling SDK clients (npm run build names the limit)';
          }
        }
        rows.push(row);
      }
      return { available: true, rows };
    },
  };
}
