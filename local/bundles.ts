/**
 * The Lambda bundles the emulator runs are the ones `npm run build` writes to dist/handlers (components/bundle.ts,
 * the same esbuild settings `pulumi up` deploys). At start they are rebuilt when missing or stale: older than any
 * source they could include (handlers/, schema/) or than package-lock.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleHandler, DIST, HANDLER_NAMES, ROOT, type HandlerName } from '../components/bundle';

const SOURCES = ['handlers', 'schema'].map((d) => path.join(ROOT, d));

function newestSource(): number {
  let newest = fs.statSync(path.join(ROOT, 'package-lock.json')).mtimeMs;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|json|graphql)$/.test(e.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  SOURCES.forEach(walk);
  return newest;
}

/** Rebuilds the stale bundles; returns the names rebuilt. */
export function ensureBundles(): HandlerName[] {
  const newest = newestSource();
  const rebuilt: HandlerName[] = [];
  for (const name of HANDLER_NAMES) {
    const file = path.join(DIST, 'handlers', name, 'index.js');
    if (!fs.existsSync(file) || fs.statSync(file).mtimeMs < newest) {
      bundleHandler(name);
      rebuilt.push(name);
    }
  }
  return rebuilt;
}
