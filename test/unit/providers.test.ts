/**
 * `aws:*` stack settings reach every region's explicit provider (explicit providers ignore them otherwise:
 * pulumi/pulumi-aws#1307, #3259), typed and validated by config/; credentials stay secret.
 */
import assert from 'node:assert/strict';
import { AWS_SETTINGS, ConfigError, parseConfig } from '../../config';
import { cachedRun, ofType, runProgram } from '../../scripts/mockCloud';

const ROLE = 'arn:aws:iam::123456789012:role/deploy';
const SETTINGS: Record<string, string> = {
  'aws:region': 'eu-west-1',
  'aws:profile': 'prod-admin',
  'aws:allowedAccountIds': JSON.stringify(['123456789012']),
  'aws:assumeRoles': JSON.stringify([{ roleArn: ROLE, sessionName: 'pulumi' }]),
  'aws:defaultTags': JSON.stringify({ tags: { team: 'platform' } }),
  'aws:skipMetadataApiCheck': 'false',
  'aws:maxRetries': '7',
};
/** pulumi-aws sends structured provider inputs as JSON text; plain values as they are. */
const decoded = (v: unknown): unknown => (typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v);

describe('aws:* settings → every region provider', function () {
  this.timeout(120_000);

  it('profile, allowedAccountIds, assumeRoles, defaultTags, skip* and retries reach every provider, each with its own region', async () => {
    const regions = ['eu-west-1', 'ap-southeast-2'];
    const run = await cachedRun({ regions: JSON.stringify(regions), ...SETTINGS });
    const providers = ofType(run, 'pulumi:providers:aws');
    assert.deepEqual(providers.map((p) => p.inputs.region).sort(), [...regions, 'us-east-1'].sort());
    for (const p of providers) {
      assert.equal(p.inputs.profile, 'prod-admin', p.name);
      assert.deepEqual(decoded(p.inputs.allowedAccountIds), ['123456789012'], p.name);
      assert.deepEqual(decoded(p.inputs.assumeRoles), [{ roleArn: ROLE, sessionName: 'pulumi' }], p.name);
      assert.deepEqual(decoded(p.inputs.defaultTags), { tags: { team: 'platform' } }, p.name);
      assert.equal(String(p.inputs.skipMetadataApiCheck), 'false', p.name);
      assert.equal(String(p.inputs.maxRetries), '7', p.name);
    }
  });

  it('the old single aws:assumeRole is read as one assumeRoles entry; aws:region and unknown keys are handled', async () => {
    const cfg = parseConfig({ regions: 'eu-west-1' }, { stack: 'dev', aws: { region: 'us-east-1', assumeRole: JSON.stringify({ roleArn: ROLE }) } });
    assert.deepEqual(cfg.providerSettings, { assumeRoles: [{ roleArn: ROLE }] });
    assert.throws(
      () => parseConfig({ regions: 'eu-west-1' }, { stack: 'dev', aws: { allowedAccountIds: '12345', skipCredentialsValidation: 'yes', profle: 'x' } }),
      (e: unknown) => e instanceof ConfigError && ['aws:allowedAccountIds', 'aws:skipCredentialsValidation', 'aws:profle'].every((k) => e.problems.some((p) => p.key === k)),
    );
    assert.ok(Object.keys(AWS_SETTINGS).length >= 25);
  });

  it('credentials are forwarded as secrets', async () => {
    const run = await runProgram({ regions: 'eu-west-1', 'aws:accessKey': 'AKIAEXAMPLE', 'aws:secretKey': 'shh' });
    for (const p of ofType(run, 'pulumi:providers:aws')) {
      // Pulumi's wire form of a secret: its special signature key + the value
      const SECRET_SIG = '4dabf18193072939515e22adb298388d';
      assert.deepEqual(p.inputs.accessKey, { [SECRET_SIG]: '1b47061264138c4ac30d75fd1eb44270', value: 'AKIAEXAMPLE' });
      assert.deepEqual(p.inputs.secretKey, { [SECRET_SIG]: '1b47061264138c4ac30d75fd1eb44270', value: 'shh' });
    }
  });
});
