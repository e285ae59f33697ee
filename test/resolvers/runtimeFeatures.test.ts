/**
 * APPSYNC_JS strictness: the bundle check (local/appsync/runtimeCheck.ts) refuses each construct
 * AWS's "Supported runtime features" page does not list, in small samples, and passes every real bundle; the
 * sandbox the runner evaluates resolvers in (local/appsync/sandbox.ts) has only the listed globals and methods.
 * Also: the rules of AWS's own @aws-appsync/eslint-plugin (instanceof, functions returned, reassigned or passed
 * however written), replace/replaceAll reading a string pattern as a regular expression in both the check and the
 * sandbox, and @aws-appsync/utils/dynamodb refused as a real module the local runtime does not emulate.
 */
import assert from 'node:assert/strict';
import { bundleResolver } from '../../components/bundle';
import { checkResolverBundles, checkResolverCode, formatViolation, assertResolverBundles } from '../../local/appsync/runtimeCheck';
import { loadResolverModule } from '../../local/appsync/runner';
import { createSandbox } from '../../local/appsync/sandbox';
import { appsyncUtilsModule, UnsupportedUtilError } from '../../local/appsync/util';
import { resolverFiles } from '../../schema/resolvers/manifest';

const IMPORT = 'import { util, runtime } from "@aws-appsync/utils";\n';
const wrap = (body: string) => `${IMPORT}// schema/sample.ts\nfunction sample(ctx, a, s) {\n${body}\n}\nexport { sample as request };\n`;

/** [construct, code, what the violation must say] — each alone in a sample that is otherwise valid. */
const BANNED: [string, string, RegExp][] = [
  ['try/catch/finally', 'try { a.push(1); } catch (e) { a.pop(); } finally { a.pop(); }', /try\/catch\/finally/],
  ['throw', 'throw a;', /throw \(use util\.error\)/],
  ['while', 'while (a.length) { a.pop(); }', /while loop/],
  ['do-while', 'do { a.pop(); } while (a.length);', /do-while loop/],
  ['classic for', 'for (let i = 0; i < 3; i += 1) { a.push(i); }', /classic for/],
  ['continue', 'for (const x of a) { if (x) { continue; } }', /continue/],
  ['label', 'outer: for (const x of a) { break outer; }', /labeled statement/],
  ['++', 'let i = 0; i++; return i;', /unary operator \+\+/],
  ['--', 'let i = 0; --i; return i;', /unary operator --/],
  ['~', 'return ~a.length;', /unary operator ~/],
  ['in', "return 'x' in ctx;", /`in` operator/],
  ['new', 'return new Date();', /`new`/],
  ['class', 'class K {} return K;', /class/],
  ['this', 'return this;', /`this`/],
  ['regex literal', "return s.replace(/a/, 'b');", /regular expression literal/],
  ['String()', 'return String(a);', /`String\(\)` called as a function/],
  ['Number()', 'return Number(s);', /`Number\(\)` called as a function/],
  ['Array.isArray', 'return Array.isArray(a);', /global `Array` is not available/],
  ['Date', 'return Date.now();', /global `Date` is not available/],
  ['parseInt', 'return parseInt(s);', /global `parseInt` is not available/],
  ['globalThis', 'return globalThis;', /global `globalThis` is not available/],
  ['Math.abs', 'return Math.abs(-1);', /`Math\.abs` is not a documented/],
  ['Number.parseFloat', 'return Number.parseFloat(s);', /`Number\.parseFloat` is not a documented/],
  ['Object.freeze', 'return Object.freeze(ctx);', /`Object\.freeze` is not a documented/],
  ['String.prototype.includes', "return s.includes('a');", /method `\.includes\(\)`/],
  ['String.prototype.padStart', "return s.padStart(3, '0');", /method `\.padStart\(\)`/],
  ['Number.prototype.toFixed', 'return a.length.toFixed(2);', /method `\.toFixed\(\)`/],
  ['Function.prototype.call', 'return sample.call(null, ctx);', /method `\.call\(\)`/],
  ['sort with a comparator', 'return a.sort((x, y) => x - y);', /`sort\(\)` with arguments/],
  ['function as an argument', 'return util.error(() => 1);', /function passed as an argument/],
  ['parenthesized function as an argument', 'return util.error((() => 1));', /function passed as an argument/],
  ['function alias as an argument', 'const f = (x) => x; const g = f; return util.error(g);', /function passed as an argument/],
  ['function in a ?: as an argument', 'const f = (x) => x; return util.error(s ? f : s);', /function passed as an argument/],
  ['util function as an argument', 'return util.error(util.autoId);', /function passed as an argument/],
  ['instanceof', 'return a instanceof s;', /`instanceof` operator/],
  ['function returned', 'const f = (x) => x; return f;', /function returned from a function \(@aws-appsync\/eslint-plugin no-function-return\)/],
  ['inline function returned', 'return function inner() { return 1; };', /function returned from a function/],
  ['arrow returning a function', 'return a.map((x) => () => x);', /function returned from an arrow function/],
  ['function reassigned (declaration)', 'const f = (x) => x; const g = f; return g(1);', /function reassigned to another binding \(@aws-appsync\/eslint-plugin no-function-reassign\)/],
  ['function reassigned (assignment)', 'let g = 0; g = sample; return g === 0;', /function reassigned to another binding/],
  ['replace with a metacharacter pattern', "return s.replace('.', '-');", /`\.replace\("\.", …\)`: the pattern has regular-expression metacharacters .*Java-style/],
  ['replaceAll with a metacharacter pattern', "return s.replaceAll('a+', '-');", /`\.replaceAll\("a\+", …\)`: the pattern has regular-expression metacharacters/],
  ['replace with a computed pattern', "return s.replace(a[0], '-');", /`\.replace\(\)` with a pattern that is not a string literal/],
  ['async', 'const f = async () => 1; return f;', /async function/],
  ['generator', 'function* g() { yield 1; } return g;', /generator function/],
  ['util.isNull (VTL only)', 'return util.isNull(a);', /`util\.isNull` is not provided/],
  ['unknown runtime member', 'return runtime.sleep(1);', /`runtime\.sleep` is not provided/],
];

