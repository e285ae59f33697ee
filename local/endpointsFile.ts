/**
 * Files beside the emulator's endpoints file that its clients read: the emulator writes them (local/emulator.ts),
 * `npm run token -- --local` reads them (scripts/token.ts). No imports beyond node:path.
 */
import path from 'node:path';

/** The emulator's local token secret: beside its endpoints file. */
export function localSecretFile(endpointsFile: string): string {
  return path.join(path.dirname(endpointsFile), 'token-secret');
}
