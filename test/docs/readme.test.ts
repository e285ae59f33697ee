/**
 * The README stays a page a newcomer reads on a screen or two — what it is, the two commands, prerequisites,
 * "Try it" and a table of the docs — and every page of docs/ is reachable from it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { linkTargets, ROOT } from './markdown';

const MAX_LINES = 250;

describe('README.md: short, and the way into docs/', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

  it(`has at most ${MAX_LINES} lines`, () => {
    const lines = readme.replace(/\n$/, '').split('\n').length;
    assert.ok(lines <= MAX_LINES, `README.md has ${lines} lines; move the depth to a page of docs/`);
  });

  it('links every page of docs/', () => {
    const linked = new Set(linkTargets(readme).map((href) => path.normalize(href.split('#')[0])));
    const pages = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f));
    assert.ok(pages.length >= 2, 'docs/ has pages');
    assert.deepEqual(pages.filter((p) => !linked.has(p)), [], 'pages of docs/ the README does not link');
  });
});
