/**
 * The token authorizer (handlers/authorizer.ts, handlers/lib/auth.ts): the pure core against real JWTs signed with
 * jose — good ones for HS256, RS256, ES256 (PEM and a JWKS served over a real local socket) and a list of bad ones,
 * each refused with its own reason — and both adapters' answers (AppSync AWS_LAMBDA, API Gateway REQUEST), the
 * per-instance cache included. No database.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { authorizeAppSync, authorizeRequest, handler, ResultCache, stageWildcard, type AuthorizerDeps } from '../../handlers/authorizer';
import { JWKS_STALE_MAX_MS, MAX_TOKEN_BYTES, verifyToken, type TokenSettings } from '../../handlers/lib/auth';
import { main as tokenMain, mintToken } from '../../scripts/token';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long!!';
const ISS = 'https://auth.example.com/';
const AUD = 'global-appsync';
const NOW = Date.UTC(2026, 10, 30, 9, 0, 0);
const NOW_S = NOW / 1000;
const HS: TokenSettings = { issuer: ISS, audience: AUD, secret: SECRET };
const b64 = (o: unknown): string => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

async function hs(claims: JWTPayload = {}, header: Record<string, unknown> = {}, secret = SECRET): Promise<string> {
  return new SignJWT({ sub: 'alice', iss: ISS, aud: AUD, iat: NOW_S, exp: NOW_S + 3600, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header })
    .sign(new TextEncoder().encode(secret));
}

describe('token authorizer core: verifyToken', () => {
  let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
  let ec: { publicKey: CryptoKey; privateKey: CryptoKey };
  let rsaPem: string;
  let ecPem: string;
  let jwks: http.Server;
  let jwksUrl: string;

  before(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    rsaPem = await exportSPKI(rsa.publicKey);
    ecPem = await exportSPKI(ec.publicKey);
    const keys = [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' }, { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' }];
    // http on 127.0.0.1 for the test only: config/ refuses any jwksUrl that is not https
    jwks = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })));
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  after(() => new Promise<void>((r) => jwks.close(() => r())));

  const signed = (alg: 'RS256' | 'ES256', kid?: string, claims: JWTPayload = {}) =>
    new SignJWT({ sub: 'bob', iss: ISS, aud: AUD, exp: NOW_S + 600, ...claims })
      .setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })
      .sign(alg === 'RS256' ? rsa.privateKey : ec.privateKey);

  describe('accepts', () => {
    it('HS256 with the shared secret (also with a Bearer prefix), giving sub and claims', async () => {
      const t = await hs({ scope: 'items' });
      for (const tok of [t, `Bearer ${t}`]) {
        const r = await verifyToken(tok, HS, NOW);
        assert.deepEqual(r.ok && [r.sub, r.claims.scope, r.claims.iss], ['alice', 'items', ISS]);
      }
    });
    it('the token npm run token mints', async () => {
      const t = await mintToken({ secret: SECRET, issuer: ISS, audience: AUD, sub: 'carol', ttlSeconds: 60, now: NOW_S });
      const r = await verifyToken(t, HS, NOW);
      assert.deepEqual(r.ok && [r.sub, r.claims.exp, r.claims.nbf], ['carol', NOW_S + 60, NOW_S]);
    });
    it('RS256 and ES256 with a PEM public key of the matching type', async () => {
      assert.deepEqual(await verifyToken(await signed('RS256'), { issuer: ISS, audience: AUD, publicKey: rsaPem }, NOW).then((r) => r.ok && r.sub), 'bob');
      assert.deepEqual(await verifyToken(await signed('ES256'), { issuer: ISS, audience: AUD, publicKey: ecPem }, NOW).then((r) => r.ok && r.sub), 'bob');
    });
    it('RS256 and ES256 through a JWKS, picking the key by kid', async () => {
      const s = { issuer: ISS, audience: AUD, jwksUrl };
      assert.equal((await verifyToken(await signed('RS256', 'rsa-1'), s, NOW)).ok, true);
      assert.equal((await verifyToken(await signed('ES256', 'ec-1'), s, NOW)).ok, true);
    });
    it('an aud list containing ours, and exp 20 s ago (inside the 30 s clock tolerance)', async () => {
      assert.equal((await verifyToken(await hs({ aud: ['other', AUD] }), HS, NOW)).ok, true);
      assert.equal((await verifyToken(await hs({ exp: NOW_S - 20 }), HS, NOW)).ok, true);
    });
  });

  describe('refuses, each with its reason', () => {
    // [what, token factory, settings (default HS), expected reason]
    const cases: [string, () => Promise<string> | string, (() => TokenSettings) | null, RegExp][] = [
      ['missing (undefined)', () => undefined as unknown as string, null, /^missing token$/],
      ['empty string', () => '', null, /^missing token$/],
      ['expired', () => hs({ exp: NOW_S - 3600 }), null, /^expired$/],
      ['expired just past the tolerance', () => hs({ exp: NOW_S - 31 }), null, /^expired$/],
      ['not yet valid (nbf in an hour)', () => hs({ nbf: NOW_S + 3600 }), null, /^not yet valid/],
      ['wrong secret', () => hs({}, {}, 'another-secret-that-is-also-32-bytes-long'), null, /^bad signature$/],
      ['tampered payload (sub changed after signing)', async () => {
        const [h, , sig] = (await hs()).split('.');
        return `${h}.${b64({ sub: 'mallory', iss: ISS, aud: AUD, iat: NOW_S, exp: NOW_S + 3600 })}.${sig}`;
      }, null, /^bad signature$/],
      ['signature stripped', async () => `${(await hs()).split('.').slice(0, 2).join('.')}.`, null, /^bad signature$|^malformed/],
      ['alg none (unsigned)', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', iss: ISS, aud: AUD, exp: NOW_S + 60 })}.`, null, /^alg none refused/],
      ['alg NONE in capitals', () => `${b64({ alg: 'NONE' })}.${b64({ sub: 'alice', iss: ISS, aud: AUD, exp: NOW_S + 60 })}.`, null, /^alg none refused/],
      ['RS/HS confusion: HS256 signed with the RSA public key PEM', () => hs({}, {}, rsaPem), () => ({ issuer: ISS, audience: AUD, publicKey: rsaPem }), /^algorithm HS256 not allowed \(this authorizer accepts RS256\)$/],
      ['HS/JWKS confusion: HS256 token against a JWKS', () => hs(), () => ({ issuer: ISS, audience: AUD, jwksUrl }), /^algorithm HS256 not allowed/],
      ['ES256 token against an RSA key', () => signed('ES256'), () => ({ issuer: ISS, audience: AUD, publicKey: rsaPem }), /^algorithm ES256 not allowed/],
      ['RS256 token against the HMAC secret', () => signed('RS256'), null, /^algorithm RS256 not allowed \(this authorizer accepts HS256\)$/],
      ['unsupported alg HS512', async () => new SignJWT({ sub: 'a', iss: ISS, aud: AUD, exp: NOW_S + 60 }).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(SECRET)), null, /^algorithm HS512 not allowed/],
      ['RS256 signed by another key than the JWKS names', async () => {
        const other = await generateKeyPair('RS256');
        return new SignJWT({ sub: 'bob', iss: ISS, aud: AUD, exp: NOW_S + 600 }).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(other.privateKey);
      }, () => ({ issuer: ISS, audience: AUD, jwksUrl }), /^bad signature$/],
      ['kid the JWKS does not have', () => signed('RS256', 'rsa-9'), () => ({ issuer: ISS, audience: AUD, jwksUrl }), /^no key in the JWKS matches/],
      ['wrong aud', () => hs({ aud: 'someone-else' }), null, /^wrong audience$/],
      ['wrong iss', () => hs({ iss: 'https://evil.example.com/' }), null, /^wrong issuer$/],
      ['no exp', async () => new SignJWT({ sub: 'alice', iss: ISS, aud: AUD }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET)), null, /exp/],
      ['no sub', async () => new SignJWT({ iss: ISS, aud: AUD, exp: NOW_S + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET)), null, /sub/],
      ['empty sub', () => hs({ sub: '' }), null, /^empty sub$/],
      ['malformed: 1 segment', () => 'abc', null, /^malformed: 1 segment, a JWS has 3$/],
      ['malformed: 2 segments', () => 'abc.def', null, /^malformed: 2 segments/],
      ['malformed: 4 segments', async () => `${await hs()}.extra`, null, /^malformed: 4 segments/],
      ['malformed: header not base64url', () => 'a+b/c.def.ghi', null, /^malformed: header is not base64url JSON$/],
      ['malformed: header not JSON', () => `${b64('not json')}.${b64({})}.sig`, null, /^malformed: header is not base64url JSON$/],
      ['malformed: header a JSON array', () => `${b64([1])}.${b64({})}.sig`, null, /^malformed: header is not a JSON object$/],
      ['malformed: no alg', () => `${b64({ typ: 'JWT' })}.${b64({})}.sig`, null, /^malformed: header has no alg$/],
      ['malformed: payload not JSON', async () => {
        const [h] = (await hs()).split('.');
        return `${h}.${b64('nope')}.sig`;
      }, null, /^malformed|^bad signature$/],
      ['wrong typ (a logout token)', () => hs({}, { typ: 'logout+jwt' }), null, /^wrong typ "logout\+jwt"/],
      ['oversized (over 8 KB)', () => hs({ pad: 'x'.repeat(MAX_TOKEN_BYTES) }), null, /^token larger than 8192 bytes$/],
      ['crit header the verifier does not know', () => {
        const input = `${b64({ alg: 'HS256', crit: ['exp-ext'], 'exp-ext': 1 })}.${b64({ sub: 'alice', iss: ISS, aud: AUD, exp: NOW_S + 60 })}`;
        return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
      }, null, /^unsupported: Extension Header Parameter "exp-ext" is not recognized$/],
      ['misconfigured: short secret', () => hs(), () => ({ issuer: ISS, audience: AUD, secret: 'short' }), /secret shorter than 32 bytes/],
      ['misconfigured: no issuer', () => hs(), () => ({ issuer: '', audience: AUD, secret: SECRET }), /issuer and audience are required/],
    ];
    for (const [what, make, settings, reason] of cases) {
      it(what, async () => {
        const r = await verifyToken(await make(), settings ? settings() : HS, NOW);
        assert.equal(r.ok, false, `${what} was accepted`);
        assert.match((r as { reason: string }).reason, reason);
      });
    }
    it(`${cases.length} bad tokens tried (at least 20)`, () => assert.ok(cases.length >= 20));
  });
});

/** A JWKS endpoint on a real local socket that can be taken down (503, or a body that is not a JWKS) and brought back. */
async function switchableJwks(keys: unknown[]): Promise<{ url: string; mode: 'up' | 'down' | 'garbage'; requests: number; close(): Promise<void> }> {
  const state = { mode: 'up' as 'up' | 'down' | 'garbage', requests: 0 };
  const server = http.createServer((_req, res) => {
    state.requests += 1;
    if (state.mode === 'down') res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
    else if (state.mode === 'garbage') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

describe('token authorizer: a JWKS outage is the server\'s failure, not the token\'s', () => {
  let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
  let keys: unknown[];
  const token = (kid = 'k1', sub = 'erin') =>
    new SignJWT({ sub, iss: ISS, aud: AUD, exp: NOW_S + 3600 }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(rsa.privateKey);
  const appsyncEvent = (t: string) => ({ authorizationToken: t, requestContext: { apiId: 'api1', requestId: 'r1' } });
  const arn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/live/GET/items/x';
  before(async () => {
    rsa = await generateKeyPair('RS256');
    keys = [{ ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }];
  });

  it('verifyToken: an unreachable JWKS gives "unavailable" (not a refusal), fetched again on a later request after a backoff', async () => {
    const jwks = await switchableJwks(keys);
    try {
      const s: TokenSettings = { issuer: ISS, audience: AUD, jwksUrl: jwks.url };
      const t = await token();
      jwks.mode = 'down';
      const first = await verifyToken(t, s, NOW);
      assert.deepEqual([first.ok, !first.ok && first.unavailable, jwks.requests], [false, true, 1]);
      assert.match((first as { reason: string }).reason, /^JWKS unavailable: .*200 OK.*; fetched again in 1 s at the earliest$/);
      // inside the backoff: answered at once, without hammering the key source
      const again = await verifyToken(t, s, NOW + 500);
      assert.deepEqual([again.ok, !again.ok && again.unavailable, jwks.requests], [false, true, 1]);
      assert.match((again as { reason: string }).reason, /^JWKS unavailable \(.*\): fetched again in 1 s at the earliest$/);
      // the backoff doubles while it stays down: 1 s, then 2 s
      jwks.mode = 'garbage';
      const second = await verifyToken(t, s, NOW + 1000);
      assert.deepEqual([second.ok, !second.ok && second.unavailable, jwks.requests], [false, true, 2]);
      assert.match((second as { reason: string }).reason, /fetched again in 2 s at the earliest$/);
      jwks.mode = 'up';
      assert.equal((await verifyToken(t, s, NOW + 2000)).ok, false, 'still inside the 2 s backoff');
      assert.equal(jwks.requests, 2);
      const back = await verifyToken(t, s, NOW + 3000);
      assert.deepEqual([back.ok, jwks.requests], [true, 3]);
      // a token whose kid the freshly fetched JWKS lacks is the token's fault again: refused, not "unavailable"
      const unknownKid = await verifyToken(await token('k9'), s, NOW + 3000);
      assert.deepEqual([unknownKid.ok, !unknownKid.ok && unknownKid.unavailable], [false, undefined]);
      assert.match((unknownKid as { reason: string }).reason, /^no key in the JWKS matches/);
    } finally {
      await jwks.close();
    }
  });

  it('AppSync: not authorized with ttlOverride 0 and nothing cached, so the same token passes once the JWKS is back', async () => {
    const jwks = await switchableJwks(keys);
    try {
      let now = NOW;
      const d: AuthorizerDeps = { settings: { issuer: ISS, audience: AUD, jwksUrl: jwks.url }, cacheTtlSeconds: 300, cache: new ResultCache(), now: () => now };
      const t = await token('k1', 'frank');
      jwks.mode = 'down';
      assert.deepEqual(await authorizeAppSync(appsyncEvent(t), d), { isAuthorized: false, ttlOverride: 0 });
      assert.equal(d.cache.size, 0, 'a key-source failure is not cached against the token');
      jwks.mode = 'up';
      now = NOW + 1000;
      assert.deepEqual(await authorizeAppSync(appsyncEvent(t), d), { isAuthorized: true, resolverContext: { sub: 'frank' }, ttlOverride: 300 });
    } finally {
      await jwks.close();
    }
  });

  it('API Gateway REQUEST: fails with an error other than "Unauthorized" (API Gateway answers 500, not 401), nothing cached', async () => {
    const jwks = await switchableJwks(keys);
    try {
      let now = NOW;
      const d: AuthorizerDeps = { settings: { issuer: ISS, audience: AUD, jwksUrl: jwks.url }, cacheTtlSeconds: 300, cache: new ResultCache(), now: () => now };
      const t = await token('k1', 'gina');
      jwks.mode = 'down';
      await assert.rejects(authorizeRequest({ type: 'REQUEST', methodArn: arn, headers: { Authorization: `Bearer ${t}` } }, d), (e: Error) => {
        assert.notEqual(e.message, 'Unauthorized');
        assert.match(e.message, /^AuthorizerUnavailable: JWKS unavailable/);
        return true;
      });
      assert.equal(d.cache.size, 0);
      jwks.mode = 'up';
      now = NOW + 1000;
      assert.equal((await authorizeRequest({ type: 'REQUEST', methodArn: arn, headers: { Authorization: `Bearer ${t}` } }, d)).principalId, 'gina');
      // a refused token still answers 401
      await assert.rejects(authorizeRequest({ type: 'REQUEST', methodArn: arn, headers: { Authorization: `Bearer ${await token('k9')}` } }, d), { message: 'Unauthorized' });
    } finally {
      await jwks.close();
    }
  });

  it('a misconfigured authorizer (no usable key) is a server error too: REST 500, nothing cached', async () => {
    const d: AuthorizerDeps = { settings: { issuer: ISS, audience: AUD, secret: 'short' }, cacheTtlSeconds: 300, cache: new ResultCache(), now: () => NOW };
    const r = await verifyToken(await hs(), d.settings, NOW);
    assert.deepEqual([r.ok, !r.ok && r.unavailable], [false, true]);
    await assert.rejects(authorizeRequest({ type: 'REQUEST', methodArn: arn, headers: { Authorization: await hs() } }, d), /^Error: AuthorizerUnavailable: authorizer misconfigured: secret shorter than 32 bytes$/);
    assert.deepEqual(await authorizeAppSync(appsyncEvent(await hs()), d), { isAuthorized: false, ttlOverride: 0 });
    assert.equal(d.cache.size, 0);
  });
});

describe('token authorizer: JWKS outages longer than jose\'s cacheMaxAge, and concurrent verifications (fake clock)', () => {
  // jose tells whether its keys are older than cacheMaxAge (10 min) or inside its 30 s cooldown with Date.now(); the
  // verifier takes `now` as an argument. Both follow one fake clock here, so minutes and hours pass without waiting.
  const realDateNow = Date.now;
  let clock = NOW;
  const at = (ms: number): number => (clock = NOW + ms);
  let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
  let k1: unknown;
  let k2: unknown;
  const token = (kid: string, sub = 'hana') =>
    new SignJWT({ sub, iss: ISS, aud: AUD, exp: NOW_S + 2 * 86_400 }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(rsa.privateKey);
  const arn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/live/GET/items/x';
  before(async () => {
    rsa = await generateKeyPair('RS256');
    const jwk = await exportJWK(rsa.publicKey);
    k1 = { ...jwk, kid: 'k1', alg: 'RS256', use: 'sig' };
    k2 = { ...jwk, kid: 'k2', alg: 'RS256', use: 'sig' };
  });
  beforeEach(() => {
    clock = NOW;
    Date.now = () => clock;
  });
  afterEach(() => {
    Date.now = realDateNow;
  });

  it('the last good keys keep verifying through an outage, saying so, for 24 h after their fetch; a kid they lack, or older keys, answer unavailable', async () => {
    const jwks = await switchableJwks([k1]);
    try {
      const s: TokenSettings = { issuer: ISS, audience: AUD, jwksUrl: jwks.url };
      const t = await token('k1');
      const fresh = await verifyToken(t, s, at(0));
      assert.deepEqual([fresh.ok, fresh.ok && fresh.staleKeys, jwks.requests], [true, undefined, 1]);
      jwks.mode = 'down';
      // 11 min on, jose's keys are past cacheMaxAge: it fetches before using them, and the fetch fails
      const stale = await verifyToken(t, s, at(11 * 60_000));
      assert.deepEqual([stale.ok, jwks.requests], [true, 2], JSON.stringify(stale));
      assert.match((stale as { staleKeys: string }).staleKeys, /^JWKS unavailable \(.*200 OK.*\): verified with the keys fetched 660 s ago$/);
      // inside the backoff: no fetch, still verified; through the REST adapter too (an Allow, not a 500)
      const d: AuthorizerDeps = { settings: s, cacheTtlSeconds: 300, cache: new ResultCache(), now: () => clock };
      at(11 * 60_000 + 500);
      assert.equal((await authorizeRequest({ type: 'REQUEST', methodArn: arn, headers: { Authorization: `Bearer ${t}` } }, d)).principalId, 'hana');
      assert.equal(jwks.requests, 2);
      // a kid the last good set lacks (a key rotated in during the outage) is not judged: unavailable, not refused
      const rotated = await verifyToken(await token('k2'), s, at(11 * 60_000 + 600));
      assert.deepEqual([rotated.ok, !rotated.ok && rotated.unavailable, jwks.requests], [false, true, 2]);
      assert.match((rotated as { reason: string }).reason, /fetched again in 1 s at the earliest; the keys fetched 661 s ago have none for this token's kid$/);
      // still verified just inside the bound, refused as unavailable just past it
      const last = await verifyToken(t, s, at(JWKS_STALE_MAX_MS));
      assert.deepEqual([last.ok, jwks.requests], [true, 3]);
      const past = await verifyToken(t, s, at(JWKS_STALE_MAX_MS + 3000));
      assert.deepEqual([past.ok, !past.ok && past.unavailable, jwks.requests], [false, true, 4]);
      assert.match((past as { reason: string }).reason, /^JWKS unavailable: .*200 OK.*; fetched again in 4 s at the earliest$/);
      jwks.mode = 'up';
      const back = await verifyToken(t, s, at(JWKS_STALE_MAX_MS + 7000));
      assert.deepEqual([back.ok, back.ok && back.staleKeys, jwks.requests], [true, undefined, 5]);
    } finally {
      await jwks.close();
    }
  });

  it('concurrent verifications each decide whether they may fetch: one inside the backoff does not stop one past it', async () => {
    const served = [k1];
    const jwks = await switchableJwks(served);
    try {
      const s: TokenSettings = { issuer: ISS, audience: AUD, jwksUrl: jwks.url };
      const [t1, t2] = [await token('k1', 'ida'), await token('k2', 'jon')];
      assert.equal((await verifyToken(t1, s, at(0))).ok, true);
      jwks.mode = 'down';
      // past jose's 30 s cooldown an unknown kid makes it fetch; the fetch fails: backoff 1 s
      const miss = await verifyToken(t2, s, at(31_000));
      assert.deepEqual([miss.ok, !miss.ok && miss.unavailable, jwks.requests], [false, true, 2]);
      // the issuer publishes k2 and the JWKS is back; a k2 token past the backoff and a k1 token inside it, at once
      served.push(k2);
      jwks.mode = 'up';
      at(32_000);
      const [after, inside] = await Promise.all([verifyToken(t2, s, NOW + 32_000), verifyToken(t1, s, NOW + 31_500)]);
      assert.deepEqual([after.ok, after.ok && after.sub, jwks.requests], [true, 'jon', 3], JSON.stringify(after));
      assert.deepEqual([inside.ok, inside.ok && inside.sub], [true, 'ida'], JSON.stringify(inside));
    } finally {
      await jwks.close();
    }
  });

  it('a successful fetch resets the backoff even when the token\'s kid is not in what it fetched', async () => {
    const jwks = await switchableJwks([k1]);
    try {
      const s: TokenSettings = { issuer: ISS, audience: AUD, jwksUrl: jwks.url };
      const t9 = await token('k9');
      jwks.mode = 'down';
      const first = await verifyToken(t9, s, at(0));
      assert.deepEqual([first.ok, !first.ok && first.unavailable, jwks.requests], [false, true, 1]);
      assert.match((first as { reason: string }).reason, /^JWKS unavailable: .*; fetched again in 1 s at the earliest$/);
      const second = await verifyToken(t9, s, at(1000));
      assert.deepEqual([second.ok, jwks.requests], [false, 2]);
      assert.match((second as { reason: string }).reason, /^JWKS unavailable: .*; fetched again in 2 s at the earliest$/);
      jwks.mode = 'up';
      // the fetch succeeds; the token's kid is not in the set, which is the token's fault: refused
      const unknownKid = await verifyToken(t9, s, at(3000));
      assert.deepEqual([unknownKid.ok, !unknownKid.ok && unknownKid.unavailable, jwks.requests], [false, undefined, 3]);
      assert.match((unknownKid as { reason: string }).reason, /^no key in the JWKS matches/);
      // the next outage starts over at 1 s (past the 30 s cooldown the unknown kid makes jose fetch again)
      jwks.mode = 'down';
      const next = await verifyToken(t9, s, at(34_000));
      assert.deepEqual([next.ok, !next.ok && next.unavailable, jwks.requests], [false, true, 4]);
      assert.match((next as { reason: string }).reason, /^JWKS unavailable: .*; fetched again in 1 s at the earliest/);
    } finally {
      await jwks.close();
    }
  });
});

describe('token authorizer adapters', () => {
  const deps = (over: Partial<AuthorizerDeps> = {}): AuthorizerDeps => ({ settings: HS, cacheTtlSeconds: 300, cache: new ResultCache(), now: () => NOW, ...over });
  const arn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/live/PUT/items/x';
  const appsyncEvent = (token: string) => ({ authorizationToken: token, requestContext: { apiId: 'api1', accountId: '123456789012', requestId: 'r1', queryString: '{ appState { state } }', variables: {} } });

  it('AppSync: a good token → isAuthorized with resolverContext.sub and the TTL; a bad one → not authorized, ttl 0', async () => {
    assert.deepEqual(await authorizeAppSync(appsyncEvent(await hs()), deps()), { isAuthorized: true, resolverContext: { sub: 'alice' }, ttlOverride: 300 });
    assert.deepEqual(await authorizeAppSync(appsyncEvent(await hs({ exp: NOW_S - 100 })), deps()), { isAuthorized: false, ttlOverride: 0 });
  });

  it('API Gateway REQUEST: Allow for the whole stage with principalId and context.sub; missing or bad → "Unauthorized" (401)', async () => {
    const ok = await authorizeRequest({ type: 'REQUEST', methodArn: arn, headers: { Authorization: `Bearer ${await hs()}` } }, deps());
    assert.deepEqual(ok, {
      principalId: 'alice',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/live/*' }] },
      context: { sub: 'alice' },
    });
    await assert.rejects(authorizeRequest({ type: 'REQUEST', methodArn: arn, headers: {} }, deps()), { message: 'Unauthorized' });
    await assert.rejects(authorizeRequest({ type: 'REQUEST', methodArn: arn, headers: { authorization: await hs({ aud: 'x' }) } }, deps()), { message: 'Unauthorized' });
  });

  it('AppSync: ttlOverride never outlives the token (min(TTL, exp - now), whole seconds, ≥ 0), else AppSync would accept it expired', async () => {
    const ttl = async (exp: number, now = NOW, cacheTtlSeconds = 300) => (await authorizeAppSync(appsyncEvent(await hs({ exp })), deps({ now: () => now, cacheTtlSeconds }))).ttlOverride;
    assert.equal(await ttl(NOW_S + 3600), 300, 'a long-lived token: the configured TTL');
    assert.equal(await ttl(NOW_S + 100), 100, 'expires in 100 s: cached for 100 s, not 300');
    assert.equal(await ttl(NOW_S + 100, NOW + 500), 99, 'part seconds round down');
    assert.equal(await ttl(NOW_S - 20), 0, 'inside the clock tolerance but past exp: accepted, not cached');
    assert.equal(await ttl(NOW_S + 100, NOW, 0), 0, 'TTL 0 stays 0');
  });

  it('stageWildcard keeps region, account, api and stage', () => {
    assert.equal(stageWildcard(arn), 'arn:aws:execute-api:eu-west-1:123456789012:abc123/live/*');
  });

  it('caches a verdict per token for the TTL (never past exp), and not at all with TTL 0', async () => {
    let calls = 0;
    let now = NOW;
    const verify: typeof verifyToken = (t, s, n) => {
      calls += 1;
      return verifyToken(t, s, n);
    };
    const token = await hs({ exp: NOW_S + 100 });
    const d = deps({ verify, now: () => now });
    await authorizeAppSync(appsyncEvent(token), d);
    await authorizeAppSync(appsyncEvent(token), d);
    assert.equal(calls, 1, 'second call served from the cache');
    now = NOW + 131_000; // past exp and its 30 s tolerance, though within the 300 s TTL
    assert.equal((await authorizeAppSync(appsyncEvent(token), d)).isAuthorized, false);
    assert.equal(calls, 2);
    const off = deps({ verify, cacheTtlSeconds: 0 });
    await authorizeAppSync(appsyncEvent(token), off);
    await authorizeAppSync(appsyncEvent(token), off);
    assert.equal(calls, 4);
  });

  it('handler: reads the AUTH_* environment and dispatches on the event shape', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AUTH_ISSUER: ISS, AUTH_AUDIENCE: AUD, AUTH_SECRET: SECRET, AUTH_CACHE_TTL: '0' });
    try {
      const good = await mintToken({ secret: SECRET, issuer: ISS, audience: AUD, sub: 'dave', ttlSeconds: 60 });
      assert.deepEqual(await handler(appsyncEvent(good)), { isAuthorized: true, resolverContext: { sub: 'dave' }, ttlOverride: 0 });
      assert.equal(((await handler({ type: 'REQUEST', methodArn: arn, headers: { authorization: good } })) as { principalId: string }).principalId, 'dave');
      await assert.rejects(handler({ something: 'else' }), /not an AppSync AWS_LAMBDA or API Gateway REQUEST\/TOKEN authorizer event/);
    } finally {
      for (const k of ['AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_SECRET', 'AUTH_CACHE_TTL']) if (saved[k] === undefined) delete process.env[k];
    }
  });
});

describe('npm run token (scripts/token.ts)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ga-token-'));
    fs.writeFileSync(path.join(dir, 'Pulumi.tok.yaml'), `config:\n  global-appsync:regions: eu-west-1\n  global-appsync:auth:\n    mode: token\n    issuer: ${ISS}\n    audience: ${AUD}\n    secret:\n      secure: v1:AAAA\n`);
    fs.writeFileSync(path.join(dir, 'Pulumi.keys.yaml'), 'config:\n  global-appsync:regions: eu-west-1\n');
    fs.mkdirSync(path.join(dir, '.emulator'));
    fs.writeFileSync(path.join(dir, '.emulator', 'endpoints.json'), JSON.stringify({ auth: { mode: 'token', issuer: 'local-iss', audience: 'local-aud' } }));
    fs.writeFileSync(path.join(dir, '.emulator', 'token-secret'), `${SECRET}-local\n`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(argv: string[], env: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await tokenMain(argv, { env, projectDir: dir, out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('--stack: issuer and audience from the stack file, the secret from AUTH_SECRET; the authorizer accepts the token', async () => {
    const r = await run(['--sub', 'alice', '--ttl', '15m', '--stack', 'tok'], { AUTH_SECRET: SECRET });
    assert.equal(r.code, 0, r.err);
    const v = await verifyToken(r.out, HS);
    assert.deepEqual(v.ok && [v.sub, (v.claims.exp as number) - (v.claims.iat as number)], ['alice', 900]);
  });
  it('--local: the emulator\'s secret, issuer and audience', async () => {
    const r = await run(['--sub', 'bob', '--local']);
    assert.equal(r.code, 0, r.err);
    assert.equal((await verifyToken(r.out, { issuer: 'local-iss', audience: 'local-aud', secret: `${SECRET}-local` })).ok, true);
  });
  it('exit 2 with the reason: no secret given, an apiKey stack, a bad ttl, no --sub', async () => {
    const cases: [string[], RegExp][] = [
      [['--sub', 'a', '--stack', 'tok'], /secret of stack tok is encrypted in Pulumi\.tok\.yaml: pass it in env AUTH_SECRET/],
      [['--sub', 'a', '--stack', 'keys'], /stack keys has auth\.mode apiKey; tokens are for auth\.mode token/],
      [['--sub', 'a', '--ttl', '3w'], /--ttl "3w": a whole number with s, m, h or d/],
      [['--sub', 'a', '--ttl', '8d'], /from 1s to 7d/],
      [['--stack', 'tok'], /--sub is required/],
      [['--sub', 'a', '--nope'], /Unknown option '--nope'/],
    ];
    for (const [argv, re] of cases) {
      const r = await run(argv, {});
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, re);
    }
  });
});
