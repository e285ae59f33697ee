/**
 * The offline preview's diff: given two runs of the program under the mock cloud (the baseline config and the
 * current one), what `pulumi up` would create, update, replace and delete, per region, with the changed inputs
 * (secrets masked) and, for each replacement, why and what it destroys. `npm run plan -- --diff` prints it.
 *
 * How a replacement is decided (scripts/replacements.ts holds the rules and their sources):
 * - an input in the type's "forces new resource" list changed, or the resource's provider (its region) changed;
 * - or a replacing input is computed from a resource that is itself replaced (a new table has a new stream ARN,
 *   so the event source mappings on it are replaced too): such an input is unknown until the new resource
 *   exists, which `pulumi preview` also treats as a replacement. Other inputs computed from a replaced resource
 *   are shown as updates whose value becomes known after the replacement.
 * Inputs listed in a resource's `ignoreChanges` are never a change, as in Pulumi. Components hold no cloud
 * resource and are left out.
 */
import { createHash } from 'node:crypto';
import { AWS_REGIONS } from '../config';
import { comparable, type ProgramRun, providerNameOf, type Recorded, SET_INPUTS } from './mockCloud';
import { dataLoss, deletedFirst, NAMED_DELETE_FIRST_SOURCE, PROVIDER_RULE_SOURCE, replaceNote, replacingInputs } from './replacements';

export type Action = 'create' | 'update' | 'replace' | 'delete';

export interface InputChange {
  /** e.g. `environment.variables.PRIMARY_REGION`, `policy(json).Statement[0].Resource`, `replicas` */
  path: string;
  before?: unknown;
  after?: unknown;
  /** for set-like inputs (a table's replicas): the elements added and removed */
  added?: unknown[];
  removed?: unknown[];
  /** the value is computed from a replaced resource: known only after it is re-created */
  unknownAfter?: string;
}

export interface ResourceChange {
  action: Action;
  type: string;
  name: string;
  /** the region the change happens in (a replacement that moves: the region it leaves) */
  region: string;
  changes: InputChange[];
  /** resource options that change (no cloud call): `protect: false → true` */
  options: string[];
  /** why a replacement happens: the inputs, `provider`, or `<input> from <replaced resource>` */
  because: string[];
  /** a replacement that moves the resource to another region */
  movesTo?: string;
  /** the old resource is deleted before the new one is created (explicit physical name) */
  deleteFirst?: boolean;
  /** what is destroyed, in words (stateful resources being replaced or deleted) */
  dataLoss?: string;
  /** a consequence that destroys no data (a new API key value...) */
  note?: string;
  /** the deployed resource is protected: `pulumi up` stops before deleting it */
  protectedNow?: boolean;
}

export interface PlanDiff {
  /** region → changes in it, in the order create, replace, update, delete */
  regions: Record<string, ResourceChange[]>;
  counts: Record<Action | 'unchanged', number>;
  /** every change that destroys data */
  dataLoss: ResourceChange[];
}

const SECRET_NAME = /secret|password|token|accesskey|apikey/i;
const LONG = 96;

function regionOf(r: Recorded): string {
  if (r.type === 'pulumi:providers:aws') return String(r.inputs.region);
  return r.region ?? '(no region)';
}

/** Every string in a value, depth first (JSON strings are not parsed). */
function strings(v: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof v === 'string') out.add(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => strings(x, out));
  return out;
}

/** The strings a resource's cloud computes (ARNs, ids, URLs): in its state but in none of its inputs. */
function computedStrings(r: Recorded): string[] {
  const inputs = strings(r.inputs);
  return [...strings(r.state), `${r.name}-id`].filter((s) => s.length >= 12 && !inputs.has(s));
}

/** A value as printed: long strings shortened to their length and a hash, secrets masked. */
function shown(v: unknown, secret: boolean): unknown {
  if (secret) return '[secret]';
  if (typeof v === 'string' && v.length > LONG) return `<${v.length} chars, sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 8)}>`;
  if (v && typeof v === 'object' && (v as Record<string, unknown>).__pulumiArchive) return '<archive>';
  return v;
}

