import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bundleHandler, bundleResolver, HANDLER_NAMES } from '../../components/bundle';
import { resolverFiles } from '../../schema/resolvers/manifest';
import { APPSYNC_CODE_LIMIT } from '../../scripts/build';

describe('bundles (what pulumi up deploys)', function () {
  this.timeout(60_000);

  for (const name of HANDLER_NAMES) {
    it(`handler ${name}: one CommonJS file exporting handler, AWS SDK v3 left to the runtime`, () => {
      const file = path.join(bundleHandler(name), 'index.js');
      const code = fs.readFileSync(file, 'utf8');
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading the built bundle is the point
      const mod = require(file) as { handler?: unknown };
      assert.equal(typeof mod.handler, 'function');
      // every @aws-sdk import stays a require() of the runtime's copy, never inlined
      const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
      assert.ok(required.every((m) => m.startsWith('@aws-sdk/') || m.startsWith('node:') || !m.includes('/') || ['crypto', 'http', 'https', 'url', 'buffer', 'stream', 'os', 'util'].includes(m)), `unexpected requires: ${required.join(', ')}`);
      assert.ok(!/AWS SDK for JavaScript v3/.test(code) || required.some((m) => m.startsWith('@aws-sdk/')));
    });
  }

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
