/**
 * esbuild bundling, shared by the components (what `pulumi up` deploys), `npm run build` and the local
 * emulator, so all three run the very same code.
 *
 * - Handlers: handlers/<name>.ts → dist/handlers/<name>/index.js, CommonJS for nodejs22.x on arm64, with the
 *   AWS SDK v3 left to the Lambda runtime (external), one self-contained file per function.
 * - Resolvers: schema/resolvers/<file>.ts → one ESM module as AppSync's APPSYNC_JS runtime accepts it
 *   (no external imports but @aws-appsync/utils, which AppSync provides), with the region's settings inlined.
 */
import esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
export const DIST = path.join(ROOT, 'dist');

/** Every Lambda function's handler file (handlers/<name>.ts). */
export const HANDLER_NAMES = ['items', 'health', 'state', 'stateUpdater', 'notifier'] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

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

/** Bundles one handler and returns the folder holding its index.js (the Lambda code archive's root). */
export function bundleHandler(name: HandlerName): string {
  const outdir = path.join(DIST, 'handlers', name);
  esbuild.buildSync({
    entryPoints: [path.join(ROOT, 'handlers', `${name}.ts`)],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // Prefer the packages' ES module builds so esbuild can drop what a handler does not use (the @smithy
    // packages ship both; their CommonJS builds are one file each and would come in whole).
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return outdir;
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