describe('APPSYNC_JS bundle check (AST, local/appsync/runtimeCheck.ts)', () => {
  it('a sample using only documented features passes', () => {
    const ok = wrap(
      [
        'const out = [];',
        'for (const x of a) { if (x === 1) { break; } out.push(`${x}`.toUpperCase()); }',
        "for (const k in ctx) { out.push(k); }",
        'const m = a.map((x) => x * 2).filter((x) => x > 1);',
        "switch (s) { case 'a': return m; default: break; }",
        "const p = (x) => x + 1; const r = s.replace('-', '+').replaceAll('ab', `c`); out.push(r, p(1));",
        'return { n: Math.floor(1.5) + Math.max(1, 2), j: JSON.stringify(ctx), keys: Object.keys(ctx), own: Object.hasOwn(ctx, "a"),',
        '  ok: Number.isFinite(1), r: String.raw`a${1}`, s: s.slice(1).split(",").join(";"), id: util.autoId(), n2: NaN, u: undefined, sp: { ...ctx }, t: typeof s, ...(a ?? [])[0] };',
      ].join('\n'),
    );
    assert.deepEqual(checkResolverCode(ok, 'ok').map(formatViolation), []);
  });

  for (const [name, body, expected] of BANNED) {
    it(`refuses ${name}, naming file, line and construct`, () => {
      const violations = checkResolverCode(wrap(body), 'sample');
      assert.ok(violations.length > 0, `${name} was not refused`);
      const hit = violations.find((v) => expected.test(v.construct));
      assert.ok(hit, `${name}: got ${violations.map(formatViolation).join(' | ')}`);
      assert.equal(hit.file, 'sample');
      assert.equal(hit.line, 4, 'the body sits on line 4 of the sample');
      assert.equal(hit.origin, 'schema/sample.ts', "esbuild's source marker names the original file");
      assert.match(formatViolation(hit), /^sample\.js:4:\d+ \(from schema\/sample\.ts\): /);
    });
  }

  it('refuses imports other than @aws-appsync/utils, and recursion through a cycle', () => {
    const code = `import x from "lodash";\nfunction f(n) { return g(n); }\nfunction g(n) { return n > 0 ? f(n - 1) : x; }\nexport { f as request };\n`;
    const found = checkResolverCode(code, 'rec').map((v) => v.construct);
    assert.ok(found.some((c) => /import from lodash/.test(c)), found.join(' | '));
    assert.ok(found.some((c) => /recursive function `f` \(f → g → f\)/.test(c)), found.join(' | '));
  });

  it('refuses @aws-appsync/utils/dynamodb as a real AppSync module the local runtime does not emulate; other imports as before', () => {
    const one = (id: string) => {
      const found = checkResolverCode(`import { get } from "${id}";\nexport { get as request };\n`, 'imp').map((v) => v.construct);
      assert.equal(found.length, 1, found.join(' | '));
      return found[0];
    };
    const ddb = one('@aws-appsync/utils/dynamodb');
    assert.match(ddb, /^import from @aws-appsync\/utils\/dynamodb: @aws-appsync\/utils\/dynamodb is a real APPSYNC_JS built-in module \(https:\/\/docs\.aws\.amazon\.com\/appsync\/latest\/devguide\/built-in-modules-js\.html\) that this local runtime does not emulate/);
    assert.doesNotMatch(ddb, /provides only|nothing else/);
    assert.equal(one('@aws-appsync/utils/rds'), 'import from @aws-appsync/utils/rds: AppSync provides only @aws-appsync/utils');
    assert.equal(one('lodash'), 'import from lodash: AppSync provides only @aws-appsync/utils');
  });

  it('the runner refuses a resolver importing @aws-appsync/utils/dynamodb, saying it is real but not emulated', () => {
    const settings = { region: 'eu-west-1', primaryRegion: 'eu-west-1', writeMode: 'multi-master' as const };
    assert.throws(
      () => loadResolverModule('../../test/resolvers/fixtures/ddbModule', settings),
      (e: unknown) => e instanceof Error && /@aws-appsync\/utils\/dynamodb is a real APPSYNC_JS built-in module .* that this local runtime does not emulate/.test(e.message) && !/nothing else/.test(e.message),
    );
    assert.throws(() => loadResolverModule('../../test/resolvers/fixtures/rdsModule', settings), (e: unknown) => e instanceof UnsupportedUtilError && /the module @aws-appsync\/utils\/rds is not covered/.test(e.message));
  });

  it('every manifest file, as built for both write modes, passes', () => {
    const violations = checkResolverBundles();
    assert.deepEqual(violations.map(formatViolation), []);
    assert.doesNotThrow(() => assertResolverBundles());
    assert.ok(resolverFiles().length >= 10, 'the check ran over the whole manifest');
  });

  it('would have refused the String() that schema/rules.ts had (the bundle as built, with it put back)', () => {
    const settings = { region: 'eu-west-1', primaryRegion: 'eu-west-1', writeMode: 'multi-master' as const };
    const built = bundleResolver('writeGuard', settings);
    assert.match(built, /unknown \(\$\{JSON\.stringify\(state\)\}\)/, 'the fix is in the bundle');
    const old = built.replace('JSON.stringify(state)', 'String(state)');
    const v = checkResolverCode(old, 'writeGuard');
    assert.equal(v.length, 1);
    assert.equal(v[0].origin, 'schema/rules.ts');
    assert.match(v[0].construct, /`String\(\)` called as a function/);
  });
});

