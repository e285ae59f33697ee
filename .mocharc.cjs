// Tests run transpile-only (type-checking is `npm run typecheck`, once); one DynamoDB Local for the run, which needs
// a JDK: test/support/requireJdk.js stops the run at once with one line when there is none (`npm run test:unit`
// runs the tests that need no database, with test/unit/mocharc.cjs). test/support/quiet.ts keeps what the code
// under test prints in .local/test-output.log (and under a failed test); DEBUG=1 prints it as it happens.
module.exports = {
  require: ['test/support/requireJdk.js', 'ts-node/register/transpile-only', 'test/support/quiet.ts', 'test/support/dynamodb.ts'],
  extension: ['ts'],
  reporter: 'test/support/reporter.js',
  timeout: 20000,
  // two files at a time (this machine and CI have 2 cores): most of the end-to-end time is waiting on sockets, the
  // JVM and health-check intervals. Global fixtures (one DynamoDB Local) still run once, in the main process.
  parallel: true,
  jobs: 2,
  recursive: true,
};
