/**
 * Series 2, writes: writes/s per region through REST and GraphQL at 1, 8, 32 and 64 writers, with conflicts and
 * throttles, against DynamoDB Local's raw PutItem rate. Its measurement belongs to the writes work
 * (scripts/bench-writes.ts); until that is in this revision the series says so, and reports no number.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Series } from './series';

export const WRITES_MODULE = path.join(__dirname, '..', 'bench-writes.ts');

export function writesSeries(): Series {
  return {
    id: 2,
    key: 'writes',
    name: 'Writes',
    async finish() {
      if (!fs.existsSync(WRITES_MODULE)) return { available: false, reason: 'not available in this revision: the writes measurement (scripts/bench-writes.ts) is not in this tree', rows: [] };
      return { available: false, reason: 'scripts/bench-writes.ts is in this tree but not yet wired into the runner (scripts/bench/writes.ts)', rows: [] };
    },
  };
}
