// Tests run through tsx (esbuild: no type-checking, which is `npm run typecheck`, once; compiled files are cached on
// disk, so each worker and child process after the first loads them at once); one DynamoDB Local for the run, which needs
// a JDK: test/support/requireJdk.js stops the run at once with one line when there is none (`npm run test:unit`
// runs the tests that need no database, with test/unit/mocharc.cjs). test/support/quiet.ts keeps what the code
// under test prints in .local/test-output.log (and under a failed test); DEBUG=1 prints it as it happens.
// test/support/reporter.js ends every run with its 10 slowest tests and hooks.
const fs = require('node:fs');
const path = require('node:path');

// The files that take longest, longest first (measured on this 2-core machine; the reporter's "slowest 10" shows
// where time goes): mocha hands files to its workers in list order, so starting these first keeps one long file from
// running alone at the end while the other workers sit idle. Every other test file follows in alphabetical order.
const LONGEST_FIRST = [
  'test/e2e/drills.test.ts',
  'test/e2e/routing.test.ts',
  'test/e2e/failover.test.ts',
  'test/e2e/emulator.test.ts',
  'test/console/console.test.ts',
  'test/e2e/regionAdd.test.ts',
  'test/e2e/start.test.ts',
  'test/e2e/readme.test.ts',
  'test/e2e/drillsReplication.test.ts',
  'test/appsync/amplify.test.ts',
];
const allTests = fs
  .readdirSync(path.join(__dirname, 'test'), { recursive: true })
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => path.join('test', f))
  .sort();
for (const f of LONGEST_FIRST) {
  if (!allTests.includes(f)) throw new Error(`.mocharc.cjs: ${f} in LONGEST_FIRST is not a test file (renamed or removed?)`);
}

const namedOnCommandLine = process.argv.slice(2).some((a) => !a.startsWith('-') && (/\.[cm]?[jt]s$/.test(a) || /^(\.\/)?test(\/|$)/.test(a)));

module.exports = {
  // only when no test file or folder is named on the command line (`npx mocha test/x.test.ts`, `npm test -- test/x`):
  // mocha adds named files to the configured spec instead of replacing it
  ...(namedOnCommandLine ? {} : { spec: [...LONGEST_FIRST, ...allTests.filter((f) => !LONGEST_FIRST.includes(f))] }),
  // mocha starts itself again with these options, and its workers inherit them. A young generation of up to
  // 64 MB a semi-space (V8's default is 16): a Pulumi-mock program run makes mostly short-lived objects (promises,
  // outputs) and spent a third of its CPU in the garbage collector (CPU profile); with 64 MB a 2-region run takes
  // about a fifth less CPU (346 → 275 ms on average, 10 runs each, 3 times)
  'node-option': ['import=tsx', 'max-semi-space-size=64'],
  require: ['test/support/requireJdk.js', 'test/support/quiet.ts', 'test/support/dynamodb.ts'],
  extension: ['ts'],
  reporter: 'test/support/reporter.js',
  timeout: 20000,
  // Four files at a time on this machine's (and CI's) 2 cores. Most of an end-to-end file's time is waiting (on
  // sockets, DynamoDB Local, health-check intervals, replication lags, child processes), so fewer files at a time
  // leave the cores idle. More is not free either: a running emulator costs CPU just by being up (stream polls,
  // health checks: about a fifth of a core), so a file slowed down by contention costs more CPU in all. Measured on
  // clean clones of the same code, same afternoon: 4 jobs 98–111 s (160–182 s of user CPU), 3 jobs 107–121 s
  // (158–178 s); 2 jobs took 140 s and 5 jobs 129 s on earlier code. The tests wait for states, not for times, so
  // contention slows them down without making them fail. Global fixtures (one DynamoDB Local) still run once, in
  // the main process; each worker keeps its modules (and its Pulumi-mock runs, scripts/mockCloud.ts cachedRun)
  // between files.
  parallel: true,
  jobs: 4,
  recursive: true,
};
