/**
 * The bundle check: an AST walk (TypeScript's compiler API, JS mode) over resolver code AS BUILT — what
 * components/bundle.ts bundleResolver produces and `pulumi up` uploads — refusing every global, statement, operator
 * and built-in method that AWS's "Supported runtime features" page for APPSYNC_JS does not list
 * (https://docs.aws.amazon.com/appsync/latest/devguide/supported-features.html; the lists are ./runtimeFeatures.ts).
 * Each violation names the bundle, its line and column, the source file esbuild took that line from, and the
 * construct. @aws-appsync/eslint-plugin works on our sources and misses `throw`, `new`, `String()`, `Number()`;
 * this runs on the output, so code pulled in from anywhere (schema/rules.ts, a library) is checked too.
 *
 *   checkResolverCode(code, name)      → violations in one bundle
 *   checkResolverBundles(settings?, bundle?) → violations in every manifest file's bundle (bundle: the bundler, default bundleResolver)
 *   assertResolverBundles(settings?, bundle?) → throws one error listing them all (for `npm run build`)
 *
 * What it refuses: try/catch/finally, throw, while, do-while, classic for, continue, labels, class, debugger,
 * with; ++, --, ~, `in`, `instanceof`, `new`, `this`, regex literals, async/await, generators, dynamic import();
 * imports other than @aws-appsync/utils (@aws-appsync/utils/dynamodb is a real AppSync module, refused because the
 * stand-in does not emulate it); any global but NaN, Infinity, undefined, util, extensions, runtime and the listed
 * members of Object, String, Number, Math, JSON, console (so `String(x)`, `Number(x)`, `Date`, `parseInt` fail);
 * any method call whose name is not a listed String/Array method (receiver types are unknown in JS, so a name must
 * be on one of the two lists); util/runtime/extensions members the local stand-in (./util.ts) does not provide;
 * `.replace()`/`.replaceAll()` whose pattern is not a string literal free of regex metacharacters (AppSync reads a
 * string pattern as a regular expression); sort() with arguments; recursion; and, as @aws-appsync/eslint-plugin's
 * recommended rules do (no-function-passing, no-function-return, no-function-reassign,
 * no-disallowed-binary-operator), functions passed as arguments except to the listed Array callback methods,
 * functions returned from functions, and functions assigned to another binding. "Is a function" follows bindings
 * through TypeScript's checker (scopes, aliases), looks through parentheses, `?:`, `||`/`&&`/`??`, and counts
 * util/runtime/extensions members the stand-in provides.
 */
import ts from 'typescript';
import { bundleResolver, type ResolverSettings } from '../../components/bundle';
import { resolverFiles } from '../../schema/resolvers/manifest';
import {
  ARRAY_METHODS,
  CALLBACK_METHODS,
  FEATURES_PAGE,
  GLOBAL_MEMBERS,
  REGEX_METACHARACTERS,
  REGEX_PATTERN_METHODS,
  STRING_METHODS,
  unemulatedModuleMessage,
  UTIL_GLOBALS,
  UTILS_MODULE,
  VALUE_GLOBALS,
} from './runtimeFeatures';
import { appsyncUtilsModule } from './util';

export interface RuntimeViolation {
  /** The bundle's name (the manifest file, e.g. 'putItemLocal'). */
  file: string;
  /** 1-based line and column in the bundle. */
  line: number;
  column: number;
  /** The source file esbuild took the line from (its `// path` marker), when known. */
  origin: string | null;
  /** What is not supported, and why. */
  construct: string;
}

const METHODS = new Set([...STRING_METHODS, ...ARRAY_METHODS]);
const CALLBACKS = new Set(CALLBACK_METHODS);

/** Every `util.x.y` path the local stand-in provides (function members only), e.g. 'util.dynamodb.toMapValues'. */
function standInPaths(): Set<string> {
  const out = new Set<string>();
  const walk = (obj: object, prefix: string) => {
    for (const key of Reflect.ownKeys(obj)) {
      if (typeof key !== 'string') continue;
      const v = (obj as Record<string, unknown>)[key];
      if (typeof v === 'function') out.add(`${prefix}.${key}`);
      else if (v && typeof v === 'object') walk(v, `${prefix}.${key}`);
    }
  };
  for (const [name, mod] of Object.entries(appsyncUtilsModule)) walk(mod, name);
  return out;
}

