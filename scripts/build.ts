/**
 * `npm run build`: writes one bundle per Lambda handler (dist/handlers/<name>/index.js) and one per resolver
 * file (dist/resolvers/<file>.js, with a stack's first region's settings baked in) and prints their sizes.
 * `pulumi up` bundles the same way by itself (components/bundle.ts); this is for looking at what ships. Handler
 * bundles include the AWS SDK clients they use; the notifier's must stay within 150 KiB. It refuses
 * (exit 1) a resolver bundle AppSync would refuse: over the 32 KB code limit, or using a construct the APPSYNC_JS
 * runtime does not support (local/appsync/runtimeCheck.ts, checked on the bundles as built).
 *   npm run build [-- --stack dev]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, parseConfig, projectKeys, readStackFile } from '../config';
import { bundleHandler, bundleResolver, DIST, HANDLER_NAMES, handlerSize } from '../components/bundle';
import { assertResolverBundles } from '../local/appsync/runtimeCheck';
import { resolverFiles } from '../schema/resolvers/manifest';

/** AppSync's limit on a resolver's or function's code (Service Quotas: "Code size", 32 KB). */
export const APPSYNC_CODE_LIMIT = 32 * 1024;
/**
 * The notifier's own budget: it starts on every stream batch, so its cold start stays small — it signs
 * with @smithy/signature-v4 and reads env credentials instead of bundling SDK clients (handlers/lib/deadLetter.ts).
 */
export const NOTIFIER_BUNDLE_LIMIT = 150 * 1024;

export const USAGE = `usage: npm run build [-- --stack <name>]

  Writes every Lambda bundle (dist/handlers/<name>/index.js) and every resolver bundle (dist/resolvers/<file>.js,
  built with the stack's first region, primaryRegion and writeMode) and prints their sizes. Refuses a resolver
  bundle over AppSync's 32 KB code limit or using what the APPSYNC_JS runtime does not support.

  --stack, -s <name>   the stack whose settings the resolvers are built with (default: dev)
  --help, -h           this text

  Exit status: 0 built, 1 config problems or a bundle AppSync would refuse, 2 bad arguments.`;

/** `bundle` makes each resolver's bundle (tests pass one that wraps the real one). */
export function main(
  argv: string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
  bundle: typeof bundleResolver = bundleResolver,
): number {
  let stack: string;
  try {
    const { values } = parseArgs({ args: argv, options: { stack: { type: 'string', short: 's', default: 'dev' }, help: { type: 'boolean', short: 'h', default: false } }, strict: true, allowPositionals: false });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    stack = values.stack ?? 'dev';
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const all = readStackFile(stack);
    const cfg = parseConfig(projectKeys(all), { stack, aws: projectKeys(all, 'aws'), all });
    const rows: Array<[string, number]> = [];
    for (const name of HANDLER_NAMES) {
      bundleHandler(name);
      rows.push([`dist/handlers/${name}/index.js`, handlerSize(name)]);
      if (name === 'notifier' && handlerSize(name) > NOTIFIER_BUNDLE_LIMIT) {
        throw new Error(`notifier: bundle is ${handlerSize(name)} bytes, over its ${NOTIFIER_BUNDLE_LIMIT}-byte budget (something pulled in an SDK client?)`);
      }
    }
    const settings = { region: cfg.regions[0], primaryRegion: cfg.primaryRegion, writeMode: cfg.writeMode };
    fs.mkdirSync(path.join(DIST, 'resolvers'), { recursive: true });
    for (const file of resolverFiles()) {
      const code = bundle(file, settings);
      const dest = path.join(DIST, 'resolvers', `${file}.js`);
      fs.writeFileSync(dest, code);
      if (Buffer.byteLength(code) > APPSYNC_CODE_LIMIT) {
        throw new Error(`${file}: bundled resolver is ${Buffer.byteLength(code)} bytes, over AppSync's ${APPSYNC_CODE_LIMIT}-byte code limit`);
      }
      rows.push([path.relative(path.dirname(DIST), dest), Buffer.byteLength(code)]);
    }
    // the bundles as built, with this stack's settings: what `pulumi up` would upload
    assertResolverBundles([settings], bundle);
    const width = Math.max(...rows.map(([n]) => n.length));
    for (const [name, size] of rows) out(`${name.padEnd(width)}  ${(size / 1024).toFixed(1).padStart(7)} KiB`);
    out(`${rows.length} bundles, ${(rows.reduce((s, [, n]) => s + n, 0) / 1024).toFixed(1)} KiB in all (resolvers built for ${stack}/${settings.region}; APPSYNC_JS runtime check passed)`);
    return 0;
  } catch (e) {
    err(e instanceof ConfigError ? e.message : `build refused: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
