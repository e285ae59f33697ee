/**
 * The runnable examples the README points to (examples/*.mjs) are linted like the rest of the project: not ignored
 * by eslint.config.mjs, and clean — `npm run lint` covers them, so an example never teaches a fault. That each one
 * works is test/e2e/readme.test.ts's part (it runs them against the emulator).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '..', '..');

describe('examples/', function () {
  this.timeout(60_000);

  it('every example is linted by the project\'s ESLint config, and passes', async () => {
    const dir = path.join(ROOT, 'examples');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.mjs')).map((f) => path.join(dir, f));
    assert.ok(files.some((f) => f.endsWith('subscribe.mjs')), 'the subscription example is shipped');
    const eslint = new ESLint({ cwd: ROOT });
    for (const f of files) assert.equal(await eslint.isPathIgnored(f), false, `${f} is linted`);
    const results = await eslint.lintFiles(files);
    assert.deepEqual(results.flatMap((r) => r.messages.map((m) => `${path.relative(ROOT, r.filePath)}:${m.line} ${m.ruleId}: ${m.message}`)), []);
  });
});