function parsedJson(v: unknown): unknown {
  if (typeof v !== 'string' || !/^\s*[[{]/.test(v)) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** The leaf paths where two values differ. */
function leafChanges(path: string, a: unknown, b: unknown, secret: boolean, out: InputChange[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const ja = parsedJson(a);
  const jb = parsedJson(b);
  if (ja !== undefined && jb !== undefined) return leafChanges(`${path}(json)`, ja, jb, secret, out);
  const plain = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x) && !(x as Record<string, unknown>).__pulumiArchive;
  if (plain(a) && plain(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) leafChanges(`${path}.${k}`, a[k], b[k], secret || SECRET_NAME.test(k), out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => leafChanges(`${path}[${i}]`, x, b[i], secret, out));
    return;
  }
  out.push({ path, before: shown(a, secret), after: shown(b, secret) });
}

function inputChanges(before: Recorded, after: Recorded, keys: readonly string[]): InputChange[] {
  const out: InputChange[] = [];
  for (const k of keys) {
    const secret = before.secretInputs.includes(k) || after.secretInputs.includes(k) || SECRET_NAME.test(k);
    const a = before.inputs[k];
    const b = after.inputs[k];
    if (secret) {
      out.push({ path: k, before: a === undefined ? undefined : '[secret]', after: b === undefined ? undefined : '[secret]' });
    } else if (SET_INPUTS[after.type]?.includes(k) && Array.isArray(a) && Array.isArray(b)) {
      const sa = a.map((x) => JSON.stringify(x));
      const sb = b.map((x) => JSON.stringify(x));
      out.push({ path: k, added: b.filter((_, i) => !sa.includes(sb[i])).map((x) => shown(x, secret)), removed: a.filter((_, i) => !sb.includes(sa[i])).map((x) => shown(x, secret)) });
    } else {
      leafChanges(k, a, b, secret, out);
    }
  }
  return out;
}

/** What `pulumi up` would do to go from the `before` run's resources to the `after` run's. */
export function diffPlans(before: ProgramRun, after: ProgramRun): PlanDiff {
  const key = (r: Recorded): string => `${r.type}::${r.name}`;
  const olds = new Map(before.resources.filter((r) => r.custom).map((r) => [key(r), r]));
  const news = new Map(after.resources.filter((r) => r.custom).map((r) => [key(r), r]));
  const changes = new Map<string, ResourceChange>();
  const physical = (r: Recorded): string => (typeof r.inputs.name === 'string' ? r.inputs.name : r.name);
  const entry = (action: Action, r: Recorded, region: string): ResourceChange => ({ action, type: r.type, name: r.name, region, changes: [], options: [], because: [] });

  for (const [k, r] of news) if (!olds.has(k)) changes.set(k, entry('create', r, regionOf(r)));
  for (const [k, r] of olds) {
    if (news.has(k)) continue;
    const c = entry('delete', r, regionOf(r));
    c.dataLoss = dataLoss(r.type, physical(r));
    c.note = replaceNote(r.type);
    c.protectedNow = r.protect;
    changes.set(k, c);
  }
  // direct changes
  for (const [k, b] of news) {
    const a = olds.get(k);
    if (!a) continue;
    const ignored = new Set(b.ignoreChanges);
    const keys = [...new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)])].filter((i) => !ignored.has(i) && comparable(b.type, i, a.inputs[i]) !== comparable(b.type, i, b.inputs[i])).sort();
    const moved = providerNameOf(a.provider) !== providerNameOf(b.provider);
    const options = [
      ...(a.protect !== b.protect ? [`protect: ${a.protect} → ${b.protect}`] : []),
      ...(a.retainOnDelete !== b.retainOnDelete ? [`retainOnDelete: ${a.retainOnDelete} → ${b.retainOnDelete}`] : []),
    ];
    if (keys.length === 0 && !moved && options.length === 0) continue;
    const replacing = replacingInputs(b.type, keys);
    const c = entry(replacing.length > 0 || moved ? 'replace' : 'update', b, regionOf(a));
    c.changes = inputChanges(a, b, keys);
    c.options = options;
    c.because = [...replacing, ...(moved ? [`provider ${providerNameOf(a.provider)} → ${providerNameOf(b.provider)} (${PROVIDER_RULE_SOURCE})`] : [])];
    if (moved) c.movesTo = regionOf(b);
    changes.set(k, c);
  }
  // replacements cascade through replacing inputs computed from replaced resources; other such inputs update
  const computedOf = new Map<string, string[]>();
  for (let grew = true; grew; ) {
    grew = false;
    const replaced = [...changes.entries()].filter(([, c]) => c.action === 'replace').map(([k]) => k);
    for (const k of replaced) if (!computedOf.has(k)) computedOf.set(k, [...new Set([...computedStrings(olds.get(k)!), ...computedStrings(news.get(k)!)])]);
    for (const [k, b] of news) {
      const a = olds.get(k);
      if (!a || changes.get(k)?.action === 'replace') continue;
      for (const p of replaced) {
        if (p === k) continue;
        const outputs = computedOf.get(p)!;
        const from = Object.keys(b.inputs).filter((i) => !b.ignoreChanges.includes(i) && outputs.some((s) => JSON.stringify(b.inputs[i]).includes(s)));
        if (from.length === 0) continue;
        const pName = news.get(p)!.name;
        const c = changes.get(k) ?? entry('update', b, regionOf(a));
        for (const i of from) if (!c.changes.some((x) => x.path === i && x.unknownAfter)) c.changes.push({ path: i, unknownAfter: pName });
        const forcing = replacingInputs(b.type, from);
        if (forcing.length > 0) {
          c.action = 'replace';
          c.because.push(...forcing.map((i) => `${i} comes from ${pName}, which is replaced`));
          grew = true;
        }
        changes.set(k, c);
      }
    }
  }
  for (const [k, c] of changes) {
    if (c.action !== 'replace') continue;
    const r = news.get(k)!;
    c.deleteFirst = deletedFirst(r.type, r.inputs);
    if (c.deleteFirst) c.because.push(`deleted before its replacement is created: explicit name ${JSON.stringify(r.inputs.name)} (${NAMED_DELETE_FIRST_SOURCE})`);
    c.dataLoss = dataLoss(r.type, physical(r));
    c.note = replaceNote(r.type);
    c.protectedNow = olds.get(k)!.protect;
  }

  const order: Action[] = ['create', 'replace', 'update', 'delete'];
  const regions: Record<string, ResourceChange[]> = {};
  const all = [...changes.values()].sort((x, y) => order.indexOf(x.action) - order.indexOf(y.action) || x.type.localeCompare(y.type) || x.name.localeCompare(y.name));
  const regionOrder = [...new Set([...after.resources, ...before.resources].filter((r) => r.type === 'pulumi:providers:aws').map((r) => String(r.inputs.region)))];
  for (const region of regionOrder) {
    const inRegion = all.filter((c) => c.region === region);
    if (inRegion.length > 0) regions[region] = inRegion;
  }
  for (const c of all) if (!regionOrder.includes(c.region)) (regions[c.region] ??= []).push(c);
  const counts = { create: 0, update: 0, replace: 0, delete: 0, unchanged: 0 };
  for (const c of all) counts[c.action] += 1;
  counts.unchanged = [...news.keys()].filter((k) => olds.has(k) && !changes.has(k)).length;
  return { regions, counts, dataLoss: all.filter((c) => c.dataLoss && (c.action === 'replace' || c.action === 'delete')) };
}