const STATEMENTS: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.TryStatement]: 'try/catch/finally',
  [ts.SyntaxKind.ThrowStatement]: 'throw (use util.error)',
  [ts.SyntaxKind.WhileStatement]: 'while loop',
  [ts.SyntaxKind.DoStatement]: 'do-while loop',
  [ts.SyntaxKind.ForStatement]: 'classic for(;;) loop (for-of and for-in are supported)',
  [ts.SyntaxKind.ContinueStatement]: 'continue',
  [ts.SyntaxKind.LabeledStatement]: 'labeled statement',
  [ts.SyntaxKind.ClassDeclaration]: 'class',
  [ts.SyntaxKind.ClassExpression]: 'class',
  [ts.SyntaxKind.DebuggerStatement]: 'debugger',
  [ts.SyntaxKind.WithStatement]: 'with',
  [ts.SyntaxKind.NewExpression]: '`new` (no constructors are supported)',
  [ts.SyntaxKind.ThisKeyword]: '`this`',
  [ts.SyntaxKind.RegularExpressionLiteral]: 'regular expression literal',
  [ts.SyntaxKind.AwaitExpression]: 'await (promises are not supported)',
  [ts.SyntaxKind.YieldExpression]: 'yield (generators are not supported)',
};

function isFunctionLike(n: ts.Node | undefined): n is ts.FunctionDeclaration | ts.FunctionExpression | ts.ArrowFunction {
  return !!n && (ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n));
}

/** `e` without the parentheses around it. */
function unwrap(e: ts.Expression): ts.Expression {
  return ts.isParenthesizedExpression(e) ? unwrap(e.expression) : e;
}

/** Names bound anywhere in the module (declarations, parameters, imports): an identifier not among them is a global. */
function declaredNames(sf: ts.SourceFile): { all: Set<string>; functions: Map<string, ts.Node>; utils: Map<string, string> } {
  const all = new Set<string>();
  const functions = new Map<string, ts.Node>();
  const utils = new Map<string, string>();
  const bind = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) all.add(name.text);
    else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bind(el.name);
  };
  const visit = (n: ts.Node) => {
    if (ts.isVariableDeclaration(n)) {
      bind(n.name);
      if (ts.isIdentifier(n.name) && isFunctionLike(n.initializer)) functions.set(n.name.text, n.initializer);
    } else if (ts.isParameter(n) || ts.isBindingElement(n)) {
      bind(n.name);
    } else if ((ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n)) && n.name) {
      all.add(n.name.text);
      functions.set(n.name.text, n);
    } else if (ts.isClassDeclaration(n) && n.name) {
      all.add(n.name.text);
    } else if (ts.isImportDeclaration(n) && n.importClause && ts.isStringLiteral(n.moduleSpecifier)) {
      const fromUtils = n.moduleSpecifier.text === UTILS_MODULE;
      const c = n.importClause;
      if (c.name) all.add(c.name.text);
      const nb = c.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) {
        all.add(nb.name.text);
        if (fromUtils) utils.set(nb.name.text, '*');
      } else if (nb) {
        for (const s of nb.elements) {
          all.add(s.name.text);
          if (fromUtils) utils.set(s.name.text, (s.propertyName ?? s.name).text);
        }
      }
    } else if (ts.isCatchClause(n) && n.variableDeclaration) {
      bind(n.variableDeclaration.name);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return { all, functions, utils };
}

/** True when `id` is used as a value reference (not a property name, declaration name, label...). */
function isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p)) && p.name === id) return false;
  if (ts.isBindingElement(p) && p.propertyName === id) return false;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p) || ts.isNamespaceImport(p) || ts.isImportClause(p)) return false;
  if (ts.isLabeledStatement(p) || ts.isBreakStatement(p) || ts.isContinueStatement(p)) return false;
  if ((ts.isFunctionDeclaration(p) || ts.isFunctionExpression(p) || ts.isClassDeclaration(p) || ts.isVariableDeclaration(p) || ts.isParameter(p)) && p.name === id) return false;
  return true;
}

/** `a.b.c` as ['a', 'b', 'c'] when the chain is plain identifiers and names; null otherwise. */
function memberPath(e: ts.Expression): string[] | null {
  if (ts.isIdentifier(e)) return [e.text];
  if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.name)) {
    const head = memberPath(e.expression);
    return head ? [...head, e.name.text] : null;
  }
  return null;
}

