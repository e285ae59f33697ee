/**
 * Where raw config comes from when the Pulumi CLI does not hand it over: the stack file on disk, and the split of
 * fully qualified keys into the project's own and the near misses of its namespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PROJECT } from './names';
import { ConfigError, type ConfigProblem, didYouMean, show } from './problems';

/** The repository root, where the Pulumi.<stack>.yaml files are. */
const ROOT_DIR = path.join(__dirname, '..');

/**
 * Keys whose namespace is a near miss of the project's (`globalappsync:regions`, `global_appsync:regions`): the
 * Pulumi CLI accepts any namespace, so without this such a key would be ignored in silence and `regions` reported
 * as not set. Other namespaces (`aws:`, `pulumi:`, other packages') are not this module's business.
 */
export function namespaceProblems(all: Readonly<Record<string, string>>, project: string = PROJECT): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const key of Object.keys(all)) {
    const at = key.indexOf(':');
    if (at < 0) continue;
    const ns = key.slice(0, at);
    if (ns === project || ns === 'aws' || didYouMean(ns, [project]) !== project) continue;
    out.push({ key, value: show(all[key]), allowed: `did you mean "${project}:${key.slice(at + 1)}"? the namespace "${ns}:" is not this project's (${project}), so the key would be ignored` });
  }
  return out;
}

/**
 * Reads Pulumi.<stack>.yaml from disk the way the Pulumi CLI hands config to a program: every key fully
 * qualified (`global-appsync:regions`, `aws:region`), strings as they are, everything else as JSON.
 * Used by `npm run plan`, `npm run state` and the tests, which run without the CLI.
 */
export function readStackFile(stack: string, dir: string = ROOT_DIR): Record<string, string> {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const stacks = fs.readdirSync(dir).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.slice(7, -5));
    throw new ConfigError([{ key: '--stack', value: JSON.stringify(stack), allowed: `no ${path.basename(file)}; stacks here: ${stacks.join(', ') || 'none'}` }]);
  }
  const rel = path.relative(process.cwd(), file);
  return parseStackYaml(fs.readFileSync(file, 'utf8'), rel && !rel.startsWith('..') ? rel : file);
}

/**
 * The yaml parser's indentation errors (its `code`), said in plain words; shown after the parser's own message.
 * https://eemeli.org/yaml/#errors lists the codes.
 */
const YAML_HINTS: Readonly<Partial<Record<string, string>>> = {
  BAD_INDENT: 'indentation: the keys of one block must start in the same column — count the spaces before this line and the keys above it',
  BLOCK_AS_IMPLICIT_KEY: 'indentation: a line is indented more than the key above it allows, or a list item less than the items before it — a value nested under a key goes on the next lines, indented further, and the keys of one mapping (or the items of one list) line up in one column',
  TAB_AS_INDENT: 'indentation: YAML indents with spaces only — replace the tab with spaces',
};

/**
 * A stack file's text → fully qualified config, as readStackFile does. A YAML syntax error is a ConfigError naming
 * the file, the line and column and the YAML parser's message (no stack trace); `label` names the file in messages.
 */
export function parseStackYaml(text: string, label: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = YAML.parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    if (!(e instanceof YAML.YAMLError)) throw e;
    const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [0, 0];
    const source = line > 0 ? text.split('\n')[line - 1] ?? '' : '';
    const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    const plain = YAML_HINTS[e.code];
    throw new ConfigError([{ key: `${label}:${line}:${col}`, value: JSON.stringify(source.trim()), allowed: `not valid YAML: ${message}${plain ? ` (${plain})` : ''}` }]);
  }
  // `aws:region: ...` at the start of a line is a top-level key, not part of `config:` (which is then empty)
  const outside = doc && typeof doc === 'object' && !Array.isArray(doc) ? Object.keys(doc).filter((k) => k.includes(':')) : [];
  if (outside.length > 0) {
    throw new ConfigError(outside.map((k) => ({ key: `${label}: ${k}`, value: JSON.stringify((doc as Record<string, unknown>)[k]), allowed: `not under \`config:\`: indentation — a stack setting is indented under \`config:\` (two spaces, like the keys around it), or it is not read at all` })));
  }
  const config = (doc as { config?: unknown } | null)?.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigError([{ key: 'config', value: label, allowed: 'a `config:` mapping of keys to values' }]);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    if (value && typeof value === 'object' && Object.hasOwn(value, 'secure')) continue; // encrypted: the CLI's business
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

/** The project's own keys (prefix removed) out of fully qualified config. */
export function projectKeys(all: Readonly<Record<string, string>>, project: string = PROJECT): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) {
    if (k.startsWith(`${project}:`)) raw[k.slice(project.length + 1)] = v;
  }
  return raw;
}