const MARK: Record<Action, string> = { create: '+ create ', update: '~ update ', replace: '± replace', delete: '- delete ' };
const fmt = (v: unknown): string => (v === undefined ? '(none)' : JSON.stringify(v));

/** The longest line the diff prints without --verbose (a terminal can show it; a 20 KB dashboard cannot be read). */
export const MAX_LINE = 200;

export interface FormatOptions {
  /** Changed inputs shown per resource (default 12; --json lists them all). */
  maxChanges?: number;
  /** Every value in full, one line each, as --verbose asks: no summaries, no wrapping. */
  verbose?: boolean;
}

/** Prose longer than MAX_LINE, wrapped at spaces; the continuation lines are indented 4 more than the first. */
function wrap(line: string): string[] {
  if (line.length <= MAX_LINE) return [line];
  const indent = `${/^ */.exec(line)![0]}    `;
  const lines: string[] = [];
  let rest = line;
  while (rest.length > MAX_LINE) {
    const cut = rest.lastIndexOf(' ', MAX_LINE);
    if (cut <= indent.length) break; // one word longer than a line: clipped below
    lines.push(rest.slice(0, cut));
    rest = indent + rest.slice(cut + 1);
  }
  return [...lines, clip(rest)];
}

/** A value line cut to MAX_LINE, saying where the rest is. */
function clip(line: string): string {
  const more = '… (--verbose prints it all)';
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE - more.length)}${more}`;
}

/** The AWS regions a value names (ARNs, metric dimensions, titles), in AWS_REGIONS order. */
function regionsIn(v: unknown): string[] {
  const text = JSON.stringify(v) ?? '';
  return AWS_REGIONS.filter((r) => new RegExp(`(^|[^a-z0-9-])${r}([^a-z0-9-]|$)`).test(text));
}

const plainObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** What names a list element (a dashboard widget's title, a statement's Sid...), looked for at the top and one level down. */
function identity(x: unknown): string | undefined {
  if (!plainObject(x)) return undefined;
  for (const o of [x, ...Object.values(x).filter(plainObject)]) {
    for (const k of ['title', 'Sid', 'name', 'id', 'regionName']) if (typeof o[k] === 'string') return `${k}=${o[k]}`;
  }
  return undefined;
}

/** The fields (two levels deep) where two objects differ: `y`, `properties.metrics`. */
function changedFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .flatMap((k) => {
      const [x, y] = [a[k], b[k]];
      if (!plainObject(x) || !plainObject(y)) return [k];
      return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((j) => JSON.stringify(x[j]) !== JSON.stringify(y[j])).map((j) => `${k}.${j}`);
    });
}

interface ElementDiff {
  added: unknown[];
  removed: unknown[];
  /** elements matched by identity whose content differs, and the fields that do */
  changed: number;
  fields: string[];
}

/**
 * Elements of `b` not in `a` and of `a` not in `b`. When every element has its own identity (a widget's title),
 * elements are matched by it, so a widget that only moved counts as changed, not as removed and added; otherwise
 * they are compared as JSON, counting repeats.
 */
function elementDiff(a: readonly unknown[], b: readonly unknown[]): ElementDiff {
  const ids = (list: readonly unknown[]): Array<string | undefined> => list.map(identity);
  const [ia, ib] = [ids(a), ids(b)];
  const unique = (l: Array<string | undefined>): boolean => l.every((x) => x !== undefined) && new Set(l).size === l.length;
  if (a.length > 0 && b.length > 0 && unique(ia) && unique(ib)) {
    const fields = new Set<string>();
    let changed = 0;
    ib.forEach((id, i) => {
      const j = ia.indexOf(id);
      if (j < 0 || JSON.stringify(a[j]) === JSON.stringify(b[i])) return;
      changed += 1;
      for (const f of changedFields(a[j] as Record<string, unknown>, b[i] as Record<string, unknown>)) fields.add(f);
    });
    return { added: b.filter((_, i) => !ia.includes(ib[i])), removed: a.filter((_, i) => !ib.includes(ia[i])), changed, fields: [...fields] };
  }
  const left = a.map((x) => JSON.stringify(x));
  const added: unknown[] = [];
  for (const x of b) {
    const i = left.indexOf(JSON.stringify(x));
    if (i >= 0) left[i] = '\u0000kept';
    else added.push(x);
  }
  return { added, removed: a.filter((_, i) => left[i] !== '\u0000kept'), changed: 0, fields: [] };
}

/** `dashboardBody(json).widgets` → widget, `policy(json).Statement` → statement. */
function noun(path: string): string {
  const last = path.replace(/\(json\)/g, '').replace(/\[\d+\]/g, '').split('.').pop() ?? '';
  const known: Record<string, string> = { widgets: 'widget', Statement: 'statement', replicas: 'replica', Resource: 'resource', Action: 'action', metrics: 'metric' };
  return known[last] ?? 'element';
}

/** An IAM policy statement in words (Allow a, b on r, s); anything else as JSON. */
function describe(v: unknown): string {
  const st = v as { Effect?: unknown; Action?: unknown; NotAction?: unknown; Resource?: unknown; Condition?: unknown };
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof st.Effect === 'string' && (st.Action ?? st.NotAction) !== undefined) {
    const list = (x: unknown): string => [x].flat().map(String).join(', ');
    const actions = st.Action !== undefined ? list(st.Action) : `everything but ${list(st.NotAction)}`;
    return `${st.Effect} ${actions}${st.Resource !== undefined ? ` on ${list(st.Resource)}` : ''}${st.Condition ? ' (with a condition)' : ''}`;
  }
  return JSON.stringify(v);
}

/**
 * Elements added to and removed from a list input, summarised: `+5 widgets for ap-northeast-1` (the regions the
 * added elements name that the old list did not), then each element on its own line when they are few and short.
 */
function listChange(indent: string, path: string, d: ElementDiff, before?: readonly unknown[], after?: readonly unknown[]): string[] {
  const { added, removed } = d;
  const one = noun(path);
  const count = (n: number, sign: string, els: readonly unknown[], other?: readonly unknown[]): string => {
    if (n === 0) return '';
    const known = new Set(other ? regionsIn(other) : []);
    const fresh = regionsIn(els).filter((r) => !known.has(r));
    return `${sign}${n} ${one}${n === 1 ? '' : 's'}${other && fresh.length > 0 ? ` for ${fresh.join(', ')}` : ''}`;
  };
  const items = [...added.map((x) => `+ ${describe(x)}`), ...removed.map((x) => `- ${describe(x)}`)];
  const changed = d.changed > 0 ? `${d.changed} changed (${d.fields.join(', ')})` : '';
  const inline = `${indent}${path}: ${items.join('  ')}`;
  // values (ARNs) fit on one line; objects (statements, replicas) read better counted, then one per line
  if (items.length > 0 && !changed && [...added, ...removed].every((x) => !x || typeof x !== 'object') && inline.length <= MAX_LINE) return [inline];
  const head = `${indent}${path}: ${[count(added.length, '+', added, before), count(removed.length, '-', removed, after), changed].filter(Boolean).join(', ')}`;
  const listable = items.length <= 8 && items.every((l) => indent.length + 4 + l.length <= MAX_LINE);
  if (!listable) return [clip(`${head} (--verbose prints them)`)];
  return [head, ...items.map((l) => `${indent}    ${l}`)];
}

/** One changed input, as lines of at most MAX_LINE characters (lists summarised, long values split or clipped). */
function changeLines(indent: string, ch: InputChange): string[] {
  if (ch.unknownAfter) return wrap(`${indent}${ch.path}: known after ${ch.unknownAfter} is replaced`);
  if (ch.added || ch.removed) return listChange(indent, ch.path, { added: ch.added ?? [], removed: ch.removed ?? [], changed: 0, fields: [] });
  const { before: a, after: b } = ch;
  if (Array.isArray(a) && Array.isArray(b)) return listChange(indent, ch.path, elementDiff(a, b), a, b);
  const plain = plainObject;
  const line = `${indent}${ch.path}: ${fmt(a)} → ${fmt(b)}`;
  if (line.length <= MAX_LINE) return [line];
  // an object added or removed as a whole: its fields one by one
  if ((a === undefined && plain(b)) || (b === undefined && plain(a))) {
    const obj = (a ?? b) as Record<string, unknown>;
    return Object.keys(obj).flatMap((k) => changeLines(indent, { path: `${ch.path}.${k}`, before: a === undefined ? undefined : obj[k], after: b === undefined ? undefined : obj[k] }));
  }
  return [`${indent}${ch.path}:`, clip(`${indent}    - ${fmt(a)}`), clip(`${indent}    + ${fmt(b)}`)];
}

/** The diff in words, as `npm run plan -- --diff` prints it: no line over MAX_LINE characters unless `verbose`. */
export function formatDiff(diff: PlanDiff, print: (line: string) => void, opts: FormatOptions = {}): void {
  const maxChanges = opts.maxChanges ?? 12;
  const verbose = opts.verbose === true;
  const out = (line: string): void => (verbose ? [line] : wrap(line)).forEach((l) => print(l));
  for (const [region, list] of Object.entries(diff.regions)) {
    const n = (a: Action): number => list.filter((c) => c.action === a).length;
    out('');
    out(`── ${region}: ${n('create')} to create, ${n('update')} to update, ${n('replace')} to replace, ${n('delete')} to delete`);
    const width = Math.max(...list.map((c) => c.type.length));
    for (const c of list) {
      const where = c.movesTo ? `  (moves to ${c.movesTo})` : '';
      out(`   ${MARK[c.action]}  ${c.type.padEnd(width)}  ${c.name}${where}`);
      for (const b of c.because) out(`        because: ${b}`);
      for (const o of c.options) out(`        option ${o}`);
      for (const ch of c.changes.slice(0, maxChanges)) {
        if (!verbose) changeLines('        ', ch).forEach((l) => print(l));
        else if (ch.unknownAfter) out(`        ${ch.path}: known after ${ch.unknownAfter} is replaced`);
        else if (ch.added || ch.removed) out(`        ${ch.path}: ${[...(ch.added ?? []).map((x) => `+ ${fmt(x)}`), ...(ch.removed ?? []).map((x) => `- ${fmt(x)}`)].join('  ')}`);
        else out(`        ${ch.path}: ${fmt(ch.before)} → ${fmt(ch.after)}`);
      }
      if (c.changes.length > maxChanges) out(`        … ${c.changes.length - maxChanges} more changed inputs (--json lists them all)`);
      if (c.dataLoss && (c.action === 'replace' || c.action === 'delete')) out(`        !! DATA LOSS: ${c.action === 'replace' ? 'replacing' : 'deleting'} it destroys ${c.dataLoss}`);
      if (c.note && (c.action === 'replace' || c.action === 'delete')) out(`        note: ${c.note}`);
      if (c.protectedNow && (c.action === 'replace' || c.action === 'delete')) out('        !! protected: `pulumi up` stops before deleting it (set protect false and `pulumi up` first, if you mean it)');
    }
  }
  const { create, update, replace, delete: del, unchanged } = diff.counts;
  out('');
  out(`── summary: ${create} to create, ${update} to update, ${replace} to replace, ${del} to delete, ${unchanged} unchanged`);
  if (diff.dataLoss.length === 0) {
    out('   no data is destroyed');
    return;
  }
  out(`   !! ${diff.dataLoss.length} change${diff.dataLoss.length === 1 ? '' : 's'} DESTROY DATA — read before running \`pulumi up\`:`);
  for (const c of diff.dataLoss) out(`   - ${c.name} (${c.region}): ${c.action === 'replace' ? 'replaced' : 'deleted'}, losing ${c.dataLoss}`);
}

