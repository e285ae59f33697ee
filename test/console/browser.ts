/**
 * Headless Chromium for the console's browser tests: Debian's `chromium` package driven by playwright-core through
 * `executablePath` (playwright-core downloads no browser). Without it the tests fail with one line saying what to
 * install — not a silent skip: a run without the browser has not tested the console.
 */
import fs from 'node:fs';
import type { Browser } from 'playwright-core';

/** Where Debian (and Ubuntu's snap wrapper) put Chromium; CHROMIUM_PATH overrides. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/**
 * Flags for a sandbox-less CI container with no network: no GPU, no first-run UI, and none of Chromium's own
 * background traffic (component updates, sync, QUIC probing), which would otherwise flood a closed network with
 * refused connections.
 */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** An error mocha prints as its one line (no stack: the fix is an install, not a code path). */
class MissingBrowserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingBrowserError';
    this.stack = `${this.name}: ${message}`;
  }
}

export function chromiumExecutable(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.CHROMIUM_PATH ? [env.CHROMIUM_PATH] : CANDIDATES;
  const found = wanted.find((p) => fs.existsSync(p));
  if (!found) {
    throw new MissingBrowserError(`the console's browser tests need Chromium (looked for ${wanted.join(', ')}): apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  return found;
}

export async function launchChromium(executablePath: string = chromiumExecutable()): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}
