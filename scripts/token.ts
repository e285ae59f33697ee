/**
 * `npm run token -- --sub alice [--ttl 1h] [--stack S [--secret-file F] | --local [--endpoints F]]`
 *
 * Mints a test JWT (HS256) that the stack's token authorizer (handlers/authorizer.ts, `auth.mode: token` with a
 * shared `secret`) accepts, and prints it: use it as `Authorization: <token>` on GraphQL, realtime and REST, in
 * every region and through the global name.
 * - --local: for the running emulator (npm start). It verifies tokens with a local secret it writes beside its
 *   endpoints file (`.emulator/<stack>-<port>/token-secret`, mode 0600) and names the secret's file, issuer and
 *   audience in the endpoints file's `auth`; this reads them (--endpoints F: that emulator's file).
 * - --stack S (default): issuer and audience from Pulumi.<S>.yaml (`auth.issuer`, `auth.audience`). The secret is
 *   NOT in that file in plain text (`pulumi config set --secret --path auth.secret` encrypts it, and decrypting
 *   needs the Pulumi backend), so it comes from env AUTH_SECRET or --secret-file F, for example
 *   `AUTH_SECRET=$(pulumi config get --path auth.secret) npm run token -- --sub alice`. A stack that verifies
 *   with jwksUrl or publicKey takes tokens from its issuer, not from here: this says so and exits 2.
 * - --ttl: lifetime, `<n>s|m|h|d` (default 1h, at most 7d: these are test tokens).
 * Exit codes: 0 printed, 2 bad arguments/config/secret.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { localSecretFile } from '../local/endpointsFile';
import { runMain } from './runMain';

export interface MintOptions {
  secret: string;
  issuer: string;
  audience: string;
  sub: string;
  ttlSeconds: number;
  /** seconds since the epoch; default now */
  now?: number;
}

/** An HS256 JWT with sub, iss, aud, iat, nbf, exp and typ JWT. */
export async function mintToken(o: MintOptions): Promise<string> {
  const iat = o.now ?? Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.sub)
    .setIssuer(o.issuer)
    .setAudience(o.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + o.ttlSeconds)
    .sign(new TextEncoder().encode(o.secret));
}

export const MAX_TTL_SECONDS = 7 * 24 * 3600;

/** `90s`, `15m`, `1h`, `2d` → seconds. */
export function parseTtl(raw: string): number {
  const m = /^(\d+)([smhd])$/.exec(raw.trim());
  if (!m) throw new UsageError(`--ttl ${JSON.stringify(raw)}: a whole number with s, m, h or d, e.g. 1h`);
  const s = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (s < 1 || s > MAX_TTL_SECONDS) throw new UsageError(`--ttl ${raw}: from 1s to 7d`);
  return s;
}

export class UsageError extends Error {}

export const USAGE = 'usage: npm run token -- --sub <subject> [--ttl 1h] [--stack <stack> [--secret-file <file>] | --local [--endpoints <file>]]';

export interface TokenIO {
  env?: Readonly<Record<string, string | undefined>>;
  projectDir?: string;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** Returns the exit code. */
export async function main(argv: string[], io: TokenIO = {}): Promise<number> {
  const out = io.out ?? ((l: string) => console.log(l));
  const err = io.err ?? ((l: string) => console.error(l));
  const env = io.env ?? process.env;
  const root = io.projectDir ?? path.resolve(__dirname, '..');
  try {
    const { values } = parseArgs({
      args: argv,
      options: { sub: { type: 'string' }, ttl: { type: 'string', default: '1h' }, stack: { type: 'string' }, local: { type: 'boolean' }, endpoints: { type: 'string' }, 'secret-file': { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    if (!values.sub || !values.sub.trim()) throw new UsageError('--sub is required: the subject (user id) the token names');
    if (values.local && values.stack) throw new UsageError('--local and --stack exclude each other');
    const ttlSeconds = parseTtl(values.ttl ?? '1h');
    let secret: string;
    let issuer: string;
    let audience: string;
    if (values.local) {
      const file = path.resolve(values.endpoints ?? path.join(root, '.emulator', 'endpoints.json'));
      if (!fs.existsSync(file)) throw new UsageError(`${file}: no endpoints file; start the emulator first (npm start)`);
      const ep = JSON.parse(fs.readFileSync(file, 'utf8')) as { auth?: { mode?: string; issuer?: string; audience?: string; secretFile?: string | null } };
      if (ep.auth?.mode !== 'token') throw new UsageError(`the running emulator serves auth.mode ${ep.auth?.mode ?? 'apiKey'}, not token: start it with npm start -- --auth token (or a stack with auth.mode token)`);
      // the file names its secret (.emulator/endpoints.json is a copy of another emulator's file); older ones do not
      secret = fs.readFileSync(ep.auth.secretFile ?? localSecretFile(file), 'utf8').trim();
      issuer = ep.auth.issuer as string;
      audience = ep.auth.audience as string;
    } else {
      // required here: config/ pulls in the region tables, which the --local path does not need
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { parseConfig, projectKeys, readStackFile, PROJECT } = require('../config') as typeof import('../config');
      const stack = values.stack ?? env.PULUMI_STACK ?? 'dev';
      const all = readStackFile(stack, root);
      const raw = projectKeys(all, PROJECT);
      const cfg = parseConfig(raw, { stack, aws: projectKeys(all, 'aws'), all });
      if (cfg.auth.mode !== 'token') throw new UsageError(`stack ${stack} has auth.mode ${cfg.auth.mode}; tokens are for auth.mode token`);
      if (!cfg.auth.secret) throw new UsageError(`stack ${stack} verifies tokens with ${cfg.auth.jwksUrl ? 'jwksUrl' : 'publicKey'}: get tokens from that issuer (${cfg.auth.issuer}); this mints HS256 tokens for a shared secret only`);
      const fromFile = values['secret-file'] ? fs.readFileSync(values['secret-file'], 'utf8').trim() : undefined;
      const given = fromFile ?? env.AUTH_SECRET;
      if (!given) throw new UsageError(`the secret of stack ${stack} is encrypted in Pulumi.${stack}.yaml: pass it in env AUTH_SECRET (e.g. AUTH_SECRET=$(pulumi config get --path auth.secret --stack ${stack})) or --secret-file <file>`);
      secret = given;
      issuer = cfg.auth.issuer;
      audience = cfg.auth.audience;
    }
    if (Buffer.byteLength(secret) < 32) throw new UsageError('the secret is shorter than 32 bytes: the authorizer refuses such a secret');
    out(await mintToken({ secret, issuer, audience, sub: values.sub.trim(), ttlSeconds }));
    return 0;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const known = e instanceof UsageError || (e as Error).name === 'ConfigError' || code.startsWith('ERR_PARSE_ARGS') || code === 'ENOENT' || code === 'EACCES';
    if (!known) throw e;
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
}

runMain(module, main);
