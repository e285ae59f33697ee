#!/usr/bin/env node
// Fetches DynamoDB Local (AWS's own jar) from the npm package amplify-dynamodb-simulator without installing
// the package's ~280 MB of unrelated dependencies: `npm pack` the pinned version, check the tarball against
// the registry's integrity hash, and extract only its `emulator/` folder into .local/dynamodb/.
// Idempotent: does nothing when the pinned version is already there. Plain JS so it runs before any build.
'use strict';
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PACKAGE = 'amplify-dynamodb-simulator';
const VERSION = '2.9.30';
// The registry's dist.integrity for this version, pinned so a changed tarball is refused.
const INTEGRITY = 'sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==';
const root = path.resolve(__dirname, '..');
const dest = path.join(root, '.local', 'dynamodb');
const marker = path.join(dest, '.version');

function main() {
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() === `${PACKAGE}@${VERSION}`) {
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-local-'));
  try {
    const out = execFileSync('npm', ['pack', `${PACKAGE}@${VERSION}`, '--json', '--pack-destination', tmp], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [info] = JSON.parse(out);
    const tarball = path.join(tmp, info.filename);
    const actual = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
    if (actual !== info.integrity) {
      throw new Error(`${PACKAGE}@${VERSION}: tarball integrity ${actual} does not match the registry's ${info.integrity}`);
    }
    if (actual !== INTEGRITY) {
      throw new Error(`${PACKAGE}@${VERSION}: integrity ${actual} is not the pinned ${INTEGRITY}`);
    }
    execFileSync('tar', ['xzf', tarball, '-C', tmp, 'package/emulator'], { stdio: 'inherit' });
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.cpSync(path.join(tmp, 'package', 'emulator'), dest, { recursive: true });
    if (!fs.existsSync(path.join(dest, 'DynamoDBLocal.jar'))) {
      throw new Error(`${PACKAGE}@${VERSION} has no emulator/DynamoDBLocal.jar`);
    }
    fs.writeFileSync(marker, `${PACKAGE}@${VERSION}\n`);
    console.log(`DynamoDB Local from ${PACKAGE}@${VERSION} → ${path.relative(root, dest)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
