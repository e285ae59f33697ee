/**
 * esbuild bundling, shared by the components (what `pulumi up` deploys), `npm run build` and the local
 * emulator, so all three run the very same code.
 *
 * - Handlers: handlers/<name>.ts → dist/handlers/<name>/index.js, CommonJS for nodejs22.x on arm64, one
 *   self-contained file per function, the AWS SDK v3 clients it uses INCLUDED: production runs the SDK version
 *   package-lock.json pins and the tests ran, not whatever the Lambda runtime ships that month (with its own retry
 *   and timeout defaults). Not minified, so stack traces stay readable; sizes: `npm run build`.
 * - Resolvers: schema/resolvers/<file>.ts → one ESM module as AppSync's APPSYNC_JS runtime accepts it
 *   (no external imports but @aws-appsync/utils, which AppSync provides), with the region's settings inlined.
 */
import esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
export const DIST = path.join(ROOT, 'dist');

/** Every Lambda function's handler file (handlers/<name>.ts). */
export const HANDLER_NAMES = ['items', 'health', 'state', 'stateUpdater', 'notifier', 'authorizer'] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];
/**
 * Deploy-time helpers (handlers/<name>.ts too): functions `pulumi up` itself invokes, never the app or the emulator,
 * and only in some stacks (streamEnabler: MRSC replicas, components/replicaStream.ts; regionReady: routed regions with a
 * domain, components/regionReady.ts). Bundled on demand, not by
 * `npm run build`, and they take no app environment (components/lambdaEnv.ts covers HANDLER_NAMES only).
 */
export const DEPLOY_HELPER_NAMES = ['streamEnabler', 'regionReady'] as const;
export type DeployHelperName = (typeof DEPLOY_HELPER_NAMES)[number];
export type BundleName = HandlerName | DeployHelperName;

/** Deploy-time settings a resolver sees as the global `__SETTINGS__` (AppSync JS resolvers have no env). */
export interface ResolverSettings {
  region: string;
  primaryRegion: string;
  writeMode: 'multi-master' | 'primary';
  /** `strong`: reads are strongly consistent and writes skip TransactWriteItems (MRSC tables have no transactions). */
  consistency?: 'eventual' | 'strong';
  /**
   * The items and app-config table names (the same in every region: global tables). TransactWriteItems names its
   * tables, so the write functions need them; the local runner fills them from its data sources when absent.
   */
  itemsTable?: string;
  appConfigTable?: string;
}

/** What a handler bundle can include: every handler and schema source, the lock file (SDK versions), this file (settings). */
const SOURCES = ['handlers', 'schema'].map((d) => path.join(ROOT, d));

/** mtime (ms) of the newest file a handler bundle is built from. */
export function newestSource(): number {
  let newest = Math.max(fs.statSync(path.join(ROOT, 'package-lock.json')).mtimeMs, fs.statSync(__filename).mtimeMs);
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|json|graphql)$/.test(e.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  SOURCES.forEach(walk);
  return newest;
}

const bundlePath = (name: BundleName): string => path.join(DIST, 'handlers', name, 'index.js');

/** The handlers whose bundle is missing or older than a source it could include. */
export function staleHandlers<N extends BundleName = HandlerName>(names: readonly N[] = HANDLER_NAMES as readonly BundleName[] as readonly N[]): N[] {
  const newest = newestSource();
  return names.filter((n) => !fs.existsSync(bundlePath(n)) || fs.statSync(bundlePath(n)).mtimeMs < newest);
}

/**
 * Bundles the given handlers in ONE esbuild run (the SDK modules they share are parsed once: ~4 s for all five
 * instead of ~2 s each) to dist/handlers/<name>/index.js.
 */
export function bundleHandlers(names: readonly BundleName[] = HANDLER_NAMES): void {
  if (names.length === 0) return;
  esbuild.buildSync({
    entryPoints: Object.fromEntries(names.map((n) => [`${n}/index`, path.join(ROOT, 'handlers', `${n}.ts`)])),
    outdir: path.join(DIST, 'handlers'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // Prefer the packages' ES module builds so esbuild can drop what a handler does not use (the @aws-sdk and
    // @smithy packages ship both; their CommonJS builds are one file each and would come in whole).
    mainFields: ['module', 'main'],
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
}

/**
 * The folder holding one handler's index.js (the Lambda code archive's root), bundled first if missing or stale
 * (every stale handler at once, see bundleHandlers).
 */
export function bundleHandler(name: BundleName): string {
  // a deploy helper is bundled alone: most stacks never deploy it
  const stale = staleHandlers((HANDLER_NAMES as readonly string[]).includes(name) ? HANDLER_NAMES : [name]);
  if (stale.includes(name)) bundleHandlers(stale);
  return path.dirname(bundlePath(name));
}

/** Bundles one resolver or pipeline function file to the ESM source AppSync takes as `code`. */
export function bundleResolver(file: string, settings: ResolverSettings): string {
  const result = esbuild.buildSync({
    entryPoints: [path.join(ROOT, 'schema', 'resolvers', `${file}.ts`)],
    bundle: true,
    write: false,
    platform: 'neutral',
    target: 'es2020',
    format: 'esm',
    external: ['@aws-appsync/utils'],
    define: { __SETTINGS__: JSON.stringify(settings) },
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** Size in bytes of a bundled handler (for `npm run build`). */
export function handlerSize(name: HandlerName): number {
  return fs.statSync(path.join(DIST, 'handlers', name, 'index.js')).size;
}
