/**
 * Emulators side by side (local/instances.ts): each writes .emulator/<stack>-<port>/endpoints.json with its logs
 * beside it; .emulator/endpoints.json is a copy of the one started last and, when that one stops, of the newest one
 * still running, so the scripts that read it by default keep working; a running emulator's endpoints file is never
 * overwritten, and a killed one's is told apart. Token mode in one step: `auth: 'token'` (npm start -- --auth token)
 * on any stack, and the token command the emulator prints works as printed. Real emulators on the test run's
 * DynamoDB Local, each in a temporary .emulator folder.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, parseConfig, projectKeys, readStackFile } from '../../config';
import { Emulator, type EmulatorOptions, type EndpointsFile } from '../../local/emulator';
import { liveInstances } from '../../local/instances';
import { parseStartArgs } from '../../local/start';
import { emulatorConfig, StartError } from '../../local/startup';
import { main as emulatorCli, readEndpoints } from '../../scripts/emulator';
import { dynamoEndpoint, uniqueTableName } from '../support/dynamodb';

const ROOT = path.resolve(__dirname, '../..');
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ga-instances-'));
const read = (file: string): EndpointsFile => JSON.parse(fs.readFileSync(file, 'utf8')) as EndpointsFile;

/** The dev stack on free ports, on the shared DynamoDB Local, with tables of its own. */
function start(opts: EmulatorOptions): Promise<Emulator> {
  return Emulator.start({ stack: 'dev', basePort: 0, dynamodbEndpoint: dynamoEndpoint(), ...opts, configOverrides: { tableName: `${uniqueTableName('inst')}-items`, ...opts.configOverrides } });
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await emulatorCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('emulators side by side, and token mode in one step', function () {
  this.timeout(90_000);
  const started: Emulator[] = [];
  after(async () => {
    await Promise.all(started.map((e) => e.stop().catch(() => {})));
  });

  it('each emulator has its own endpoints file and logs; .emulator/endpoints.json follows the last started, then the one still running', async () => {
    const root = tmp();
    const current = path.join(root, 'endpoints.json');
    const a = await start({ emulatorDir: root });
    started.push(a);
    const b = await start({ emulatorDir: root });
    started.push(b);
    for (const e of [a, b]) {
      assert.equal(path.dirname(path.dirname(e.endpointsFile as string)), root, 'a folder per emulator under .emulator');
      assert.equal(e.logDir, path.join(path.dirname(e.endpointsFile as string), 'logs'));
      assert.ok(fs.existsSync(path.join(e.logDir as string, 'eu-west-1.items.log')), 'its function logs are in its own folder');
      assert.equal(read(e.endpointsFile as string).adminUrl, e.admin.url);
    }
    assert.notEqual(a.endpointsFile, b.endpointsFile);
    assert.notEqual(a.logDir, b.logDir);
    assert.equal(fs.readFileSync(current, 'utf8'), fs.readFileSync(b.endpointsFile as string, 'utf8'), 'the copy is the last started one\'s');
    assert.deepEqual(liveInstances(root).map((s) => s.endpointsFile).sort(), [a.endpointsFile, b.endpointsFile].sort());

    await b.stop();
    started.splice(started.indexOf(b), 1);
    assert.equal(fs.existsSync(b.endpointsFile as string), false);
    assert.equal(fs.readFileSync(current, 'utf8'), fs.readFileSync(a.endpointsFile as string, 'utf8'), 'the copy now names the emulator still running');
    assert.equal(readEndpoints(current).adminUrl, a.admin.url);
    const status = await cli(['status', '--endpoints', current]);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /^eu-west-1\s+up\s+no/m);

    await a.stop();
    started.splice(started.indexOf(a), 1);
    assert.equal(fs.existsSync(current), false, 'no emulator runs: no copy');
    const none = await cli(['status', '--endpoints', current]);
    assert.equal(none.code, 1);
    assert.match(none.err, /no emulator endpoints file at .*: start the emulator first \(npm start\)/);
  });

  it('a running emulator\'s endpoints file is refused, naming it; a killed emulator\'s file says so', async () => {
    const dir = tmp();
    const file = path.join(dir, 'endpoints.json');
    // another process that owns the file (alive until killed)
    const owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      const text = `${JSON.stringify({ stack: 'prod', pid: owner.pid, startedAt: new Date().toISOString(), endpointsFile: file, globalUrl: 'http://127.0.0.1:4100', adminUrl: 'http://127.0.0.1:4101', regions: {}, primaryRegion: 'us-east-1' })}\n`;
      fs.writeFileSync(file, text);
      await assert.rejects(start({ endpointsFile: file, logDir: null }), (e: unknown) => {
        assert.ok(e instanceof StartError, String(e));
        assert.equal(e.message, `${file} is the endpoints file of a running emulator (stack prod, process ${owner.pid}, http://127.0.0.1:4100): stop that one first, or give this one another --endpoints`);
        return true;
      });
      assert.equal(fs.readFileSync(file, 'utf8'), text, 'not overwritten');
    } finally {
      owner.kill('SIGKILL');
    }
    await new Promise((r) => owner.once('exit', r));
    // killed without a Ctrl-C, it left the file behind: the scripts say it is gone rather than "does not answer"
    assert.throws(() => readEndpoints(file), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was written by an emulator that is no longer running \\(process ${owner.pid}\\): start one`));
    assert.deepEqual(liveInstances(dir), []);
  });

  it('token mode in one step: --auth token on an apiKey stack; the printed token command works as printed; plain-text secrets and opt-in regions are warned about', async () => {
    const project = tmp();
    // an apiKey stack with its key in plain text and an opt-in region
    fs.writeFileSync(path.join(project, 'Pulumi.tokenwarn.yaml'), 'config:\n  global-appsync:regions:\n    - eu-west-1\n    - me-central-1\n  global-appsync:auth:\n    mode: apiKey\n    key: plaintextkeyplaintextkey123\n');
    const dir = tmp();
    const lines: string[] = [];
    const e = await start({ stack: 'tokenwarn', projectDir: project, auth: 'token', endpointsFile: path.join(dir, 'endpoints.json'), logDir: path.join(dir, 'logs'), log: (l) => lines.push(l) });
    started.push(e);
    assert.ok(lines.some((l) => l.startsWith('  warning: auth.key is plain text in Pulumi.tokenwarn.yaml: ') && l.includes('pulumi config set --secret --path auth.key')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('  warning: opt-in region me-central-1: ')), lines.join('\n'));
    assert.ok(lines.includes('  note: --auth token: served in token mode (issuer global-appsync-emulator, audience global-appsync); the stack deploys auth.mode apiKey'), lines.join('\n'));
    const ep = read(e.endpointsFile as string);
    assert.equal(ep.auth.mode, 'token');
    if (ep.auth.mode !== 'token') return;
    assert.equal(ep.auth.tokenCommand, `npm run -s token -- --local --endpoints ${e.endpointsFile} --sub local-user --ttl 1h`);
    assert.equal(fs.statSync(ep.auth.secretFile as string).mode & 0o777, 0o600, 'the local secret is readable by its owner only');
    // as a user runs it: in a shell, captured by $(...)
    const { stdout } = await promisify(execFile)('bash', ['-c', `TOKEN=$(${ep.auth.tokenCommand}) && printf %s "$TOKEN"`], { cwd: ROOT });
    assert.match(stdout, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT and nothing else (no npm banner)');
    const url = `${ep.globalUrl}/live/items/not-there`;
    assert.equal((await fetch(url, { headers: { authorization: stdout } })).status, 404, 'the token is accepted');
    assert.equal((await fetch(url)).status, 401, 'no token, no entry');
  });

  it('a token stack without a key source starts in the emulator (its local secret), and is still refused for `pulumi up`; --auth takes token or apiKey', () => {
    const project = tmp();
    fs.writeFileSync(path.join(project, 'Pulumi.tokenonly.yaml'), 'config:\n  global-appsync:regions: eu-west-1\n  global-appsync:auth:\n    mode: token\n    issuer: https://auth.example.com/\n    audience: my-app\n');
    const { config, notes } = emulatorConfig('tokenonly', undefined, project, {}, { tokenSecret: 's'.repeat(48) });
    assert.deepEqual(config.auth, { mode: 'token', issuer: 'https://auth.example.com/', audience: 'my-app', secret: 's'.repeat(48), ttlSeconds: 300 });
    assert.match(notes.join('\n'), /auth\.mode token names no key source: the emulator uses its local secret/);
    assert.throws(() => parseConfig(projectKeys(readStackFile('tokenonly', project)), { stack: 'tokenonly' }), (err: unknown) => err instanceof ConfigError && /auth\.secret: \(not set\)/.test(err.message));
    assert.equal(parseStartArgs(['--auth', 'token']).auth, 'token');
    assert.throws(() => parseStartArgs(['--auth', 'jwt']), /^Error: --auth jwt: token or apiKey \(did you mean token\?\)$/);
  });
});
