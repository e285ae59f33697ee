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
  /** `strong`: multi-Region strong consistency; getItem and listItems read strongly consistently. */
  consistency?: 'eventual' | 'strong';
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

/** esbuild's options for a resolver file (see the header); `settings` becomes the global `__SETTINGS__`. */
function resolverBuild(file: string, settings: unknown): string {
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

/**
 * The one statement through which a bundle holds its settings, as esbuild prints a `define`d object
 * (`var define_SETTINGS_default = { region: "…", … };`): printed by esbuild itself, so the text is the bundle's.
 */
const statements = new Map<string, string>();
function settingsStatement(settings: unknown): string {
  const json = JSON.stringify(settings);
  const known = statements.get(json);
  if (known !== undefined) return known;
  const code = esbuild.transformSync('export const s = __SETTINGS__;', { define: { __SETTINGS__: json }, target: 'es2020', format: 'esm', logLevel: 'silent' }).code;
  const line = code.split('\n').find((l) => l.startsWith('var ') && l.includes(' = {'));
  if (!line) throw new Error(`esbuild printed no settings statement for a define (got ${JSON.stringify(code)})`);
  statements.set(json, line);
  return line;
}

/** Stands in for the settings while a file is bundled once for every region (no region or table has this name). */
const PLACEHOLDER_SETTINGS = { region: '__settings_placeholder_of_bundleResolver__' };
const templates = new Map<string, { code: string; statement: string | null }>();

/**
 * Bundles one resolver or pipeline function file to the ESM source AppSync takes as `code`: the text a build with
 * `define: {__SETTINGS__: settings}` gives, byte for byte. The settings are the only part that differs between
 * regions, so each file is bundled once per process (with a placeholder) and each region's settings statement is put
 * in its place: a 16-region plan otherwise spends most of its own time in ~200 esbuild runs. A file whose bundle
 * does not hold the placeholder as one such statement is built directly.
 */
export function bundleResolver(file: string, settings: ResolverSettings): string {
  let template = templates.get(file);
  if (!template) {
    const code = resolverBuild(file, PLACEHOLDER_SETTINGS);
    const statement = settingsStatement(PLACEHOLDER_SETTINGS);
    const occurrences = code.split(PLACEHOLDER_SETTINGS.region).length - 1;
    template = { code, statement: occurrences === 0 ? '' : occurrences === 1 && code.includes(statement) ? statement : null };
    templates.set(file, template);
  }
  if (template.statement === '') return template.code; // the file reads no settings
  if (template.statement === null) return resolverBuild(file, settings);
  const statement = settingsStatement(settings);
  return template.code.replace(template.statement, () => statement);
}

/** A resolver bundled with esbuild for exactly these settings, one build per call (what bundleResolver must equal). */
export function buildResolverDirect(file: string, settings: ResolverSettings): string {
  return resolverBuild(file, settings);
}

/** Size in bytes of a bundled handler (for `npm run build`). */
export function handlerSize(name: HandlerName): number {
  return fs.statSync(path.join(DIST, 'handlers', name, 'index.js')).size;
}
