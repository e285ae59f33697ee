/**
 * config/: the `auth` keys — `auth.mode: token` (secret | jwksUrl | publicKey, issuer, audience,
 * ttlSeconds) and apiKey's shared `key`. Each bad value is one problem naming the key and the value (secret
 * values masked: only their length is shown); good ones come out typed. parseConfig directly: no program run.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, parseConfig, parseStackYaml, projectKeys, type StackConfig } from '../../config';
import { ENCRYPTED_PLACEHOLDER } from '../../config/auth';

const SECRET = 'x'.repeat(32);
const rsaPem = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
const ecPem = (curve: string) => generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'pem' }) as string;

function parse(auth: unknown): StackConfig {
  return parseConfig({ regions: 'eu-west-1,ap-southeast-2', auth: JSON.stringify(auth) }, { stack: 'dev' });
}
function problems(auth: unknown): ConfigError {
  try {
    parse(auth);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail(`auth ${JSON.stringify(auth)} was accepted`);
}

describe('config/: auth.mode token and the shared API key', () => {
  const base = { mode: 'token', issuer: 'https://auth.example.com/', audience: 'global-appsync' };

  it('token with a secret: typed, ttlSeconds defaults to 300', () => {
    assert.deepEqual(parse({ ...base, secret: SECRET }).auth, { mode: 'token', secret: SECRET, issuer: base.issuer, audience: base.audience, ttlSeconds: 300 });
  });
  it('token with a jwksUrl, or an RSA-2048 / EC P-256 public key, and a ttl', () => {
    assert.deepEqual(parse({ ...base, jwksUrl: 'https://auth.example.com/.well-known/jwks.json', ttlSeconds: 0 }).auth, { mode: 'token', jwksUrl: 'https://auth.example.com/.well-known/jwks.json', issuer: base.issuer, audience: base.audience, ttlSeconds: 0 });
    for (const pem of [rsaPem(2048), ecPem('prime256v1')]) assert.equal((parse({ ...base, publicKey: pem }).auth as { publicKey: string }).publicKey, pem);
  });
  it('a secret encrypted in the stack file (read offline) counts as set', () => {
    const all = parseStackYaml('config:\n  global-appsync:regions: eu-west-1\n  global-appsync:auth:\n    mode: token\n    issuer: iss\n    audience: aud\n    secret:\n      secure: v1:AAAABBBB\n', 'Pulumi.t.yaml');
    const cfg = parseConfig(projectKeys(all), { stack: 't' });
    assert.equal((cfg.auth as { secret: string }).secret, ENCRYPTED_PLACEHOLDER);
  });
  it('apiKey takes an optional shared key of 20-128 letters and digits', () => {
    assert.deepEqual(parse({ mode: 'apiKey', key: 'A1'.repeat(10) }).auth, { mode: 'apiKey', expiresInDays: 365, key: 'A1'.repeat(10) });
    assert.deepEqual(parse({ mode: 'apiKey' }).auth, { mode: 'apiKey', expiresInDays: 365 });
  });

  // [what, auth, key, value shown, says]
  const BAD: [string, unknown, string, string, string][] = [
    ['no key source', base, 'auth.secret', '(not set)', 'exactly one of secret'],
    ['two key sources', { ...base, secret: SECRET, jwksUrl: 'https://a.example.com/jwks' }, 'auth.secret+jwksUrl', '2 key sources', 'secret and jwksUrl are set'],
    ['secret too short (value masked)', { ...base, secret: 'short-secret' }, 'auth.secret', '[secret, 12 bytes]', 'at least 32 bytes'],
    ['secret not a string', { ...base, secret: 42 }, 'auth.secret', '42', 'at least 32 bytes'],
    ['jwksUrl over http', { ...base, jwksUrl: 'http://auth.example.com/jwks' }, 'auth.jwksUrl', '"http://auth.example.com/jwks"', 'https://'],
    ['jwksUrl not a URL', { ...base, jwksUrl: 'jwks.json' }, 'auth.jwksUrl', '"jwks.json"', 'https://'],
    ['publicKey not PEM', { ...base, publicKey: 'ssh-rsa AAAA' }, 'auth.publicKey', '"ssh-rsa AAAA"', 'PEM public key'],
    ['publicKey RSA 1024', { ...base, publicKey: rsaPem(1024) }, 'auth.publicKey', 'BEGIN PUBLIC KEY', 'this one is rsa of 1024 bits'],
    ['publicKey on P-384', { ...base, publicKey: ecPem('secp384r1') }, 'auth.publicKey', 'BEGIN PUBLIC KEY', 'on secp384r1'],
    ['issuer missing', { mode: 'token', audience: 'a', secret: SECRET }, 'auth.issuer', '(not set)', 'the `iss` claim'],
    ['audience empty', { ...base, audience: ' ', secret: SECRET }, 'auth.audience', '" "', 'the `aud` claim'],
    ['ttlSeconds over an hour', { ...base, secret: SECRET, ttlSeconds: 7200 }, 'auth.ttlSeconds', '7200', '0 to 3600'],
    ['ttlSeconds fractional', { ...base, secret: SECRET, ttlSeconds: 1.5 }, 'auth.ttlSeconds', '1.5', '0 to 3600'],
    ['unknown token field', { ...base, secret: SECRET, algorithm: 'HS256' }, 'auth.algorithm', '"HS256"', 'auth takes: mode, secret, jwksUrl'],
    ['token mode misspelt', { ...base, mode: 'tokn', secret: SECRET }, 'auth.mode', '"tokn"', 'did you mean "token"?'],
    ['apiKey key too short (masked)', { mode: 'apiKey', key: 'abc123' }, 'auth.key', '[secret, 6 bytes]', '20 to 128 letters and digits'],
    ['apiKey key with punctuation', { mode: 'apiKey', key: 'abcdefghij-klmnopqrstuvwxyz' }, 'auth.key', '[secret, 27 bytes]', '20 to 128 letters and digits'],
    ['apiKey key too long', { mode: 'apiKey', key: 'a'.repeat(129) }, 'auth.key', '[secret, 129 bytes]', '20 to 128'],
  ];
  for (const [what, auth, key, value, says] of BAD) {
    it(`refuses: ${what}`, () => {
      const e = problems(auth);
      const line = e.message.split('\n').find((l) => l.startsWith(`  - ${key}: `));
      assert.ok(line, `no line for ${key} in:\n${e.message}`);
      assert.ok(line.includes(value), `line does not show ${value}: ${line}`);
      assert.ok(line.includes(says), `line does not say ${says}: ${line}`);
    });
  }
  it('never echoes a secret or key value', () => {
    const e = problems({ ...base, secret: 'my-very-private-short' });
    assert.ok(!e.message.includes('my-very-private-short'), e.message);
    const k = problems({ mode: 'apiKey', key: 'private-key-value!' });
    assert.ok(!k.message.includes('private-key-value'), k.message);
    const typo = problems({ ...base, secret: SECRET, secert: 'hunter2-typo-secret' });
    assert.ok(typo.message.includes('auth.secert: "[secret, 19 bytes]"') && !typo.message.includes('hunter2'), typo.message);
  });
});
