/**
 * The Lambda bundles the emulator runs are the ones `npm run build` writes to dist/handlers (components/bundle.ts,
 * the same esbuild settings `pulumi up` deploys). At start they are rebuilt when missing or stale: older than any
 * source they could include (handlers/, schema/), than package-lock.json (the bundled SDK) or than the bundler.
 */
import { bundleHandlers, type HandlerName, staleHandlers } from '../components/bundle';

/** Rebuilds the stale bundles (in one esbuild run); returns the names rebuilt. */
export function ensureBundles(): HandlerName[] {
  const stale = staleHandlers();
  bundleHandlers(stale);
  return stale;
}
