/**
 * The import rule of docs/architecture.md ("Layers"), checked over every .ts file of the repository: each relative
 * import (static, `export ... from`, `require`, `import()`, `typeof import()` and type-only imports alike: a
 * type-only circle is still a circle a reader has to untangle) is read with the TypeScript compiler's own
 * pre-processor, resolved to a file, and judged by the directory it comes from and goes to.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
const SKIP = new Set(['node_modules', 'dist', '.git', '.local', '.emulator', 'coverage']);

/** The top-level directory of a repository-relative path, or `.` for the root's own files (index.ts). */
const dirOf = (rel: string): string => (rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '.');

/**
 * What each top-level directory may import besides itself (`.` = the root program, index.ts), as the table in
 * docs/architecture.md ("Layers"). Tests may import anything; a directory missing here is reported until it has a
 * line, so a new one cannot slip past the rule.
 */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  scripts: ['local', '.', 'components', 'config', 'handlers', 'schema'],
  local: ['components', 'config', 'handlers', 'schema'],
  '.': ['components', 'config', 'handlers', 'schema'],
  components: ['config', 'handlers', 'schema'],
  config: ['schema'],
  handlers: ['schema'],
  schema: [],
};

export interface Edge {
  from: string;
  to: string;
  spec: string;
}

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) tsFiles(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolve(fromFile: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(fromFile), spec);
  return [base, `${base}.ts`, path.join(base, 'index.ts'), `${base}.js`].find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
}

/** Every relative import of every .ts file under `root`, as repository-relative paths. */
export function importGraph(root: string = ROOT): Edge[] {
  const edges: Edge[] = [];
  for (const file of tsFiles(root)) {
    for (const { fileName: spec } of ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(file, spec);
      if (!target) throw new Error(`${path.relative(root, file)}: import ${JSON.stringify(spec)} resolves to no file`);
      edges.push({ from: path.relative(root, file).split(path.sep).join('/'), to: path.relative(root, target).split(path.sep).join('/'), spec });
    }
  }
  return edges;
}

/** The imports that break the layering rule, each as "from -> to (spec): the rule". */
export function layerViolations(edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const [from, to] = [dirOf(e.from), dirOf(e.to)];
    if (from === to || from === 'test') continue;
    const allowed = ALLOWED[from];
    const name = (d: string): string => (d === '.' ? 'the root (index.ts)' : `${d}/`);
    if (!allowed) out.push(`${e.from} -> ${e.to} (${e.spec}): ${name(from)} has no line in the layer table`);
    else if (!allowed.includes(to)) out.push(`${e.from} -> ${e.to} (${e.spec}): ${name(from)} may import ${allowed.map(name).join(', ') || 'nothing outside itself'}, not ${name(to)}`);
  }
  return out.sort();
}

/** Every import circle (strongly connected component of more than one file, or a file importing itself). */
export function importCircles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  // Tarjan's strongly connected components
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) circles.push(scc.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return circles;
}

describe('layering: imports point one way (docs/architecture.md, "Layers")', () => {
  const edges = importGraph();

  it('reads the real import graph (config/, components/, local/, scripts/ and test/ all import something)', () => {
    for (const dir of ['.', 'config', 'components', 'handlers', 'local', 'scripts', 'test']) {
      assert.ok(edges.some((e) => dirOf(e.from) === dir), `no import read from ${dir}/`);
    }
    assert.ok(edges.some((e) => e.from === 'index.ts' && e.to === 'config/index.ts'), 'index.ts -> config/index.ts not found');
  });

  it('every import follows the layer table: handlers/ never import components/, config/, local/ or scripts/; components/ never local/ or scripts/; config/ never components/; nothing but scripts/ and test/ imports scripts/', () => {
    assert.deepEqual(layerViolations(edges), []);
  });

  it('has no import circle', () => {
    assert.deepEqual(importCircles(edges), []);
  });

  it('the checks catch what they guard: a wrong import and a circle are reported', () => {
    const wrong: Edge[] = [
      { from: 'handlers/items.ts', to: 'config/index.ts', spec: '../config' },
      { from: 'components/waf.ts', to: 'local/drills.ts', spec: '../local/drills' },
      { from: 'config/index.ts', to: 'components/names.ts', spec: '../components/names' },
      { from: 'local/drills.ts', to: 'scripts/state.ts', spec: '../scripts/state' },
      { from: 'index.ts', to: 'scripts/plan.ts', spec: './scripts/plan' },
      { from: 'test/unit/x.test.ts', to: 'scripts/plan.ts', spec: '../../scripts/plan' },
      { from: 'scripts/plan.ts', to: 'local/start.ts', spec: '../local/start' },
      { from: 'tools/x.ts', to: 'config/index.ts', spec: '../config' },
    ];
    assert.deepEqual(layerViolations(wrong), [
      'components/waf.ts -> local/drills.ts (../local/drills): components/ may import config/, handlers/, schema/, not local/',
      'config/index.ts -> components/names.ts (../components/names): config/ may import schema/, not components/',
      'handlers/items.ts -> config/index.ts (../config): handlers/ may import schema/, not config/',
      'index.ts -> scripts/plan.ts (./scripts/plan): the root (index.ts) may import components/, config/, handlers/, schema/, not scripts/',
      'local/drills.ts -> scripts/state.ts (../scripts/state): local/ may import components/, config/, handlers/, schema/, not scripts/',
      'tools/x.ts -> config/index.ts (../config): tools/ has no line in the layer table',
    ]);
    const circle: Edge[] = [
      { from: 'config/index.ts', to: 'config/notifier.ts', spec: './notifier' },
      { from: 'config/notifier.ts', to: 'config/index.ts', spec: '.' },
      { from: 'config/notifier.ts', to: 'config/problems.ts', spec: './problems' },
    ];
    assert.deepEqual(importCircles(circle), [['config/index.ts', 'config/notifier.ts']]);
  });
});
