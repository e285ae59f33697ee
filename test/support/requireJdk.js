// Loaded first by .mocharc.cjs (npm test): the test run starts DynamoDB Local, AWS's own Java jar, through a small
// launcher compiled with javac (local/dynamodbLocal.ts). Without a Java 17+ JDK every database test would fail with
// a stack trace, so stop at once with one line saying what to install. `npm run test:unit` needs no Java.
'use strict';
const { spawnSync } = require('node:child_process');

const INSTALL =
  'install a Java 17+ JDK (java and javac) — Debian/Ubuntu: sudo apt-get install openjdk-17-jdk-headless · ' +
  'macOS: brew install openjdk@17 · Windows: winget install Microsoft.OpenJDK.17 — or run `npm run test:unit` (no database needed)';

function version(tool) {
  const r = spawnSync(tool, ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  const m = /(?:javac|version)\s+"?(\d+)(?:\.(\d+))?/.exec(`${r.stdout}\n${r.stderr}`);
  if (!m) return 0;
  return Number(m[1]) === 1 ? Number(m[2]) : Number(m[1]); // "1.8" is Java 8
}

const missing = ['java', 'javac'].map((tool) => [tool, version(tool)]).filter(([, v]) => v === undefined || v < 17);
if (missing.length > 0) {
  const what = missing.map(([tool, v]) => (v === undefined ? `${tool} not found` : `${tool} is version ${v}`)).join(', ');
  process.stderr.write(`npm test needs Java 17+ for DynamoDB Local (${what}): ${INSTALL}\n`);
  process.exit(1);
}
