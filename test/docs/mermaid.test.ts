/**
 * Every ```mermaid block in the repository's Markdown parses with Mermaid's own parser (the `mermaid` package, the
 * version GitHub-style renderers run), so a diagram never reaches readers as a parse error. Mermaid needs a DOM
 * for its label sanitizer (DOMPurify): happy-dom provides one while the blocks are parsed, and is removed after.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SKIP = new Set(['node_modules', '.git', '.local', 'dist', '.emulator', '.pulumi']);

interface Block {
  file: string;
  line: number;
  source: string;
}

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name) || e.name.startsWith('.probe')) return [];
    const p = path.join(dir, e.name);
    return e.isDirectory() ? markdownFiles(p) : e.name.endsWith('.md') ? [p] : [];
  });
}

export function mermaidBlocks(file: string): Block[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (!/^\s*```mermaid\s*$/.test(lines[i])) continue;
    const start = i + 1;
    while (i + 1 < lines.length && !/^\s*```\s*$/.test(lines[i + 1])) i += 1;
    blocks.push({ file: path.relative(ROOT, file), line: start + 1, source: lines.slice(start, i + 1).join('\n') });
    i += 1;
  }
  return blocks;
}

type Mermaid = { parse(text: string): Promise<unknown> };
// a real ESM import() (mermaid is ESM-only); TypeScript's CommonJS output would turn import() into require()
const esmImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<{ default: unknown }>;

describe('Mermaid diagrams in the Markdown', function () {
  this.timeout(60_000);
  const blocks = markdownFiles(ROOT).flatMap(mermaidBlocks);
  let mermaid: Mermaid;
  let close: () => Promise<void> = async () => undefined;
  const globals = globalThis as { window?: unknown; document?: unknown };

  before(async () => {
    const { Window } = (await esmImport('happy-dom')) as unknown as { Window: new () => { document: unknown; happyDOM: { close(): Promise<void> } } };
    const window = new Window();
    globals.window = window;
    globals.document = window.document;
    close = () => window.happyDOM.close();
    mermaid = (await esmImport('mermaid')).default as Mermaid;
  });

  after(async () => {
    delete globals.window;
    delete globals.document;
    await close();
  });

  it('finds the diagrams (the README has the architecture one)', () => {
    assert.ok(blocks.some((b) => b.file === 'README.md'), `blocks found: ${blocks.map((b) => `${b.file}:${b.line}`).join(', ')}`);
  });

  it('the parser refuses what GitHub would show as an error (a bare {id} in a node label)', async () => {
    await assert.rejects(mermaid.parse('flowchart TB\n  a[API Gateway /items/{id}] --> b'), /got 'DIAMOND_START'/);
  });

  for (const b of blocks) {
    it(`${b.file}:${b.line} parses`, async () => {
      try {
        await mermaid.parse(b.source);
      } catch (e) {
        assert.fail(`${b.file}:${b.line}: ${(e as Error).message}`);
      }
    });
  }
});