/** A type checker over this one file (no lib, no imports resolved): used only to resolve names to declarations. */
function bindingChecker(sf: ts.SourceFile): ts.TypeChecker {
  const options: ts.CompilerOptions = { allowJs: true, noLib: true, noResolve: true, types: [], target: ts.ScriptTarget.ES2022 };
  const host = ts.createCompilerHost(options);
  host.getSourceFile = (name) => (name === sf.fileName ? sf : undefined);
  host.fileExists = (name) => name === sf.fileName;
  host.readFile = (name) => (name === sf.fileName ? sf.text : undefined);
  return ts.createProgram([sf.fileName], options, host).getTypeChecker();
}

/** Checks one resolver bundle (ESM source as bundleResolver returns it). */
export function checkResolverCode(code: string, file: string): RuntimeViolation[] {
  const sf = ts.createSourceFile(`${file}.js`, code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const lines = code.split('\n');
  const out: RuntimeViolation[] = [];
  const report = (node: ts.Node, construct: string) => {
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    let origin: string | null = null;
    for (let i = line; i >= 0 && origin === null; i -= 1) {
      const m = /^\/\/ (\S+\.[cm]?[jt]sx?)$/.exec(lines[i]);
      if (m) origin = m[1];
    }
    out.push({ file, line: line + 1, column: character + 1, origin, construct });
  };
  const { all, functions, utils } = declaredNames(sf);
  const provided = standInPaths();
  const calls = new Map<ts.Node, Set<string>>();
  const checker = bindingChecker(sf);

  /**
   * True when `e` evaluates to a function: an inline function, a name bound (in its scope) to a function
   * declaration or to a variable initialised with a function value, a util/runtime/extensions function the
   * stand-in provides, or either branch of `?:`, `||`, `&&`, `??` or the last operand of `,` being one.
   */
  const isFunctionValue = (e: ts.Expression, depth = 0): boolean => {
    if (depth > 20) return false;
    const x = unwrap(e);
    if (isFunctionLike(x)) return true;
    if (ts.isConditionalExpression(x)) return isFunctionValue(x.whenTrue, depth + 1) || isFunctionValue(x.whenFalse, depth + 1);
    if (ts.isBinaryExpression(x)) {
      const op = x.operatorToken.kind;
      if (op === ts.SyntaxKind.CommaToken) return isFunctionValue(x.right, depth + 1);
      if ([ts.SyntaxKind.BarBarToken, ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.QuestionQuestionToken].includes(op)) {
        return isFunctionValue(x.left, depth + 1) || isFunctionValue(x.right, depth + 1);
      }
      return false;
    }
    if (ts.isIdentifier(x)) {
      const decl = checker.getSymbolAtLocation(x)?.valueDeclaration;
      if (!decl) return false;
      if (ts.isFunctionDeclaration(decl) || ts.isFunctionExpression(decl)) return true;
      return ts.isVariableDeclaration(decl) && !!decl.initializer && isFunctionValue(decl.initializer, depth + 1);
    }
    if (ts.isPropertyAccessExpression(x)) {
      const path = memberPath(x);
      const root = path?.[0];
      if (!path || !root) return false;
      if (UTIL_GLOBALS.includes(root) && !all.has(root)) return provided.has(path.join('.'));
      if (utils.has(root)) return provided.has((utils.get(root) === '*' ? path.slice(1) : [utils.get(root) as string, ...path.slice(1)]).join('.'));
    }
    return false;
  };

  const enclosingFunction = (n: ts.Node): ts.Node | undefined => {
    for (let p = n.parent; p; p = p.parent) if (isFunctionLike(p)) return p;
    return undefined;
  };

  const checkGlobal = (id: ts.Identifier) => {
    const name = id.text;
    if (VALUE_GLOBALS.includes(name) || UTIL_GLOBALS.includes(name)) return;
    const members = GLOBAL_MEMBERS[name];
    if (!members) {
      report(id, `global \`${name}\` is not available in APPSYNC_JS (globals: ${[...VALUE_GLOBALS, ...UTIL_GLOBALS, ...Object.keys(GLOBAL_MEMBERS)].join(', ')}; ${FEATURES_PAGE})`);
      return;
    }
    const p = id.parent;
    if (ts.isCallExpression(p) && p.expression === id) {
      report(id, `\`${name}()\` called as a function: APPSYNC_JS has no ${name} function, only ${members.map((m) => `${name}.${m}`).join(', ')}`);
      return;
    }
    if (!ts.isPropertyAccessExpression(p) || p.expression !== id) {
      report(id, `\`${name}\` used as a value: APPSYNC_JS documents only calls of ${members.map((m) => `${name}.${m}`).join(', ')}`);
      return;
    }
    const member = p.name.text;
    if (!members.includes(member)) {
      report(p, `\`${name}.${member}\` is not a documented APPSYNC_JS built-in (${name} has only ${members.join(', ')})`);
      return;
    }
    const used = p.parent;
    const called = (ts.isCallExpression(used) && used.expression === p) || (ts.isTaggedTemplateExpression(used) && used.tag === p && name === 'String');
    if (!called) report(p, `\`${name}.${member}\` used as a value: functions cannot be passed around in APPSYNC_JS`);
  };

  const checkCall = (call: ts.CallExpression) => {
    const callee = call.expression;
    if (callee.kind === ts.SyntaxKind.ImportKeyword) {
      report(call, 'dynamic import()');
      return;
    }
    let method: string | null = null;
    const path = ts.isPropertyAccessExpression(callee) ? memberPath(callee) : null;
    const root = path?.[0];
    if (path && root && !all.has(root) && (GLOBAL_MEMBERS[root] || UTIL_GLOBALS.includes(root))) {
      // A global's members are checked with the global itself; util/runtime/extensions against the stand-in.
      if (UTIL_GLOBALS.includes(root) && !provided.has(path.join('.'))) {
        report(callee, `\`${path.join('.')}\` is not provided by the APPSYNC_JS stand-in (local/appsync/util.ts): add it there, documented, or drop it`);
      }
    } else if (path && root && utils.has(root)) {
      const imported = utils.get(root) === '*' ? path.slice(1) : [utils.get(root) as string, ...path.slice(1)];
      if (!provided.has(imported.join('.'))) {
        report(callee, `\`${imported.join('.')}\` is not provided by the APPSYNC_JS stand-in (local/appsync/util.ts): add it there, documented, or drop it`);
      }
    } else if (ts.isPropertyAccessExpression(callee)) {
      method = callee.name.text;
      if (!METHODS.has(method)) {
        report(callee.name, `method \`.${method}()\` is not among the String.prototype/Array.prototype methods APPSYNC_JS lists (${FEATURES_PAGE})`);
      }
      if (method === 'sort' && call.arguments.length > 0) report(call, '`sort()` with arguments: "Array.prototype.sort() doesn\'t support arguments"');
    } else if (ts.isElementAccessExpression(callee)) {
      report(callee, 'computed method call `x[...]()`: the method cannot be checked against the documented list');
    } else if (ts.isIdentifier(callee) && all.has(callee.text)) {
      const fn = enclosingFunction(call);
      if (fn) {
        if (!calls.has(fn)) calls.set(fn, new Set());
        calls.get(fn)!.add(callee.text);
      }
    }
    if (method && REGEX_PATTERN_METHODS.includes(method) && call.arguments.length > 0) {
      const pattern = unwrap(call.arguments[0]);
      const why = 'APPSYNC_JS reads a string pattern of replace/replaceAll as a (Java-style) regular expression, not as literal text as Node does';
      if (ts.isStringLiteral(pattern) || ts.isNoSubstitutionTemplateLiteral(pattern)) {
        if (REGEX_METACHARACTERS.test(pattern.text)) {
          report(pattern, `\`.${method}(${JSON.stringify(pattern.text)}, …)\`: the pattern has regular-expression metacharacters and ${why}, so it would match differently there (${FEATURES_PAGE})`);
        }
      } else if (!ts.isRegularExpressionLiteral(pattern)) {
        report(pattern, `\`.${method}()\` with a pattern that is not a string literal: ${why}, so a computed pattern cannot be checked to mean the same in both (${FEATURES_PAGE})`);
      }
    }
    for (const arg of call.arguments) {
      const passesFunction = isFunctionValue(arg);
      if (passesFunction && !(method && CALLBACKS.has(method))) {
        report(arg, `function passed as an argument: APPSYNC_JS allows that only for ${CALLBACK_METHODS.join(', ')}`);
      }
    }
  };

  const visit = (n: ts.Node) => {
    const stmt = STATEMENTS[n.kind];
    if (stmt) report(n, stmt);
    if ((ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && [ts.SyntaxKind.PlusPlusToken, ts.SyntaxKind.MinusMinusToken, ts.SyntaxKind.TildeToken].includes(n.operator)) {
      report(n, `unary operator ${ts.tokenToString(n.operator)}`);
    }
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.InKeyword) report(n.operatorToken, '`in` operator (use Object.hasOwn)');
    // @aws-appsync/eslint-plugin no-disallowed-binary-operator: "`instanceof` operator is not allowed".
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.InstanceOfKeyword) report(n.operatorToken, '`instanceof` operator (refused by @aws-appsync/eslint-plugin no-disallowed-binary-operator)');
    // no-function-return: "functions cannot be the return value of functions".
    if (ts.isReturnStatement(n) && n.expression && isFunctionValue(n.expression)) report(n, 'function returned from a function (@aws-appsync/eslint-plugin no-function-return)');
    if (ts.isArrowFunction(n) && !ts.isBlock(n.body) && isFunctionValue(n.body)) report(n.body, 'function returned from an arrow function (@aws-appsync/eslint-plugin no-function-return)');
    // no-function-reassign: "Functions cannot be reassigned" — an existing function given to another binding.
    const reassigned =
      ts.isVariableDeclaration(n) && n.initializer ? n.initializer : ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken ? n.right : undefined;
    if (reassigned && !isFunctionLike(unwrap(reassigned)) && isFunctionValue(reassigned)) {
      report(reassigned, 'function reassigned to another binding (@aws-appsync/eslint-plugin no-function-reassign)');
    }
    if (isFunctionLike(n) || ts.isMethodDeclaration(n)) {
      if (n.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) report(n, 'async function (promises are not supported)');
      if ((n as ts.FunctionLikeDeclarationBase).asteriskToken) report(n, 'generator function');
    }
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier) && n.moduleSpecifier.text !== UTILS_MODULE) {
      const id = n.moduleSpecifier.text;
      report(n, `import from ${id}: ${unemulatedModuleMessage(id) ?? `AppSync provides only ${UTILS_MODULE}`}`);
    }
    if (ts.isIdentifier(n) && isReference(n) && !all.has(n.text)) checkGlobal(n);
    if (ts.isCallExpression(n)) checkCall(n);
    ts.forEachChild(n, visit);
  };
  visit(sf);

  // "Recursive function calls are not supported": any cycle in the module's own call graph.
  const names = new Map<ts.Node, string>();
  for (const [name, node] of functions) names.set(node, name);
  const edges = new Map<string, Set<string>>();
  for (const [fn, callees] of calls) {
    const name = names.get(fn);
    if (name) edges.set(name, new Set([...callees].filter((c) => functions.has(c))));
  }
  const reported = new Set<string>();
  for (const start of edges.keys()) {
    const stack: string[][] = [[start]];
    const seen = new Set<string>();
    for (let path = stack.pop(); path; path = stack.pop()) {
      const last = path[path.length - 1];
      for (const next of edges.get(last) ?? []) {
        if (next === start && !reported.has(start)) {
          reported.add(start);
          report(functions.get(start)!, `recursive function \`${start}\` (${[...path, start].join(' → ')}): recursion is not supported`);
        } else if (!seen.has(next)) {
          seen.add(next);
          stack.push([...path, next]);
        }
      }
    }
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Settings that exercise both write modes (the bundles differ only in the inlined settings). */
export const CHECK_SETTINGS: readonly ResolverSettings[] = [
  { region: 'eu-west-1', primaryRegion: 'eu-west-1', writeMode: 'multi-master' },
  { region: 'ap-southeast-2', primaryRegion: 'eu-west-1', writeMode: 'primary' },
];

/** Bundles every manifest file (schema/resolvers/manifest.ts) for each settings and checks it. */
export function checkResolverBundles(settings: readonly ResolverSettings[] = CHECK_SETTINGS, bundle: typeof bundleResolver = bundleResolver): RuntimeViolation[] {
  const out: RuntimeViolation[] = [];
  const seen = new Set<string>();
  for (const s of settings) {
    for (const file of resolverFiles()) {
      for (const v of checkResolverCode(bundle(file, s), file)) {
        const key = `${v.file}:${v.line}:${v.column}:${v.construct}`;
        if (!seen.has(key)) out.push(v);
        seen.add(key);
      }
    }
  }
  return out;
}

export function formatViolation(v: RuntimeViolation): string {
  return `${v.file}.js:${v.line}:${v.column}${v.origin ? ` (from ${v.origin})` : ''}: ${v.construct}`;
}

/** Throws one error listing every violation in the built resolvers (nothing when they are all clean); `bundle` builds them. */
export function assertResolverBundles(settings?: readonly ResolverSettings[], bundle: typeof bundleResolver = bundleResolver): void {
  const violations = checkResolverBundles(settings, bundle);
  if (violations.length) {
    throw new Error(`resolver bundles use ${violations.length} construct(s) APPSYNC_JS does not support:\n${violations.map((v) => `  - ${formatViolation(v)}`).join('\n')}`);
  }
}
