/**
 * Reading the project's Markdown as GitHub shows it: the pages (README.md and docs/*.md), their links and images
 * (marked's lexer, so a link shown inside code is not a link), their headings' anchors as GitHub slugs them
 * (github-slugger: lower case, punctuation other than `-` and `_` dropped, each space a `-`, a repeated slug
 * suffixed `-1`, `-2`, ...; https://github.com/Flet/github-slugger/blob/master/index.js), and their fenced blocks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Lexer, type Token } from 'marked';

export const ROOT = path.resolve(__dirname, '..', '..');

/** The Markdown files whose links are checked: the README and every page of docs/. */
export function markdownPages(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort();
  return ['README.md', ...docs.map((f) => `docs/${f}`)];
}

function walk(tokens: Token[], visit: (t: Token) => void): void {
  for (const t of tokens) {
    visit(t);
    const nested = t as Token & { tokens?: Token[]; items?: Token[]; header?: Array<{ tokens: Token[] }>; rows?: Array<Array<{ tokens: Token[] }>> };
    if (nested.tokens) walk(nested.tokens, visit);
    if (nested.items) walk(nested.items, visit);
    if (nested.header) for (const cell of nested.header) walk(cell.tokens, visit);
    if (nested.rows) for (const row of nested.rows) for (const cell of row) walk(cell.tokens, visit);
  }
}

/** A heading's text as GitHub renders it: code spans keep their content, link text stays, markup goes. */
function plainText(tokens: Token[]): string {
  return tokens
    .map((t) => {
      const n = t as Token & { tokens?: Token[]; text?: string };
      if (n.tokens) return plainText(n.tokens);
      return n.type === 'html' ? '' : (n.text ?? '');
    })
    .join('');
}

const decode = (s: string): string => s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'");

/** The anchors GitHub gives a Markdown text's headings, in order (a repeated slug gets -1, -2, ...). */
export function headingSlugs(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const slugs = new Set<string>();
  walk(new Lexer().lex(markdown), (t) => {
    if (t.type !== 'heading') return;
    const base = decode(plainText((t as Token & { tokens: Token[] }).tokens)).toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  });
  return slugs;
}

/** Every link and image target of a Markdown text. */
export function linkTargets(markdown: string): string[] {
  const hrefs: string[] = [];
  walk(new Lexer().lex(markdown), (t) => {
    if (t.type === 'link' || t.type === 'image') hrefs.push((t as Token & { href: string }).href);
  });
  return hrefs;
}

/**
 * What is wrong with the relative links of `file` (a path under `root`), one line each: a target that does not
 * exist, or an anchor that is no heading of its target. Links with a scheme (https:, mailto:) are not followed.
 */
export function brokenLinks(root: string, file: string, markdown = fs.readFileSync(path.join(root, file), 'utf8')): string[] {
  const problems: string[] = [];
  const lines = markdown.split('\n');
  const where = (href: string): string => {
    const i = lines.findIndex((l) => l.includes(`(${href}`));
    return `${file}:${i + 1}`;
  };
  for (const href of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
    const [target, anchor] = href.split('#', 2) as [string, string | undefined];
    if (target === '') {
      if (!headingSlugs(markdown).has(decodeURIComponent(anchor ?? ''))) problems.push(`${where(href)}: ${href} — ${file} has no heading ${href}`);
      continue;
    }
    const resolved = path.resolve(path.dirname(path.join(root, file)), decodeURI(target));
    if (!fs.existsSync(resolved)) {
      problems.push(`${where(href)}: ${href} — no such file: ${path.relative(root, resolved)}`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!resolved.endsWith('.md')) {
      problems.push(`${where(href)}: ${href} — an anchor into a file that is not Markdown`);
      continue;
    }
    const slugs = headingSlugs(fs.readFileSync(resolved, 'utf8'));
    if (!slugs.has(decodeURIComponent(anchor))) {
      problems.push(`${where(href)}: ${href} — ${path.relative(root, resolved)} has no heading #${anchor} (its anchors: ${[...slugs].join(', ')})`);
    }
  }
  return problems;
}

/** A fenced code block of a page, with the `<!-- example:NAME -->` or `<!-- not-run: why -->` line above it. */
export interface FencedBlock {
  file: string;
  /** the line of the opening fence, 1-based */
  line: number;
  lang: string;
  text: string;
  example?: string;
  notRun?: string;
}

/** Every fenced block of a page (indented ones in lists too), with the marker on the last non-blank line before it. */
export function fencedBlocks(file: string, markdown = fs.readFileSync(path.join(ROOT, file), 'utf8')): FencedBlock[] {
  const lines = markdown.split('\n');
  const blocks: FencedBlock[] = [];
  let before = '';
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^(\s*)(`{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) {
      if (lines[i].trim() !== '') before = lines[i].trim();
      continue;
    }
    const [, indent, fence, lang] = open;
    const start = i;
    const body: string[] = [];
    while (i + 1 < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[i + 1])) body.push(lines[++i].slice(indent.length));
    i += 1;
    blocks.push({
      file,
      line: start + 1,
      lang,
      text: body.join('\n'),
      example: /^<!-- example:([\w-]+) -->$/.exec(before)?.[1],
      notRun: /^<!-- not-run: (.+\S) -->$/.exec(before)?.[1],
    });
    before = '';
  }
  return blocks;
}
