// `npm run test:unit`: every test that needs no database (no JDK, no DynamoDB Local) — Pulumi mocks, config, plan,
// build, the APPSYNC_JS runtime check. Same options as .mocharc.cjs without the DynamoDB Local fixture.
// In parallel, one file per core: these tests compute (Pulumi program runs under mocks, esbuild, graphql), they do
// not wait, so more workers than cores would only take turns.
module.exports = {
  // as in .mocharc.cjs: tsx, and a larger young generation for the Pulumi-mock runs
  'node-option': ['import=tsx', 'max-semi-space-size=64'],
  require: ['test/support/quiet.ts'],
  extension: ['ts'],
  reporter: 'test/support/reporter.js',
  timeout: 20000,
  parallel: true,
  jobs: 2,
  spec: ['test/unit/**/*.test.ts', 'test/resolvers/runtimeFeatures.test.ts', 'test/resolvers/schema.test.ts', 'test/resolvers/util.test.ts', 'test/handlers/stateCli.test.ts', 'test/handlers/authorizer.test.ts', 'test/docs/*.test.ts'],
};