describe('APPSYNC_JS sandbox (local/appsync/sandbox.ts)', () => {
  const box = createSandbox(appsyncUtilsModule as unknown as Record<string, object>);
  const noImport = () => undefined;
  /** Evaluates `body` as a resolver's request handler in the sandbox and calls it with ctx. */
  const run = (body: string, ctx: unknown = {}) => {
    const mod = box.evaluate(`${IMPORT}function request(ctx) {\n${body}\n}\nexport { request };\n`, 'sample.js', appsyncUtilsModule as unknown as Record<string, object>, noImport);
    const out = mod.request!(box.toSandbox(ctx));
    return out === undefined ? out : JSON.parse(JSON.stringify(out)); // back to this realm's prototypes for deepEqual
  };

  it('documented features work', () => {
    assert.deepEqual(
      run("const a = ctx.list.map((x) => x * 2); return { a, f: Math.floor(2.7), k: Object.keys(ctx), j: JSON.parse('[1]'), t: `${ctx.n}-${a.join('.')}`, s: 'Ab'.toLowerCase(), id: util.dynamodb.toMapValues({ n: 1 }) };", { list: [1, 2], n: 3 }),
      { a: [2, 4], f: 2, k: ['list', 'n'], j: [1], t: '3-2.4', s: 'ab', id: { n: { N: 1 } } },
    );
  });

  it('String(), Number(), Array, Date, parseInt are not there', () => {
    assert.throws(() => run('return String(1);'), /String is not a function/);
    assert.throws(() => run("return Number('1');"), /Number is not a function/);
    assert.throws(() => run('return Array.isArray([]);'), /Array is not defined/);
    assert.throws(() => run('return Date.now();'), /Date is not defined/);
    assert.throws(() => run("return parseInt('1');"), /parseInt is not defined/);
    assert.throws(() => run('return Math.abs(-1);'), /Math\.abs is not a function/);
  });

  it('unlisted methods are gone, on literals and on values passed in', () => {
    assert.throws(() => run("return 'abc'.includes('a');"), /includes is not a function/);
    assert.throws(() => run('return ctx.list.includes(1);', { list: [1] }), /includes is not a function/);
    assert.throws(() => run('return (1.5).toFixed(1);'), /toFixed is not a function/);
    assert.throws(() => run('return request.call(null, ctx);'), /call is not a function/);
  });

  it('documented quirks: JSON.parse gives "" on invalid JSON; sort() takes no arguments', () => {
    assert.equal(run("return JSON.parse('{nope');"), '');
    assert.deepEqual(run('return [3, 1, 2].sort();'), [1, 2, 3]);
    assert.throws(() => run('return [3, 1, 2].sort((a, b) => a - b);'), /sort\(\) does not support arguments/);
  });

  it('replace/replaceAll read a string pattern as a regular expression, as AppSync does', () => {
    assert.equal('a.b'.replace('.', '-'), 'a-b', 'Node: literal text');
    assert.equal(run("return 'a.b'.replace('.', '-');"), '-.b');
    assert.equal(run("return 'a.b'.replaceAll('.', '-');"), '---');
    assert.equal(run("return 'a-b-c'.replaceAll('-', '+');"), 'a+b+c');
    assert.equal(run("return 'a-b-c'.replace('-', '+');"), 'a+b-c');
  });

  it('the check and the sandbox agree: a replace pattern the check passes means the same here as in Node', () => {
    const input = 'a.b-ab+$[x](y)|z';
    let refused = 0;
    for (const pattern of ['-', 'a', 'ab', 'x', '.', 'a+', '$', '[x]', '(y)', '|', 'b-', '\\.']) {
      for (const method of ['replace', 'replaceAll'] as const) {
        const call = `'${input}'.${method}(${JSON.stringify(pattern)}, '#')`;
        const passes = checkResolverCode(wrap(`return ${call};`), 'agree').length === 0;
        if (!passes) {
          refused += 1;
          continue;
        }
        assert.equal(run(`return ${call};`), input[method](pattern, '#'), `${call} passes the check, so it must mean the same in both`);
      }
    }
    assert.equal(refused, 2 * 7, 'the 7 patterns with metacharacters are refused for both methods');
  });

  it('code generation from strings is off', () => {
    assert.throws(() => run("return request.constructor('return 1')();"), /Code generation from strings disallowed/);
  });
});
