/**
 * The APPSYNC_JS realm: a `node:vm` context holding ONLY what AWS's "Supported runtime features" page lists
 * (https://docs.aws.amazon.com/appsync/latest/devguide/supported-features.html, as data in ./runtimeFeatures.ts),
 * in which the runner (./runner.ts) evaluates the bundled resolvers. So a resolver that calls `String(x)`,
 * `Number(x)`, `new Date()`, `'abc'.includes('a')` or `[1].includes(1)` fails here as it would in AppSync, instead
 * of quietly working in Node.
 *
 * - globals: NaN, Infinity, undefined, util, extensions, runtime, and Object/String/Number/Math/JSON/console as
 *   plain namespaces with only their listed functions (so `String(x)` is "not a function"). Everything else
 *   (Array, Date, RegExp, Error, Promise, Symbol, parseInt, globalThis, eval...) is gone; code generation from
 *   strings is off.
 * - prototypes: String.prototype and Array.prototype keep only the listed methods; Number/Boolean.prototype keep
 *   none; Function.prototype loses apply/bind/call ("not supported"); Object.prototype keeps only what the
 *   language itself needs (toString/valueOf, used by template literals). Symbol-keyed members (iteration) stay.
 * - documented quirks: JSON.parse "returns a blank string if the parsed string is not valid JSON";
 *   "Array.prototype.sort() doesn't support arguments" (throws here); String.prototype.replace/replaceAll read a
 *   string pattern as a regular expression (as AppSync does, ./runtimeFeatures.ts REGEX_PATTERN_METHODS), so
 *   `'a.b'.replace('.', '-')` is '-.b' here as there. Strict mode always.
 * - values crossing in (ctx, data source results) are rebuilt in this realm (`toSandbox`), so their arrays and
 *   objects have the pruned prototypes too; util/runtime calls get host copies of their arguments and hand back
 *   sandbox values.
 * - modules: the ESM bundle's `import {…} from '@aws-appsync/utils'` and `export {…}` (the only forms esbuild emits)
 *   are rewritten into a function of the utils module returning the exports, keeping every line where it was.
 */
import ts from 'typescript';
import vm from 'node:vm';
import { ARRAY_METHODS, GLOBAL_MEMBERS, STRING_METHODS, UTIL_GLOBALS, UTILS_MODULE } from './runtimeFeatures';

export interface SandboxModule {
  request?: (ctx: unknown) => unknown;
  response?: (ctx: unknown) => unknown;
}

export interface Sandbox {
  /** A JSON value rebuilt in the sandbox realm (undefined stays undefined). */
  toSandbox<T>(value: T): T;
  /** Evaluates a resolver bundle (ESM) and returns its exports; `utils` is what '@aws-appsync/utils' gives. */
  evaluate(esm: string, filename: string, utils: Record<string, object>, resolveImport: (id: string) => void): SandboxModule;
}

// Runs inside the context, before any resolver code: builds the namespaces and prunes the realm.
const SETUP = `(function setup(members, stringMethods, arrayMethods, utilGlobals) {
  'use strict';
  const g = globalThis;
  const TE = TypeError;
  const parse = JSON.parse, stringify = JSON.stringify;
  const ownKeys = Reflect.ownKeys, del = Reflect.deleteProperty, getDesc = Object.getOwnPropertyDescriptor;
  const origSort = Array.prototype.sort;
  const RX = RegExp, apply = Reflect.apply;
  const origReplace = String.prototype.replace, origReplaceAll = String.prototype.replaceAll;
  const sortCall = Function.prototype.call.bind(origSort);
  const source = { Object, String, Number, Math, JSON, console: {} };
  const namespaces = {};
  for (const name of Object.keys(members)) {
    const ns = {};
    for (const m of members[name]) if (name !== 'console') ns[m] = source[name][m];
    namespaces[name] = ns;
  }
  namespaces.JSON.parse = function parse_(text, reviver) {
    try { return parse(text, reviver); } catch (e) { return ''; }
  };
  const has = (list, k) => list.indexOf(k) >= 0;
  const prune = (obj, keep) => {
    for (const k of ownKeys(obj)) {
      if (typeof k === 'string' && !has(keep, k)) {
        const d = getDesc(obj, k);
        if (d && d.configurable) del(obj, k);
      }
    }
  };
  Array.prototype.sort = function sort() {
    if (arguments.length > 0) throw new TE('Array.prototype.sort() does not support arguments in APPSYNC_JS');
    return sortCall(this);
  };
  // AppSync reads a string pattern as a regular expression: replace → first match, replaceAll → every match.
  String.prototype.replace = function replace(pattern, replacement) {
    return apply(origReplace, this, [typeof pattern === 'string' ? new RX(pattern) : pattern, replacement]);
  };
  String.prototype.replaceAll = function replaceAll(pattern, replacement) {
    return apply(origReplaceAll, this, [typeof pattern === 'string' ? new RX(pattern, 'g') : pattern, replacement]);
  };
  prune(String.prototype, ['constructor', 'length', ...stringMethods]);
  prune(Array.prototype, ['constructor', 'length', ...arrayMethods]);
  prune(Number.prototype, ['constructor']);
  prune(Boolean.prototype, ['constructor']);
  prune(Function.prototype, ['constructor', 'length', 'name']);
  prune(Object.prototype, ['constructor', 'toString', 'valueOf']);
  const keep = ['NaN', 'Infinity', 'undefined', ...Object.keys(members), ...utilGlobals];
  for (const k of ownKeys(g)) {
    if (typeof k === 'string' && !has(keep, k)) del(g, k);
  }
  for (const name of Object.keys(namespaces)) g[name] = namespaces[name];
  return { parse, stringify };
})`;

