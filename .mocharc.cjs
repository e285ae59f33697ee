// Tests run transpile-only (type-checking is `npm run typecheck`, once); one DynamoDB Local for the run.
module.exports = {
  require: ['ts-node/register/transpile-only', 'test/support/dynamodb.ts'],
  extension: ['ts'],
  reporter: 'test/support/reporter.js',
  timeout: 20000,
  recursive: true,
};
