import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { AWS_REGIONS, CONFIG_KEYS, ConfigError, parseConfig, parseStackYaml, projectKeys, readStackFile } from '../../config';
import { lastRun, runProgram } from '../../scripts/mockCloud';

const ROOT = path.resolve(__dirname, '..', '..');
const ok = { regions: 'eu-west-1,ap-southeast-2' };

/** Each bad config: the raw keys, then the key and the value the error message must name (and what it must say). */
export const BAD_CONFIGS: ReadonlyArray<{ what: string; raw: Record<string, string>; key: string; value: string; says?: string }> = [
  { what: 'regions missing', raw: {}, key: 'regions', value: '(not set)' },
  { what: 'regions empty string', raw: { regions: '' }, key: 'regions', value: '(not set)' },
  { what: 'regions empty JSON array', raw: { regions: '[]' }, key: 'regions', value: '"[]"' },
  { what: 'regions broken JSON', raw: { regions: '["eu-west-1",' }, key: 'regions', value: '"[\\"eu-west-1\\","' },
  { what: 'regions JSON object', raw: { regions: '{"a":1}' }, key: 'regions', value: '"{\\"a\\":1}"' },
  { what: 'unknown region', raw: { regions: 'eu-west-1,eu-west-9' }, key: 'regions[1]', value: '"eu-west-9"' },
  { what: 'region with capitals', raw: { regions: 'EU-WEST-1' }, key: 'regions[0]', value: '"EU-WEST-1"', says: 'did you mean "eu-west-1"?' },
  { what: 'region missing a dash', raw: { regions: 'eu-west1' }, key: 'regions[0]', value: '"eu-west1"', says: 'did you mean "eu-west-1"?' },
  { what: 'region one letter off', raw: { regions: 'eu-wset-1' }, key: 'regions[0]', value: '"eu-wset-1"', says: 'did you mean "eu-west-1"?' },
  { what: 'China partition region', raw: { regions: 'cn-north-1' }, key: 'regions[0]', value: '"cn-north-1"' },
  { what: 'GovCloud region', raw: { regions: '["us-gov-west-1"]' }, key: 'regions[0]', value: '"us-gov-west-1"' },
  { what: 'duplicate region', raw: { regions: 'eu-west-1,ap-southeast-2,eu-west-1' }, key: 'regions[2]', value: '"eu-west-1"' },
  { what: 'empty entry in comma list', raw: { regions: 'eu-west-1,,ap-southeast-2' }, key: 'regions[1]', value: '""' },
  { what: 'number in region array', raw: { regions: '["eu-west-1", 5]' }, key: 'regions[1]', value: '5' },
  { what: 'homeRegion not in regions', raw: { ...ok, homeRegion: 'us-east-1' }, key: 'homeRegion', value: '"us-east-1"' },
  { what: 'primaryRegion not in regions', raw: { ...ok, primaryRegion: 'us-west-2' }, key: 'primaryRegion', value: '"us-west-2"' },
  { what: 'primaryRegion not a region', raw: { ...ok, primaryRegion: 'mars-1' }, key: 'primaryRegion', value: '"mars-1"' },
  { what: 'writeMode unknown', raw: { ...ok, writeMode: 'single' }, key: 'writeMode', value: '"single"' },
  { what: 'writeMode wrong case', raw: { ...ok, writeMode: 'Primary' }, key: 'writeMode', value: '"Primary"', says: 'did you mean "primary"?' },
  { what: 'writeMode without its dash', raw: { ...ok, writeMode: 'multimaster' }, key: 'writeMode', value: '"multimaster"', says: 'did you mean "multi-master"?' },
  { what: 'domain not JSON', raw: { ...ok, domain: 'api.example.com' }, key: 'domain', value: '"api.example.com"' },
  { what: 'domain name outside zone', raw: { ...ok, domain: '{"zoneName":"example.com","name":"api.example.org"}' }, key: 'domain.name', value: '"api.example.org"' },
  { what: 'domain name equals zone', raw: { ...ok, domain: '{"zoneName":"example.com","name":"example.com"}' }, key: 'domain.name', value: '"example.com"' },
  { what: 'domain zoneName missing', raw: { ...ok, domain: '{"name":"api.example.com"}' }, key: 'domain.zoneName', value: '(not set)' },
  { what: 'domain bad label', raw: { ...ok, domain: '{"zoneName":"example.com","name":"-api.example.com"}' }, key: 'domain.name', value: '"-api.example.com"' },
  { what: 'domain upper case', raw: { ...ok, domain: '{"zoneName":"Example.com","name":"api.Example.com"}' }, key: 'domain.zoneName', value: '"Example.com"' },
  { what: 'domain unknown field', raw: { ...ok, domain: '{"zoneName":"example.com","name":"api.example.com","ttl":60}' }, key: 'domain.ttl', value: '60' },
  { what: 'domain bad zoneId', raw: { ...ok, domain: '{"zoneName":"example.com","name":"api.example.com","zoneId":"abc"}' }, key: 'domain.zoneId', value: '"abc"' },
  { what: 'auth not an object', raw: { ...ok, auth: '"apiKey"' }, key: 'auth', value: '"\\"apiKey\\""' },
  { what: 'auth unknown mode', raw: { ...ok, auth: '{"mode":"iam"}' }, key: 'auth.mode', value: '"iam"' },
  { what: 'auth mode in the wrong case', raw: { ...ok, auth: '{"mode":"apikey"}' }, key: 'auth.mode', value: '"apikey"', says: 'did you mean "apiKey"?' },
  { what: 'auth mode named after the token (jwt)', raw: { ...ok, auth: '{"mode":"jwt"}' }, key: 'auth.mode', value: '"jwt"', says: 'did you mean "token"?' },
  { what: 'auth mode by its AppSync name (OPENID_CONNECT)', raw: { ...ok, auth: '{"mode":"OPENID_CONNECT"}' }, key: 'auth.mode', value: '"OPENID_CONNECT"', says: 'did you mean "oidc"?' },
  { what: 'bad auth mode: its other fields are still checked', raw: { ...ok, auth: '{"mode":"apikey","expiresInDays":400}' }, key: 'auth.expiresInDays', value: '400' },
  { what: 'bad auth mode: fields of the mode they belong to are checked', raw: { ...ok, auth: '{"mode":"sso","issuer":"http://id.example.com"}' }, key: 'auth.issuer', value: '"http://id.example.com"' },
  { what: 'auth mode missing', raw: { ...ok, auth: '{}' }, key: 'auth.mode', value: '(not set)' },
  { what: 'apiKey expiry too long', raw: { ...ok, auth: '{"mode":"apiKey","expiresInDays":400}' }, key: 'auth.expiresInDays', value: '400' },
  { what: 'apiKey expiry not a number', raw: { ...ok, auth: '{"mode":"apiKey","expiresInDays":"7"}' }, key: 'auth.expiresInDays', value: '"7"' },
  { what: 'lambda authorizer not an ARN', raw: { ...ok, auth: '{"mode":"lambda","authorizerArn":"my-function"}' }, key: 'auth.authorizerArn', value: '"my-function"' },
  { what: 'lambda ttl too long', raw: { ...ok, auth: '{"mode":"lambda","authorizerArn":"arn:aws:lambda:eu-west-1:123456789012:function:auth","ttlSeconds":7200}' }, key: 'auth.ttlSeconds', value: '7200' },
  { what: 'cognito pool id missing', raw: { ...ok, auth: '{"mode":"cognito"}' }, key: 'auth.userPoolId', value: '(not set)' },
  { what: 'cognito pool id malformed', raw: { ...ok, auth: '{"mode":"cognito","userPoolId":"pool-1"}' }, key: 'auth.userPoolId', value: '"pool-1"' },
  { what: 'oidc issuer http', raw: { ...ok, auth: '{"mode":"oidc","issuer":"http://id.example.com","clientId":"app"}' }, key: 'auth.issuer', value: '"http://id.example.com"' },
  { what: 'oidc unknown field', raw: { ...ok, auth: '{"mode":"oidc","issuer":"https://id.example.com","clientId":"app","secret":"x"}' }, key: 'auth.secret', value: '"x"' },
  { what: 'oidc without clientId (REST checks aud)', raw: { ...ok, auth: '{"mode":"oidc","issuer":"https://id.example.com"}' }, key: 'auth.clientId', value: '(not set)', says: 'checks each token' },
  { what: 'tableName too short', raw: { ...ok, tableName: 'ab' }, key: 'tableName', value: '"ab"' },
  { what: 'tableName with space', raw: { ...ok, tableName: 'my items' }, key: 'tableName', value: '"my items"' },
  { what: 'protect not boolean', raw: { ...ok, protect: 'yes' }, key: 'protect', value: '"yes"' },
  { what: 'alarmEmail not an address', raw: { ...ok, alarmEmail: 'ops-at-example' }, key: 'alarmEmail', value: '"ops-at-example"' },
  { what: 'alarms not an object', raw: { ...ok, alarms: '5000' }, key: 'alarms', value: '"5000"' },
  { what: 'alarms unknown threshold', raw: { ...ok, alarms: '{"replicationLatencyAverageMS":5000}' }, key: 'alarms.replicationLatencyAverageMS', value: '5000', says: 'did you mean "replicationLatencyAverageMs"?' },
  { what: 'alarms threshold not a number', raw: { ...ok, alarms: '{"appsyncLatencyP99Ms":"2s"}' }, key: 'alarms.appsyncLatencyP99Ms', value: '"2s"', says: 'a number from 0 to 60000' },
  { what: 'alarms threshold negative', raw: { ...ok, alarms: '{"functionErrorsPerMinute":-1}' }, key: 'alarms.functionErrorsPerMinute', value: '-1' },
  { what: 'alarms latency beyond the API timeout', raw: { ...ok, alarms: '{"apiGatewayLatencyP99Ms":3000000}' }, key: 'alarms.apiGatewayLatencyP99Ms', value: '3000000' },
  // waf and throttle (config/protection.ts)
  { what: 'waf neither boolean nor object', raw: { ...ok, waf: 'yes' }, key: 'waf', value: '"yes"', says: 'or true / false' },
  { what: 'waf rate limit below AWS WAF minimum', raw: { ...ok, waf: '{"rateLimitPer5Min":9}' }, key: 'waf.rateLimitPer5Min', value: '9', says: 'from 10' },
  { what: 'waf rate limit not whole', raw: { ...ok, waf: '{"rateLimitPer5Min":100.5}' }, key: 'waf.rateLimitPer5Min', value: '100.5' },
  { what: 'waf rate limit above AWS WAF maximum', raw: { ...ok, waf: '{"rateLimitPer5Min":2000000001}' }, key: 'waf.rateLimitPer5Min', value: '2000000001', says: 'to 2000000000' },
  { what: 'waf managedRules not boolean', raw: { ...ok, waf: '{"managedRules":"yes"}' }, key: 'waf.managedRules', value: '"yes"', says: 'true or false' },
  { what: 'waf unknown field', raw: { ...ok, waf: '{"rateLimit":100}' }, key: 'waf.rateLimit', value: '100', says: 'waf takes: rateLimitPer5Min, managedRules' },
  { what: 'throttle not an object', raw: { ...ok, throttle: '100' }, key: 'throttle', value: '"100"', says: '{rateLimit, burstLimit[, quotaPerDay]}' },
  { what: 'throttle rate zero', raw: { ...ok, throttle: '{"rateLimit":0}' }, key: 'throttle.rateLimit', value: '0', says: 'from 1 to 10000' },
  { what: 'throttle rate quoted (a string)', raw: { ...ok, throttle: '{"rateLimit":"100"}' }, key: 'throttle.rateLimit', value: '"100"', says: '"100" — a string, not a number: write 100 without quotes; requests per second' },
  { what: 'token ttl quoted (a string)', raw: { ...ok, auth: '{"mode":"token","secret":"' + 'x'.repeat(32) + '","issuer":"i","audience":"a","ttlSeconds":"60"}' }, key: 'auth.ttlSeconds', value: '"60"', says: 'a string, not a number: write 60 without quotes' },
  { what: 'throttle rate above the account limit', raw: { ...ok, throttle: '{"rateLimit":20000,"burstLimit":5000}' }, key: 'throttle.rateLimit', value: '20000' },
  { what: 'throttle burst not whole', raw: { ...ok, throttle: '{"burstLimit":"200"}' }, key: 'throttle.burstLimit', value: '"200"', says: 'from 1 to 5000' },
  { what: 'throttle burst below the rate', raw: { ...ok, throttle: '{"rateLimit":500,"burstLimit":100}' }, key: 'throttle.burstLimit', value: '100', says: 'at least rateLimit (500)' },
  { what: 'throttle quota zero', raw: { ...ok, throttle: '{"quotaPerDay":0}' }, key: 'throttle.quotaPerDay', value: '0' },
  { what: 'throttle unknown field', raw: { ...ok, throttle: '{"rate":100}' }, key: 'throttle.rate', value: '100', says: 'throttle takes: rateLimit, burstLimit, quotaPerDay' },
  // consistency, witnessRegion, drills (the MRSC shapes in detail: test/unit/consistencyDrills.test.ts)
  { what: 'consistency unknown', raw: { ...ok, consistency: 'linearizable' }, key: 'consistency', value: '"linearizable"', says: 'one of eventual, strong' },
  { what: 'consistency strong outside the MRSC region sets', raw: { ...ok, consistency: 'strong' }, key: 'regions[1]', value: '"ap-southeast-2"', says: 'ap-southeast-2 is in no MRSC region set' },
  { what: 'witnessRegion without strong', raw: { ...ok, witnessRegion: 'eu-west-2' }, key: 'witnessRegion', value: '"eu-west-2"', says: 'only with consistency strong' },
  { what: 'witnessRegion of another set', raw: { regions: 'eu-west-1,eu-west-2', consistency: 'strong', witnessRegion: 'us-east-2' }, key: 'witnessRegion', value: '"us-east-2"', says: 'us-east-2 is in the US region set' },
  { what: 'drills not a boolean', raw: { ...ok, drills: 'yes' }, key: 'drills', value: '"yes"', says: 'true, false or {"pauseMinutes": N}' },
  { what: 'drills pauseMinutes out of range', raw: { ...ok, drills: '{"pauseMinutes":0}' }, key: 'drills.pauseMinutes', value: '0', says: 'from 1 to 720' },
  { what: 'drills unknown field', raw: { ...ok, drills: '{"pauseMinute":5}' }, key: 'drills.pauseMinute', value: '5', says: 'did you mean "pauseMinutes"?' },
  { what: 'unknown key (typo of regions)', raw: { ...ok, region: 'eu-west-1' }, key: 'region', value: '"eu-west-1"', says: 'did you mean "regions"?' },
  { what: 'unknown key (typo of primaryRegion)', raw: { ...ok, primaryregion: 'eu-west-1' }, key: 'primaryregion', value: '"eu-west-1"', says: 'did you mean "primaryRegion"?' },
  { what: 'project namespace misspelt', raw: { 'globalappsync:regions': 'eu-west-1' }, key: 'globalappsync:regions', value: '"eu-west-1"', says: 'did you mean "global-appsync:regions"?' },
  { what: 'aws setting misspelt', raw: { ...ok, 'aws:profil': 'prod' }, key: 'aws:profil', value: '"prod"', says: 'did you mean "aws:profile"?' },
  { what: 'stateCacheMs negative', raw: { ...ok, stateCacheMs: '-1' }, key: 'stateCacheMs', value: '"-1"', says: 'a whole number of milliseconds from 0 to 10000' },
  { what: 'stateCacheMs fractional', raw: { ...ok, stateCacheMs: '1.5' }, key: 'stateCacheMs', value: '"1.5"' },
  { what: 'stateCacheMs over the limit', raw: { ...ok, stateCacheMs: '10001' }, key: 'stateCacheMs', value: '"10001"', says: 'the write bound grows with it' },
  { what: 'stateCacheMs not a number', raw: { ...ok, stateCacheMs: '1s' }, key: 'stateCacheMs', value: '"1s"' },
  // aws:defaultTags reach every taggable resource, DynamoDB tables included: DynamoDB's tag rule (no @, no comma)
  { what: 'default tag value with @ (DynamoDB refuses it)', raw: { ...ok, 'aws:defaultTags': '{"tags":{"team":"platform","owner":"ops@example.com"}}' }, key: 'aws:defaultTags.tags.owner', value: '"ops@example.com"', says: 'this tag value has "@": the provider puts aws:defaultTags on every resource, DynamoDB tables included' },
  { what: 'default tag key with a comma', raw: { ...ok, 'aws:defaultTags': '{"tags":{"cost,center":"42"}}' }, key: 'aws:defaultTags.tags', value: 'key "cost,center"', says: 'this tag key has ","' },
  { what: 'default tag key with the aws: prefix', raw: { ...ok, 'aws:defaultTags': '{"tags":{"AWS:team":"x"}}' }, key: 'aws:defaultTags.tags', value: 'key "AWS:team"', says: 'starts with the reserved aws: prefix' },
  { what: 'default tag value too long', raw: { ...ok, 'aws:defaultTags': JSON.stringify({ tags: { note: 'n'.repeat(257) } }) }, key: 'aws:defaultTags.tags.note', value: '"nnn', says: 'has 257 characters, more than 256' },
  { what: 'default tag value not a string', raw: { ...ok, 'aws:defaultTags': '{"tags":{"tier":1}}' }, key: 'aws:defaultTags.tags.tier', value: '1', says: 'a string' },
  { what: 'default tags field misspelt', raw: { ...ok, 'aws:defaultTags': '{"tag":{"team":"platform"}}' }, key: 'aws:defaultTags.tag', value: '{"team":"platform"}', says: 'did you mean "tags"?' },
];