/** Rewrites the bundle's import/export declarations; every other character stays where it was. */
function esmToFunction(esm: string, filename: string, resolveImport: (id: string) => void): string {
  const sf = ts.createSourceFile(filename, esm, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const edits: { start: number; end: number; text: string }[] = [];
  const exported: string[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      resolveImport(st.moduleSpecifier.text);
      if (st.moduleSpecifier.text !== UTILS_MODULE) throw new Error(`${filename}: import from ${st.moduleSpecifier.text}`);
      const c = st.importClause;
      let text = '';
      if (c?.name) throw new Error(`${filename}: ${UTILS_MODULE} has no default export`);
      const nb = c?.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) text = `const ${nb.name.text} = __appsyncUtils;`;
      else if (nb) text = `const { ${nb.elements.map((e) => (e.propertyName ? `${e.propertyName.text}: ${e.name.text}` : e.name.text)).join(', ')} } = __appsyncUtils;`;
      edits.push({ start: st.getStart(sf), end: st.end, text });
    } else if (ts.isExportDeclaration(st) && !st.moduleSpecifier && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const e of st.exportClause.elements) exported.push(e.propertyName ? `${e.name.text}: ${e.propertyName.text}` : e.name.text);
      edits.push({ start: st.getStart(sf), end: st.end, text: '' });
    } else if (ts.isExportDeclaration(st) || ts.isExportAssignment(st) || (ts.canHaveModifiers(st) && ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword))) {
      throw new Error(`${filename}: only \`export { … }\` lists are supported here (esbuild's output form)`);
    }
  }
  let body = esm;
  for (const e of edits.sort((a, b) => b.start - a.start)) body = body.slice(0, e.start) + e.text + body.slice(e.end);
  return `(function (__appsyncUtils) { 'use strict'; ${body}\nreturn { ${exported.join(', ')} };\n})`;
}

/** Copies a sandbox value into the host realm for the stand-in (structured clone keeps undefined members). */
function hostCopy(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? structuredClone(v) : v;
}

/** Wraps util/runtime/extensions: calls get host copies, results come back as sandbox values. */
function bridge(target: object, toSandbox: (v: unknown) => unknown): object {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const v = Reflect.get(obj, prop, receiver);
      if (typeof v === 'function') return (...args: unknown[]) => toSandbox(v.apply(obj, args.map(hostCopy)));
      if (v !== null && typeof v === 'object') return bridge(v, toSandbox);
      return v;
    },
  });
}

export function createSandbox(utilsModule: Record<string, object>): Sandbox {
  const context = vm.createContext({}, { name: 'APPSYNC_JS', codeGeneration: { strings: false, wasm: false } });
  const setup = vm.runInContext(SETUP, context) as (...a: unknown[]) => { parse: (t: string) => unknown; stringify: (v: unknown) => string };
  // Host arrays would carry the host's prototypes in: pass the lists as JSON text parsed inside.
  const lists = vm.runInContext(`(${JSON.stringify([GLOBAL_MEMBERS, STRING_METHODS, ARRAY_METHODS, UTIL_GLOBALS])})`, context) as unknown[];
  const { parse } = setup(...lists);
  const toSandbox = <T>(value: T): T => (value === undefined ? value : (parse(JSON.stringify(value)) as T));
  const bridged: Record<string, object> = {};
  for (const [name, mod] of Object.entries(utilsModule)) bridged[name] = bridge(mod, toSandbox);
  const g = context as Record<string, unknown>; // the contextified object is the realm's global
  for (const name of UTIL_GLOBALS) g[name] = bridged[name];
  // console.log/error (documented, "sent to CloudWatch Logs"): here to the host's stderr.
  const consoleNs = g.console as Record<string, unknown>;
  consoleNs.log = (...a: unknown[]) => console.error('[APPSYNC_JS console.log]', ...a.map(hostCopy));
  consoleNs.error = (...a: unknown[]) => console.error('[APPSYNC_JS console.error]', ...a.map(hostCopy));
  return {
    toSandbox,
    evaluate(esm, filename, utils, resolveImport) {
      const fn = vm.runInContext(esmToFunction(esm, filename, resolveImport), context, { filename }) as (u: object) => SandboxModule;
      const mod: Record<string, object> = {};
      for (const [name, m] of Object.entries(utils)) mod[name] = bridged[name] ?? bridge(m, toSandbox);
      return fn(mod);
    },
  };
}
