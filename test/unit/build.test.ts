import assert from 'node:assert/strict';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { bundleHandler, bundleResolver, HANDLER_NAMES } from '../../components/bundle';
import { resolverFiles } from '../../schema/resolvers/manifest';
import { APPSYNC_CODE_LIMIT, main, NOTIFIER_BUNDLE_LIMIT } from '../../scripts/build';

describe('bundles (what pulumi up deploys)', function () {
  this.timeout(60_000);

  for (const name of HANDLER_NAMES) {
    it(`handler ${name}: one self-contained CommonJS file exporting handler, the AWS SDK v3 bundled in`, () => {
      const file = path.join(bundleHandler(name), 'index.js');
      const code = fs.readFileSync(file, 'utf8');
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading the built bundle is the point
      const mod = require(file) as { handler?: unknown };
      assert.equal(typeof mod.handler, 'function');
      // only Node's own modules are required at run time: no @aws-sdk/* (or any package) left to the runtime
      // (not counting `[require("…")]` quoted inside an SDK error message)
      const required = [...new Set([...code.matchAll(/(?<![[\w.])require\("([^"]+)"\)/g)].map((m) => m[1]))];
      const builtin = new Set(builtinModules);
      assert.deepEqual(required.filter((m) => !m.startsWith('node:') && !builtin.has(m)), [], `requires left to the runtime: ${required.join(', ')}`);
      if (name === 'notifier') assert.ok(code.length <= NOTIFIER_BUNDLE_LIMIT, `notifier bundle ${code.length} bytes`);
    });
  }

  it('npm run build: --help exits 0 with the usage, a bad argument exits 2, a build prints every bundle and the runtime check', () => {
    const out: string[] = [];
    const err: string[] = [];
    assert.equal(main(['--help'], (l) => out.push(l), (l) => err.push(l)), 0);
    assert.match(out.join('\n'), /^usage: npm run build/);
    assert.equal(main(['--stak', 'dev'], (l) => out.push(l), (l) => err.push(l)), 2);
    assert.match(err.join('\n'), /Unknown option '--stak'[\s\S]*usage: npm run build/);
    assert.equal(main(['--stack', 'nope'], (l) => out.push(l), (l) => err.push(l)), 1);
    assert.match(err.join('\n'), /no Pulumi\.nope\.yaml/);
    out.length = 0;
    assert.equal(main(['--stack', 'prod'], (l) => out.push(l), (l) => err.push(l)), 0);
    assert.equal(out.length, HANDLER_NAMES.length + resolverFiles().length + 1);
    assert.match(out.at(-1)!, /resolvers built for prod\/us-east-1; APPSYNC_JS runtime check passed\)$/);
  });

  it('npm run build refuses a resolver bundle that uses what APPSYNC_JS does not support (exit 1, naming the construct)', () => {
    const withLoop: typeof bundleResolver = (file, settings) => `${bundleResolver(file, settings)}\nexport function later(x) { while (x) { x = x - 1; } return x; }\n`;
    const err: string[] = [];
    assert.equal(main(['--stack', 'dev'], () => undefined, (l) => err.push(l), withLoop), 1);
    assert.match(err.join('\n'), /^build refused: resolver bundles use \d+ construct\(s\) APPSYNC_JS does not support:[\s\S]*while/);
  });

  it('every resolver file bundles to an ESM module under AppSync\'s 32 KB code limit, importing only @aws-appsync/utils', () => {
    const settings = { region: 'eu-west-1', primaryRegion: 'us-east-1', writeMode: 'primary' as const };
    for (const file of resolverFiles()) {
      const code = bundleResolver(file, settings);
      assert.ok(Buffer.byteLength(code) < APPSYNC_CODE_LIMIT, `${file}: ${Buffer.byteLength(code)} bytes`);
      assert.match(code, /export \{[^}]*\b(request|response)\b/, `${file} exports request/response`);
      const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
      assert.ok(imports.every((m) => m === '@aws-appsync/utils'), `${file} imports ${imports.join(', ')}`);
      const uses = /\bSETTINGS\b/.test(code);
      if (uses) assert.match(code, /\{ region: "eu-west-1", primaryRegion: "us-east-1", writeMode: "primary" \}/, `${file}: settings inlined`);
      assert.ok(!/__SETTINGS__/.test(code.replace(/\/\/.*$/gm, '')), `${file}: no free __SETTINGS__ left for AppSync to choke on`);
    }
  });
});