/**
 * What AWS publishes about how long a new replica takes to fill: no rate. A replica is CREATING until DynamoDB calls it
 * "ready for use" (ACTIVE) — ReplicaDescription.ReplicaStatus,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ReplicaDescription.html — and the Terraform
 * provider waits for that for at least 30 minutes (internal/service/dynamodb/wait.go, replicaUpdateTimeout); replicas
 * of large tables have taken longer than 30 minutes (https://github.com/aws/aws-cdk/issues/10249).
 */
export const FILL_TIME_NOTE =
  'fill time for N GB: AWS publishes no rate (the replica stays CREATING until "ready for use"; adds of large tables have taken over 30 min, aws/aws-cdk#10249); `pulumi up` waits for it (the provider: at least 30 min), watch ReplicaStatus with `aws dynamodb describe-table`';

/**
 * One line per region the change adds: in which order `pulumi up` brings it in (the program enforces it: the
 * latency record depends on the replica and the readiness gate, components/regionReady.ts). Empty when no region is added.
 */
export function addedRegionOrder(diff: PlanDiff, before: ProgramRun, after: ProgramRun): string[] {
  const had = new Set(before.resources.filter((r) => r.type === 'pulumi:providers:aws').map((r) => String(r.inputs.region)));
  const added = after.resources.filter((r) => r.type === 'pulumi:providers:aws' && !had.has(String(r.inputs.region))).map((r) => String(r.inputs.region));
  const lines: string[] = [];
  for (const region of added) {
    const tables = after.resources.filter((r) => r.type === 'aws:dynamodb/table:Table' && (r.inputs.replicas ?? []).some((x: { regionName?: string }) => x.regionName === region)).map((r) => r.name);
    const created = (diff.regions[region] ?? []).filter((c) => c.action === 'create');
    const gate = created.filter((c) => c.type === 'aws:lambda/invocation:Invocation').map((c) => c.name);
    const latency = after.resources.filter((r) => r.type === 'aws:route53/record:Record' && r.region === region && r.inputs.latencyRoutingPolicies).map((r) => r.name);
    const routing = new Set(['aws:route53/record:Record', 'aws:route53/healthCheck:HealthCheck', 'aws:lambda/invocation:Invocation', 'pulumi:providers:aws']);
    const apis = created.filter((c) => !routing.has(c.type)).length;
    const last = latency.length > 0 ? `then routing once healthy (${[...gate, ...latency].join(', then ')})` : 'no latency record (no domain, or drained)';
    lines.push(`${region}: replica of ${tables.join(', ')} first (filled and ACTIVE), then ${apis} API/function resources, ${last}; ${FILL_TIME_NOTE}`);
  }
  return lines;
}
