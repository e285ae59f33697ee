/**
 * The mutation list of `npm run test:mutants` (scripts/mutants.ts) stays true to the code: every `find` occurs
 * exactly once in its file and every test file exists, so a change to a guarded line shows up here, in the normal
 * test run, instead of the mutation silently no longer applying. The mutations themselves run only in test:mutants.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MUTATIONS, staleMutations } from '../../scripts/mutants';

describe('mutation list (npm run test:mutants)', () => {
  it('matches the code: each find once in its file, its test files present, ids unique', () => {
    assert.deepEqual(staleMutations(MUTATIONS), []);
    assert.ok(MUTATIONS.length >= 14, `${MUTATIONS.length} mutations`);
    for (const dir of ['components/', 'handlers/', 'schema/', 'local/']) assert.ok(MUTATIONS.some((m) => m.file.startsWith(dir)), `a mutation in ${dir}`);
  });

  it('names each way an entry can go stale', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ga-mutants-'));
    try {
      fs.writeFileSync(path.join(root, 'a.ts'), 'x = 1;\ny = 1;\ny = 1;\n');
      fs.writeFileSync(path.join(root, 'a.test.ts'), '');
      const m = { id: 'm', file: 'a.ts', find: 'x = 1;', replace: 'x = 2;', tests: ['a.test.ts'], why: 'x is 1' };
      assert.deepEqual(staleMutations([m], root), []);
      assert.deepEqual(
        staleMutations([{ ...m, find: 'z = 1;' }, { ...m, id: 'n', find: 'y = 1;' }, { ...m, id: 'o', file: 'gone.ts' }, { ...m, id: 'p', tests: ['gone.test.ts'] }, { ...m, id: 'p' }], root),
        [
          'm: "z = 1;" occurs 0 times in a.ts (must be exactly once)',
          'n: "y = 1;" occurs 2 times in a.ts (must be exactly once)',
          'o: gone.ts does not exist',
          'p: test file gone.test.ts does not exist',
          'p: the id is used twice',
        ],
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
