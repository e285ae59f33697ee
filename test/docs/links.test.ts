/**
 * Every relative link in README.md and docs/*.md leads somewhere: its file (or folder) exists, and its `#anchor`
 * names a heading of the target Markdown file as GitHub slugs it (test/docs/markdown.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brokenLinks, headingSlugs, markdownPages, ROOT } from './markdown';

describe('relative links in README.md and docs/', () => {
  it('GitHub slugs headings as its pages do', () => {
    const slugs = headingSlugs('# Benchmarks: `npm run bench`\n\n## `auth.mode: apiKey` (the default)\n\n## `aws:*` settings\n\n## Keys\n\n## Keys\n\n## Drills in AWS (FIS)\n');
    assert.deepEqual([...slugs], ['benchmarks-npm-run-bench', 'authmode-apikey-the-default', 'aws-settings', 'keys', 'keys-1', 'drills-in-aws-fis']);
  });

  it('finds a missing file, a missing anchor and an anchor into a missing heading of the same page, and passes good links', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ga-links-'));
    try {
      fs.mkdirSync(path.join(root, 'docs'));
      fs.writeFileSync(path.join(root, 'docs', 'a.md'), '# A\n\n## Try it\n');
      const page = [
        '# Top', '',
        '[ok](docs/a.md) [ok anchor](docs/a.md#try-it) [ok here](#top) [web](https://example.com/x#y)', '',
        '[gone](docs/b.md) [bad anchor](docs/a.md#try-that) [bad here](#bottom)', '',
        '```', '[in code](nowhere.md)', '```',
      ].join('\n');
      const problems = brokenLinks(root, 'README.md', page);
      assert.equal(problems.length, 3, problems.join('\n'));
      assert.match(problems[0], /^README\.md:5: docs\/b\.md — no such file: docs\/b\.md$/);
      assert.match(problems[1], /^README\.md:5: docs\/a\.md#try-that — docs\/a\.md has no heading #try-that \(its anchors: a, try-it\)$/);
      assert.match(problems[2], /^README\.md:5: #bottom — README\.md has no heading #bottom/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  for (const file of markdownPages()) {
    it(`${file}: every relative link and anchor leads somewhere`, () => {
      assert.deepEqual(brokenLinks(ROOT, file), []);
    });
  }
});
