// Tests run transpile-only (type-checking is `npm run typecheck`, once); one DynamoDB Local for the run, which needs
// a JDK: test/support/requireJdk.js stops the run at once with one line when there is none (`npm run test:unit`
// runs the tests that need no database, with test/unit/mocharc.cjs). test/support/quiet.ts keeps what the code
// under test prints in .local/test-output.log (and under a failed test); DEBUG=1 prints it as it happens.
// test/support/reporter.js ends every run with its 10 slowest tests and hooks.
module.exports = {
  require: ['test/support/requireJdk.js', 'ts-node/register/transpile-only', 'test/support/quiet.ts', 'test/support/dynamodb.ts'],
  extension: ['ts'],
  reporter: 'test/support/reporter.js',
  timeout: 20000,
  // Four files at a time on this machine's (and CI's) 2 cores: most of an end-to-end file's time is waiting — on
  // sockets, on DynamoDB Local, on health-check intervals, replication lags and child processes — so two files at
  // a time left the cores idle much of the run. The tests wait for states, not for times, so the extra contention
  // slows them down without making them fail. Global fixtures (one DynamoDB Local) still run once, in the main
  // process; each worker keeps its modules (and its Pulumi-mock runs, scripts/mockCloud.ts cachedRun) between files.
  parallel: true,
  jobs: 4,
  recursive: true,
};