/** parseConfig as loadConfig calls it: short keys are the project's, `ns:key` keys keep their namespace. */
function problemsOf(raw: Record<string, string>, stack = 'dev'): ConfigError {
  const all = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.includes(':') ? k : `global-appsync:${k}`, v]));
  try {
    parseConfig(projectKeys(all), { stack, aws: projectKeys(all, 'aws'), all });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail(`config ${JSON.stringify(raw)} was accepted`);
}

describe('config/', () => {
  describe(`rejects ${BAD_CONFIGS.length} bad configs, naming key and value`, () => {
    for (const c of BAD_CONFIGS) {
      it(c.what, async () => {
        // the whole program, under mocks: it throws the same error and registers nothing
        await assert.rejects(runProgram(c.raw, 'dev'), (e: unknown) => e instanceof ConfigError && e.message.includes(`  - ${c.key}: `));
        assert.equal(lastRun().resources.length, 0, 'no resource registered');
        const err = problemsOf(c.raw);
        const line = err.message.split('\n').find((l) => l.startsWith(`  - ${c.key}: `));
        assert.ok(line, `no line for key ${c.key} in:\n${err.message}`);
        assert.ok(line.includes(c.value), `line does not name the value ${c.value}: ${line}`);
        if (c.says) assert.ok(line.includes(c.says), `line does not say ${c.says}: ${line}`);
        assert.ok(err.problems.some((p) => p.key === c.key && p.allowed.length > 10), 'the problem says what is allowed');
      });
    }
  });

  it('refuses a stack name that cannot name the state updater Lambda (64 characters, no dots)', () => {
    const long = 'x'.repeat(36);
    assert.match(problemsOf(ok, long).message, new RegExp(`\\(stack name\\): "${long}" — must make a valid Lambda function name: "global-appsync-${long}-state-updater" .* at most 35`));
    assert.match(problemsOf(ok, 'team.prod').message, /\(stack name\): "team\.prod"/);
    assert.equal(parseConfig(ok, { stack: 'x'.repeat(35) }).stack.length, 35);
  });

  it('stateCacheMs: default 1000, 0 and up to 10000 taken as given; it reaches the items functions and the state updaters\' bound', async () => {
    assert.equal(parseConfig(ok, { stack: 'dev' }).stateCacheMs, 1000);
    assert.equal(parseConfig({ ...ok, stateCacheMs: '0' }, { stack: 'dev' }).stateCacheMs, 0);
    assert.equal(parseConfig({ ...ok, stateCacheMs: '10000' }, { stack: 'dev' }).stateCacheMs, 10000);
    await runProgram({ ...ok, stateCacheMs: '5000' }, 'dev');
    const fns = lastRun().resources.filter((r) => r.type === 'aws:lambda/function:Function');
    const env = (suffix: string) => fns.filter((f) => f.name.endsWith(suffix)).map((f) => f.inputs.environment.variables);
    assert.deepEqual(env('-items').map((e) => e.STATE_CACHE_MS), ['5000', '5000']);
    // the bound: 5 s + the items function's 10 s is under AppSync's 30 s request limit, which binds (as it does up
    // to the largest stateCacheMs: 10 s + 10 s)
    assert.deepEqual(env('-updater').map((e) => e.STATE_WRITE_BOUND_MS), ['30000', '30000']);
  });

  it('aws:defaultTags: tags DynamoDB accepts are forwarded as given; the rule is DynamoDB\'s, the page cited', () => {
    const tags = { team: 'platform', 'cost-center': '12 34/web', 'app:tier': 'gold_1+2=3.0', Ünïcode: 'värde', empty: '' };
    const all = { 'global-appsync:regions': 'eu-west-1', 'aws:defaultTags': JSON.stringify({ tags }) };
    assert.deepEqual(parseConfig(projectKeys(all), { stack: 'dev', aws: projectKeys(all, 'aws'), all }).providerSettings.defaultTags, { tags });
    const err = problemsOf({ ...ok, 'aws:defaultTags': '{"tags":{"owner":"ops@example.com","team":"a,b"}}' });
    assert.deepEqual(err.problems.map((p) => p.key), ['aws:defaultTags.tags.owner', 'aws:defaultTags.tags.team'], 'every bad tag, each named');
    assert.match(err.problems[0].allowed, /letters, numbers, spaces and \+ - = \. _ : \/ only, no aws: prefix \(https:\/\/docs\.aws\.amazon\.com\/amazondynamodb\/latest\/developerguide\/TaggingRestrictions\.html\)$/);
  });

  it('reports every problem at once', () => {
    const err = problemsOf({ regions: 'eu-west-1,xx-1', writeMode: 'x', alarmEmail: 'nope', protect: 'maybe' });
    assert.deepEqual(err.problems.map((p) => p.key).sort(), ['alarmEmail', 'protect', 'regions[1]', 'writeMode']);
    assert.match(err.message, /has 4 problems/);
  });

  it('takes regions as a comma list, a JSON array (YAML list from the CLI) or with spaces', () => {
    const want = ['eu-west-1', 'ap-southeast-2'];
    assert.deepEqual(parseConfig({ regions: 'eu-west-1,ap-southeast-2' }, { stack: 'dev' }).regions, want);
    assert.deepEqual(parseConfig({ regions: '["eu-west-1","ap-southeast-2"]' }, { stack: 'dev' }).regions, want);
    assert.deepEqual(parseConfig({ regions: ' eu-west-1 , ap-southeast-2 ' }, { stack: 'dev' }).regions, want);
  });

  it('defaults homeRegion and primaryRegion to the first region, writeMode to multi-master, auth to apiKey', () => {
    const cfg = parseConfig({ regions: 'ap-southeast-2,eu-west-1' }, { stack: 'dev' });
    assert.equal(cfg.homeRegion, 'ap-southeast-2');
    assert.equal(cfg.primaryRegion, 'ap-southeast-2');
    assert.equal(cfg.writeMode, 'multi-master');
    assert.deepEqual(cfg.auth, { mode: 'apiKey', expiresInDays: 365 });
    assert.equal(cfg.tableName, 'global-appsync-dev-items');
    assert.equal(cfg.appConfigTableName, 'global-appsync-dev-app-config');
    assert.equal(cfg.protect, false);
    assert.equal(parseConfig(ok, { stack: 'prod' }).protect, true);
  });

  it('keeps homeRegion apart from primaryRegion', () => {
    const cfg = parseConfig({ regions: 'us-east-1,eu-west-1', homeRegion: 'us-east-1', primaryRegion: 'eu-west-1' }, { stack: 'dev' });
    assert.equal(cfg.homeRegion, 'us-east-1');
    assert.equal(cfg.primaryRegion, 'eu-west-1');
  });

  it('parses every auth mode', () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:authorizer';
    assert.deepEqual(parseConfig({ ...ok, auth: JSON.stringify({ mode: 'lambda', authorizerArn: arn }) }, { stack: 'dev' }).auth, { mode: 'lambda', authorizerArn: arn, ttlSeconds: 300 });
    assert.deepEqual(parseConfig({ ...ok, auth: '{"mode":"cognito","userPoolId":"eu-west-1_AbC123"}' }, { stack: 'dev' }).auth, { mode: 'cognito', userPoolId: 'eu-west-1_AbC123', awsRegion: 'eu-west-1' });
    assert.deepEqual(parseConfig({ ...ok, auth: '{"mode":"oidc","issuer":"https://id.example.com","clientId":"web"}' }, { stack: 'dev' }).auth, { mode: 'oidc', issuer: 'https://id.example.com', clientId: 'web' });
  });

  it('returns a deeply frozen object', () => {
    const cfg = parseConfig({ ...ok, domain: '{"zoneName":"example.com","name":"api.example.com"}' }, { stack: 'dev' });
    assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.regions) && Object.isFrozen(cfg.domain) && Object.isFrozen(cfg.auth));
    assert.throws(() => (cfg.regions as string[]).push('us-east-1'), TypeError);
  });

  it('lists only commercial-partition regions, each once', () => {
    assert.equal(new Set(AWS_REGIONS).size, AWS_REGIONS.length);
    assert.ok(AWS_REGIONS.every((r) => /^[a-z]{2}-[a-z]+-\d$/.test(r) && !r.startsWith('cn-') && !r.startsWith('us-gov-')));
  });

  it('prints the list of AWS regions once, after the problems, however many regions are wrong', () => {
    const err = problemsOf({ regions: 'eu-west-9,mars-1,us-east-7', homeRegion: 'moon-1' });
    assert.equal(err.message.split('us-east-2').length - 1, 1, err.message);
    assert.match(err.message.split('\n').at(-1)!, /^AWS regions of the aws partition: af-south-1, .*us-west-2$/);
    assert.equal(problemsOf({ writeMode: 'x', regions: 'eu-west-1' }).message.includes('af-south-1'), false, 'no list when no region is wrong');
  });

  it('accepts a domain written with the trailing dot of a fully qualified name', () => {
    const cfg = parseConfig({ ...ok, domain: '{"zoneName":"example.com.","name":"api.example.com."}' }, { stack: 'dev' });
    assert.deepEqual(cfg.domain, { zoneName: 'example.com', name: 'api.example.com' });
  });

  it('a YAML syntax error in a stack file names the file, the line and the column, with no stack trace', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackfile-'));
    fs.writeFileSync(path.join(dir, 'Pulumi.broken.yaml'), 'config:\n  global-appsync:regions: eu-west-1\n\tglobal-appsync:writeMode: primary\n  global-appsync:protect: true\n');
    try {
      assert.throws(
        () => readStackFile('broken', dir),
        (e: unknown) => e instanceof ConfigError && /^ {2}- \S*Pulumi\.broken\.yaml:3:\d+: .* — not valid YAML: /m.test(e.message) && !e.message.includes('    at '),
      );
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('a YAML indentation mistake gets a plain-words hint after the parser\'s message; a setting outside `config:` is named', () => {
    const cases: Array<[string, RegExp]> = [
      // one key indented further than the one above it
      ['config:\n  aws:region: eu-west-1\n    global-appsync:regions: eu-west-1\n', /:2:15: "aws:region: eu-west-1" — not valid YAML: Nested mappings are not allowed in compact mappings \(indentation: a line is indented more than the key above it allows/],
      // one key indented less than the others of its block
      ['config:\n  aws:region: eu-west-1\n global-appsync:regions: eu-west-1\n', /:3:1: "global-appsync:regions: eu-west-1" — not valid YAML: All mapping items must start at the same column \(indentation: the keys of one block must start in the same column/],
      // a list item out of line with the others
      ['config:\n  global-appsync:regions:\n    - eu-west-1\n   - ap-southeast-2\n', /not valid YAML: A block sequence may not be used as an implicit map key \(indentation: /],
      ['config:\n\tglobal-appsync:regions: eu-west-1\n', /not valid YAML: Tabs are not allowed as indentation \(indentation: YAML indents with spaces only/],
    ];
    for (const [text, says] of cases) assert.throws(() => parseStackYaml(text, 'Pulumi.t.yaml'), (e: unknown) => e instanceof ConfigError && says.test(e.message), text);
    // not a YAML error at all: the key is simply outside `config:`, which is then empty
    assert.throws(() => parseStackYaml('config:\nglobal-appsync:regions: eu-west-1\n', 'Pulumi.t.yaml'), /Pulumi\.t\.yaml: global-appsync:regions: "eu-west-1" — not under `config:`: indentation/);
  });

  describe('the stack files on disk', () => {
    it('both stack files pin homeRegion, so reordering regions can never move the tables', () => {
      for (const stack of ['dev', 'prod']) assert.ok(readStackFile(stack, ROOT)['global-appsync:homeRegion'], stack);
    });
    it('Pulumi.dev.yaml: 2 regions, no domain, unprotected', () => {
      const cfg = parseConfig(projectKeys(readStackFile('dev', ROOT)), { stack: 'dev' });
      assert.equal(cfg.regions.length, 2);
      assert.equal(cfg.domain, undefined);
      assert.equal(cfg.protect, false);
    });
    it('Pulumi.prod.yaml: 3 regions, a domain, protected', () => {
      const cfg = parseConfig(projectKeys(readStackFile('prod', ROOT)), { stack: 'prod' });
      assert.equal(cfg.regions.length, 3);
      assert.deepEqual(cfg.domain, { zoneName: 'example.com', name: 'api.example.com' });
      assert.equal(cfg.protect, true);
    });
    it('an unknown stack names the stacks there are', () => {
      assert.throws(() => readStackFile('staging', ROOT), /--stack: "staging" — no Pulumi.staging.yaml; stacks here: dev, prod/);
    });
    it('Pulumi.yaml declares only keys config/ reads, with types the stack files satisfy', () => {
      const project = YAML.parse(fs.readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8'));
      assert.equal(project.name, 'global-appsync');
      const declared = project.config as Record<string, { type: string; default?: unknown }>;
      // the keys Pulumi's schema cannot type (objects, or a list that must also take "a,b,c"), each explained there
      const undeclared = ['regions', 'drainRegions', 'domain', 'auth', 'alarms', 'waf', 'throttle', 'drills', 'reservedConcurrency', 'notifier'];
      for (const key of CONFIG_KEYS) {
        assert.ok(Object.hasOwn(declared, key) !== undeclared.includes(key), `${key}: declared in Pulumi.yaml unless it is one of ${undeclared.join(', ')}`);
      }
      const comments = fs.readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8');
      for (const key of undeclared) assert.match(comments, new RegExp(`^#\\s+${key}\\s+—`, 'm'), `Pulumi.yaml explains why ${key} is not declared`);
      for (const [key, decl] of Object.entries(declared)) {
        assert.ok((CONFIG_KEYS as readonly string[]).includes(key), `Pulumi.yaml declares ${key}, which config.ts does not read`);
        assert.ok(['string', 'integer', 'boolean', 'array'].includes(decl.type), `${key} has type ${decl.type}`);
        for (const stack of ['dev', 'prod']) {
          const v = YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), 'utf8')).config[`global-appsync:${key}`];
          if (v !== undefined) assert.equal(typeof v, decl.type === 'integer' ? 'number' : decl.type, `${stack}: ${key}`);
        }
      }
    });
  });
});
