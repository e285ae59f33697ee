/**
 * The offline preview's diff (`npm run plan -- --diff`, scripts/planDiff.ts) on prod's config with one change each:
 * adding a region, moving primaryRegion, moving homeRegion (both tables replaced = data loss), writeMode,
 * protect and domain, checked against the registered resources; then the CLI with a git revision, a stack file,
 * --json and bad baselines.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readStackFile } from '../../config';
import { cachedRun, type ProgramRun } from '../../scripts/mockCloud';
import { diffPlans, type PlanDiff, type ResourceChange } from '../../scripts/planDiff';
import { configChanges, main, printDiff } from '../../scripts/plan';

const PROD = readStackFile('prod');
const R = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const base = (): Promise<ProgramRun> => cachedRun(PROD, 'prod');
const variant = (change: Record<string, string>): Promise<ProgramRun> => cachedRun({ ...PROD, ...change }, 'prod');
const key = (k: string): string => `global-appsync:${k}`;

const all = (d: PlanDiff): ResourceChange[] => Object.values(d.regions).flat();
const of = (d: PlanDiff, action: ResourceChange['action']): ResourceChange[] => all(d).filter((c) => c.action === action);
const find = (d: PlanDiff, name: string): ResourceChange | undefined => all(d).find((c) => c.name === name);

async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(...l.split('\n')), (l) => err.push(...l.split('\n')));
  return { code, out, err };
}

describe('npm run plan -- --diff (offline preview)', function () {
  this.timeout(120_000);

  it('adding a region: that region\'s resources are created, each table gains one replica in place, nothing is replaced or deleted', async () => {
    const after = await variant({ [key('regions')]: JSON.stringify([...R, 'ap-northeast-1']) });
    const d = diffPlans(await base(), after);
    assert.deepEqual([d.counts.replace, d.counts.delete, d.dataLoss.length], [0, 0, 0]);
    const created = of(d, 'create');
    assert.ok(created.length > 80, `${created.length} created`);
    // every new resource lives in the new region, except its Route53 health alarm (metrics are in us-east-1)
    // and issue 11's ReplicationLatency alarms of the new pairs live in their source region
    const pairSource = (name: string): string | undefined => /^alarms-([a-z]+-[a-z]+-\d)-replication-[a-z]+-[a-z]+-\d-(average|maximum)$/.exec(name)?.[1];
    for (const c of created) assert.equal(c.region, c.name.endsWith('-health-alarm') ? 'us-east-1' : pairSource(c.name) ?? 'ap-northeast-1', c.name);
    assert.deepEqual(Object.keys(d.regions).sort(), ['ap-northeast-1', ...R].sort()); // R: the pair alarms towards ap-northeast-1
    for (const t of ['tables-items', 'tables-app-config']) {
      const c = find(d, t)!;
      assert.equal(c.action, 'update');
      assert.deepEqual(c.changes, [{ path: 'replicas', added: [{ deletionProtectionEnabled: true, pointInTimeRecovery: true, propagateTags: true, regionName: 'ap-northeast-1' }], removed: [] }]);
    }
    // the dashboard gains a row; every region's state updater is updated in place (h3): its environment lists the
    // stack's regions in config order (STATE_REGIONS: handlers/lib/stateRules.ts designates which region takes which
    // state change) and its policy reads back the app-config replica of every other region, now the new one too
    const updaters = R.flatMap((r) => [`app-state-${r}-updater`, `app-state-${r}-updater-policy`]);
    assert.deepEqual(of(d, 'update').map((c) => c.name).sort(), ['dashboard', 'tables-app-config', 'tables-items', ...updaters].sort());
    const appConfigArn = (r: string): string => `arn:aws:dynamodb:${r}:123456789012:table/global-appsync-prod-app-config`;
    for (const r of R) {
      assert.deepEqual(find(d, `app-state-${r}-updater`)!.changes, [{ path: 'environment.variables.STATE_REGIONS', before: R.join(','), after: [...R, 'ap-northeast-1'].join(',') }], r);
      const [policy, ...more] = find(d, `app-state-${r}-updater-policy`)!.changes;
      assert.equal(more.length, 0, r);
      assert.match(policy.path, /^policy\(json\)\.Statement\[\d+\]\.Resource$/, r);
      assert.deepEqual(policy.after, [...R.filter((x) => x !== r), 'ap-northeast-1'].map(appConfigArn).sort(), r);
    }
  });

  it('adding a region, as printed: no line over 200 characters; the dashboard and the policies summarised; --verbose prints every value in full', async () => {
    const regions = JSON.stringify([...R, 'ap-northeast-1']);
    const after = { ...PROD, [key('regions')]: regions };
    const report = { stack: 'prod', baseline: 'HEAD:Pulumi.prod.yaml', configChanges: configChanges(PROD, after), ...diffPlans(await base(), await variant({ [key('regions')]: regions })) };
    const lines: string[] = [];
    printDiff(report, (l) => lines.push(l));
    assert.deepEqual(lines.filter((l) => l.length > 200), []);
    // the dashboard: five widgets of the new region's row; the others only move down (y) and gain the new pair's metric
    assert.ok(lines.includes('        dashboardBody(json).widgets: +5 widgets for ap-northeast-1, 15 changed (y, properties.metrics) (--verbose prints them)'), lines.filter((l) => l.includes('widgets')).join('\n'));
    for (const r of R) {
      const at = lines.findIndex((l) => l.endsWith(`  app-state-${r}-updater-policy`));
      assert.equal(lines[at + 1], '        policy(json).Statement[3].Resource: + "arn:aws:dynamodb:ap-northeast-1:123456789012:table/global-appsync-prod-app-config"', r);
    }
    const verbose: string[] = [];
    printDiff(report, (l) => verbose.push(l), true);
    const widgets = verbose.find((l) => l.startsWith('        dashboardBody(json).widgets: [{'));
    assert.ok(widgets && widgets.length > 10_000 && widgets.includes('"title":"ap-northeast-1: health (1 = healthy)"'), 'the whole dashboard, as before');
  });

  it('statements added to a policy are counted and each said in words; long reasons are wrapped, not cut', async () => {
    const drills = diffPlans(await base(), await variant({ [key('drills')]: 'true' }));
    const lines: string[] = [];
    printDiff({ stack: 'prod', baseline: 'x', configChanges: [], ...drills }, (l) => lines.push(l));
    const at = lines.indexOf('        policy(json).Statement: +2 statements');
    assert.ok(at > 0, lines.filter((l) => l.includes('Statement')).join('\n'));
    assert.match(lines[at + 1], /^ {12}\+ Allow s3:ListBucket on arn:aws:s3:::fis-config-[a-z0-9-]+$/);
    assert.match(lines[at + 2], /^ {12}\+ Allow s3:GetObject on arn:aws:s3:::fis-config-[a-z0-9-]+\/FisConfigs\/\*$/);
    const moved = diffPlans(await base(), await variant({ [key('homeRegion')]: 'eu-west-1' }));
    const out: string[] = [];
    printDiff({ stack: 'prod', baseline: 'x', configChanges: [], ...moved }, (l) => out.push(l));
    assert.deepEqual(out.filter((l) => l.length > 200), []);
    const loss = out.findIndex((l) => l.startsWith('        !! DATA LOSS: replacing it destroys the DynamoDB table global-appsync-prod-items'));
    assert.equal(`${out[loss]} ${out[loss + 1].trim()}`, '        !! DATA LOSS: replacing it destroys the DynamoDB table global-appsync-prod-items with EVERY ITEM, in every region (its replicas are deleted with it); point-in-time recovery backups of a deleted table are not kept');
  });

  it('moving primaryRegion: resolvers, data sources and Lambda environments change in every region; no table or state item is touched', async () => {
    const d = diffPlans(await base(), await variant({ [key('primaryRegion')]: 'eu-west-1' }));
    assert.deepEqual([d.counts.create, d.counts.replace, d.counts.delete, d.dataLoss.length], [0, 0, 0, 0]);
    for (const name of ['tables-items', 'tables-app-config', 'app-state-initial']) assert.equal(find(d, name), undefined, name);
    for (const r of R) {
      assert.deepEqual(find(d, `api-${r}-ds-primaryItems`)!.changes.find((c) => c.path === 'dynamodbConfig.region'), { path: 'dynamodbConfig.region', before: 'us-east-1', after: 'eu-west-1' });
      assert.deepEqual(find(d, `api-${r}-items`)!.changes.find((c) => c.path === 'environment.variables.PRIMARY_REGION'), { path: 'environment.variables.PRIMARY_REGION', before: 'us-east-1', after: 'eu-west-1' });
      assert.ok(d.regions[r].some((c) => c.type === 'aws:appsync/function:Function' && c.changes.some((x) => x.path === 'code')), `${r}: a pipeline function's code changes`);
    }
  });

  it('moving homeRegion: both tables are replaced in another region — data loss, deleted first, refused while protected', async () => {
    const d = diffPlans(await base(), await variant({ [key('homeRegion')]: 'eu-west-1' }));
    for (const [t, name] of [['tables-items', 'global-appsync-prod-items'], ['tables-app-config', 'global-appsync-prod-app-config']]) {
      const c = find(d, t)!;
      assert.equal(c.action, 'replace', t);
      assert.equal(c.region, 'us-east-1');
      assert.equal(c.movesTo, 'eu-west-1');
      assert.equal(c.deleteFirst, true);
      assert.equal(c.protectedNow, true);
      assert.match(c.because[0], /^provider aws-us-east-1 → aws-eu-west-1/);
      assert.match(c.dataLoss!, new RegExp(`DynamoDB table ${name} with EVERY ITEM, in every region`));
    }
    assert.deepEqual(d.dataLoss.filter((c) => c.type === 'aws:dynamodb/table:Table').map((c) => c.name).sort(), ['tables-app-config', 'tables-items']);
    assert.equal(find(d, 'app-state-initial')!.action, 'replace');
    // a new table has a new stream: every region's notifier mapping is replaced with it
    for (const r of R) assert.match(find(d, `notifier-${r}-stream`)!.because.join('; '), /eventSourceArn comes from tables-items, which is replaced/);
    assert.equal(d.counts.create + d.counts.delete, 0);
  });

  it('writeMode primary: Lambda environments and resolver code change, nothing is replaced', async () => {
    const d = diffPlans(await base(), await variant({ [key('writeMode')]: 'primary' }));
    assert.deepEqual([d.counts.create, d.counts.replace, d.counts.delete], [0, 0, 0]);
    for (const r of R) {
      const items = find(d, `api-${r}-items`)!;
      assert.deepEqual(items.changes.find((c) => c.path === 'environment.variables.WRITE_MODE'), { path: 'environment.variables.WRITE_MODE', before: 'multi-master', after: 'primary' });
      assert.ok(d.regions[r].filter((c) => c.type.startsWith('aws:appsync/')).length >= 1, r);
    }
  });

  it('protect off: the two tables change (Pulumi option + deletion protection), in place; the WAF that protect turns on by default goes', async () => {
    const d = diffPlans(await base(), await variant({ [key('protect')]: 'false' }));
    const waf = ['us-east-1', 'eu-west-1', 'ap-southeast-2'].flatMap((r) => ['acl', 'graphql-acl', 'graphql-association', 'graphql-logging', 'graphql-logs', 'logging', 'logs', 'stage-association'].map((p) => `delete api-${r}-waf-${p}`));
    assert.deepEqual(all(d).map((c) => `${c.action} ${c.name}`).sort(), ['update tables-app-config', 'update tables-items', ...waf].sort());
    const c = find(d, 'tables-items')!;
    assert.deepEqual(c.options, ['protect: true → false']);
    assert.deepEqual(c.changes.find((x) => x.path === 'deletionProtectionEnabled'), { path: 'deletionProtectionEnabled', before: true, after: false });
  });

  it('removing the domain: certificates, custom domains and records are deleted, nothing else changes and no data is lost', async () => {
    const noDomain = Object.fromEntries(Object.entries(PROD).filter(([k]) => k !== key('domain')));
    const d = diffPlans(await base(), await cachedRun(noDomain, 'prod'));
    assert.deepEqual([d.counts.create, d.counts.replace, d.dataLoss.length], [0, 0, 0]);
    assert.ok(of(d, 'delete').length >= 28);
    for (const c of of(d, 'delete')) assert.match(c.name, /^routing-/);
    assert.ok(of(d, 'delete').some((c) => c.type === 'aws:apigateway/domainName:DomainName' && c.note?.includes('custom domain')));
  });

  it('changed credentials: the providers are updated in place and the values never appear, only [secret]', async () => {
    const creds = (id: string, secret: string): Record<string, string> => ({ [key('regions')]: 'eu-west-1', 'aws:accessKey': id, 'aws:secretKey': secret });
    const d = diffPlans(await cachedRun(creds('AKIAOLDOLDOLD', 'old-secret-value-1'), 'dev'), await cachedRun(creds('AKIANEWNEWNEW', 'new-secret-value-2'), 'dev'));
    assert.deepEqual(all(d).map((c) => `${c.action} ${c.name}`).sort(), ['update aws-eu-west-1', 'update aws-us-east-1']);
    assert.deepEqual(find(d, 'aws-eu-west-1')!.changes, [
      { path: 'accessKey', before: '[secret]', after: '[secret]' },
      { path: 'secretKey', before: '[secret]', after: '[secret]' },
    ]);
    assert.doesNotMatch(JSON.stringify(d), /AKIA(OLD|NEW)|secret-value/);
  });

  it('docs/deploying.md quotes what the preview really prints for prod with homeRegion moved', async () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/deploying.md'), 'utf8');
    const quoted = /npm run plan -- --stack prod --diff HEAD\n```\n```\n([\s\S]*?)\n```/.exec(doc)?.[1];
    assert.ok(quoted, 'docs/deploying.md has the quoted preview after `npm run plan -- --stack prod --diff HEAD`');
    const moved = { ...PROD, [key('homeRegion')]: 'eu-west-1' };
    const lines: string[] = [];
    printDiff({ stack: 'prod', baseline: 'HEAD:Pulumi.prod.yaml', configChanges: configChanges(PROD, moved), ...diffPlans(await base(), await cachedRun(moved, 'prod')) }, (l) => lines.push(l));
    const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const q of quoted.split('\n').filter((l) => l.trim() !== '' && l.trim() !== '...')) {
      // "(...)" and "..." in the quote stand for text left out
      const re = new RegExp(`^${q.split(/\(\.\.\.\)|\.\.\./).map(escape).join('.*')}$`);
      assert.ok(lines.some((l) => re.test(l)), `docs/deploying.md line not in the output: ${q}`);
    }
  });

  describe('the command', () => {
    it('--help prints the usage and exits 0; a bad argument prints it and exits 2', async () => {
      const help = await cli(['--help']);
      assert.equal(help.code, 0);
      assert.match(help.out.join('\n'), /^usage: npm run plan -- .*--diff/);
      const bad = await cli(['--stack', 'prod', '--dif', 'HEAD']);
      assert.equal(bad.code, 2);
      assert.match(bad.err.join('\n'), /Unknown option '--dif'[\s\S]*usage: npm run plan/);
    });

    it('--diff <git revision>: the committed stack file against the working copy (prod: unchanged)', async () => {
      const { code, out } = await cli(['--stack', 'prod', '--diff', 'HEAD']);
      assert.equal(code, 0, out.join('\n'));
      assert.match(out[0], /stack "prod" against HEAD:Pulumi\.prod\.yaml/);
      assert.ok(out.includes('── config changes') && out.includes('   none'), out.join('\n'));
      assert.match(out.find((l) => l.startsWith('── summary'))!, /0 to create, 0 to update, 0 to replace, 0 to delete, \d+ unchanged/);
      assert.equal((await cli(['--stack', 'prod', '--diff', 'HEAD', '--verbose'])).code, 0, '--verbose is an option of --diff');
    });

    it('--diff <file>:<stack> --json: prod with homeRegion moved, as data, tables flagged', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-diff-'));
      const file = path.join(dir, 'moved.yaml');
      fs.writeFileSync(file, fs.readFileSync(path.resolve(__dirname, '../../Pulumi.prod.yaml'), 'utf8').replace('global-appsync:homeRegion: us-east-1', 'global-appsync:homeRegion: eu-west-1'));
      try {
        const { code, out } = await cli(['--stack', 'prod', '--diff', `${file}:prod`, '--json']);
        assert.equal(code, 0);
        const report = JSON.parse(out.join('\n'));
        assert.deepEqual(report.configChanges, [{ key: 'global-appsync:homeRegion', before: 'eu-west-1', after: 'us-east-1' }]);
        assert.deepEqual(report.dataLoss.filter((c: ResourceChange) => c.type === 'aws:dynamodb/table:Table').map((c: ResourceChange) => `${c.name} ${c.region}→${c.movesTo}`).sort(), ['tables-app-config eu-west-1→us-east-1', 'tables-items eu-west-1→us-east-1']);
      } finally {
        fs.rmSync(dir, { recursive: true });
      }
    });

    it('an unknown revision or a broken baseline file: one line, exit 2 / 1, nothing planned', async () => {
      const ref = await cli(['--stack', 'prod', '--diff', 'no-such-branch']);
      assert.equal(ref.code, 2);
      assert.match(ref.err.join('\n'), /^--diff no-such-branch: not a file, and git has no no-such-branch:Pulumi\.prod\.yaml/);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-diff-'));
      const file = path.join(dir, 'broken.yaml');
      fs.writeFileSync(file, 'config:\n  global-appsync:regions: [us-east-1\n  global-appsync:writeMode: primary\n');
      try {
        const broken = await cli(['--stack', 'prod', '--diff', file]);
        assert.equal(broken.code, 1);
        assert.match(broken.err.join('\n'), /broken\.yaml:3:\d+: .* — not valid YAML/);
        assert.ok(!broken.err.join('\n').includes('    at '), 'no stack trace');
      } finally {
        fs.rmSync(dir, { recursive: true });
      }
    });
  });
});
