/**
 * What a stack file may hold that is valid but deserves a word before `pulumi up`: a secret in plain text (git
 * keeps it for anyone who can read the repository) and opt-in regions (disabled in an account until enabled).
 * `npm run plan` and `npm start` print these; `pulumi up` (loadConfig) does not call this: there the Pulumi CLI has
 * already decrypted the secrets, so a plain string says nothing about the file. Pure: no file or network access.
 */
import { type ConfigProblem, parseJson, type RawConfig } from './problems';
import { OPT_IN_REGIONS, parseRegions } from './regions';
import { projectKeys } from './stackFile';

/** How to make each secret field a Pulumi secret, with a fresh value of the right shape (config/auth.ts). */
const SECRET_FIELDS: ReadonlyArray<{ field: 'secret' | 'key'; fresh: string; risk: string }> = [
  { field: 'secret', fresh: 'openssl rand -base64 48', risk: 'anyone who can read the file can mint tokens every region accepts' },
  { field: 'key', fresh: 'openssl rand -hex 32', risk: 'anyone who can read the file can call the API with it' },
];

/**
 * `raw`: the project's keys as read from the stack file (before any local override); `regions`: the validated
 * regions the stack (or the emulator) uses; `file`: the stack file's name, for the message.
 */
export function stackWarnings(o: { raw: RawConfig; regions: readonly string[]; stack: string; file: string }): string[] {
  const out: string[] = [];
  const auth = o.raw.auth === undefined ? undefined : parseJson(o.raw.auth);
  const obj = auth?.ok && auth.value && typeof auth.value === 'object' && !Array.isArray(auth.value) ? (auth.value as Record<string, unknown>) : undefined;
  for (const s of SECRET_FIELDS) {
    if (typeof obj?.[s.field] !== 'string') continue; // absent, or `{secure: v1:...}`: encrypted by the Pulumi CLI
    out.push(
      `auth.${s.field} is plain text in ${o.file}: ${s.risk}. Make it a Pulumi secret (encrypted in the file): ` +
        `pulumi config set --secret --path auth.${s.field} "$(${s.fresh})" --stack ${o.stack} — a new value, since the old one has been readable`,
    );
  }
  const optIn = o.regions.filter((r) => OPT_IN_REGIONS.includes(r));
  if (optIn.length > 0) {
    out.push(
      `opt-in region${optIn.length === 1 ? '' : 's'} ${optIn.join(', ')}: ${optIn.length === 1 ? 'it is' : 'they are'} disabled in an AWS account until enabled, and \`pulumi up\` fails there until then — ` +
        `enable ${optIn.length === 1 ? 'it' : 'them'} first (AWS console: Account → AWS Regions, or aws account enable-region --region-name ${optIn[0]})`,
    );
  }
  return out;
}

/** stackWarnings for a stack file as readStackFile returns it (fully qualified keys); bad regions are left to parseConfig. */
export function stackFileWarnings(all: Readonly<Record<string, string>>, stack: string): string[] {
  const raw = projectKeys(all);
  const ignored: ConfigProblem[] = [];
  return stackWarnings({ raw, regions: parseRegions(raw.regions, ignored), stack, file: `Pulumi.${stack}.yaml` });
}
