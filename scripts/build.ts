/**
 * `npm run build`: writes one bundle per Lambda handler (dist/handlers/<name>/index.js) and one per resolver
 * file (dist/resolvers/<file>.js, with a stack's first region's settings baked in) and prints their sizes.
 * `pulumi up` bundles the same way by itself (components/bundle.ts); this is for looking at what ships.
 *   npm run build [-- --stack dev]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig, projectKeys, readStackFile } from '../config';
import { bundleHandler, bundleResolver, DIST, HANDLER_NAMES, handlerSize } from '../components/bundle';
import { resolverFiles } from '../schema/resolvers/manifest';

/** AppSync's limit on a resolver's or function's code (Service Quotas: "Code size", 32 KB). */
export const APPSYNC_CODE_LIMIT = 32 * 1024;

function main(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { stack: { type: 'string', default: 'dev' } } });
  const stack = values.stack ?? 'dev';
  const cfg = parseConfig(projectKeys(readStackFile(stack)), { stack });
  const rows: Array<[string, number]> = [];
  for (const name of HANDLER_NAMES) {
    bundleHandler(name);
    rows.push([`dist/handlers/${name}/index.js`, handlerSize(name)]);
  }
  const settings = { region: cfg.regions[0], primaryRegion: cfg.primaryRegion, writeMode: cfg.writeMode };
  fs.mkdirSync(path.join(DIST, 'resolvers'), { recursive: true });
  for (const file of resolverFiles()) {
    const code = bundleResolver(file, settings);
    const out = path.join(DIST, 'resolvers', `${file}.js`);
    fs.writeFileSync(out, code);
    if (Buffer.byteLength(code) > APPSYNC_CODE_LIMIT) {
      throw new Error(`${file}: bundled resolver is ${Buffer.byteLength(code)} bytes, over AppSync's ${APPSYNC_CODE_LIMIT}-byte code limit`);
    }
    rows.push([path.relative(path.dirname(DIST), out), Buffer.byteLength(code)]);
  }
  const width = Math.max(...rows.map(([n]) => n.length));
  for (const [name, size] of rows) console.log(`${name.padEnd(width)}  ${(size / 1024).toFixed(1).padStart(7)} KiB`);
  console.log(`${rows.length} bundles, ${(rows.reduce((s, [, n]) => s + n, 0) / 1024).toFixed(1)} KiB in all (resolvers built for ${stack}/${settings.region})`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
