/**
 * RTO and RPO per failure (components/recovery.ts): computed from the config — the health
 * check's interval × failure threshold + the DNS TTL, the replication-lag alarm, the write mode, the stream
 * mapping's record age — and printed at the end of `npm run plan`. Expected values are derived from the
 * settings the deployed resources use, so changing a setting changes the objective.
 */
import assert from 'node:assert/strict';
import { parseConfig, projectKeys, readStackFile } from '../../config';
import { DEFAULT_ALARM_THRESHOLDS } from '../../config/alarms';
import { HEALTH_CHECK } from '../../components/healthCheck';
import { ALIAS_TTL_SECONDS, recoveryObjectives, type RecoveryObjective, writeLatencyNote } from '../../components/recovery';
import { STREAM_MAPPING } from '../../components/streamMapping';
import { main, printRecovery } from '../../scripts/plan';

const R = ['eu-west-1', 'ap-southeast-2', 'us-west-2'];
const find = (os: RecoveryObjective[], failure: string): RecoveryObjective => {
  const o = os.find((x) => x.failure.startsWith(failure));
  assert.ok(o, `no "${failure}" in ${os.map((x) => x.failure).join(', ')}`);
  return o;
};

describe('RTO and RPO per failure', () => {
  const detectAndDns = HEALTH_CHECK.requestInterval * HEALTH_CHECK.failureThreshold + ALIAS_TTL_SECONDS;

  it('multi-master: losing any region costs its clients detection + DNS TTL and at most its unreplicated writes', () => {
    const os = recoveryObjectives({ regions: R, primaryRegion: R[0], writeMode: 'multi-master', alarms: DEFAULT_ALARM_THRESHOLDS });
    for (const f of ['secondary region lost', 'primary region lost, multi-master']) {
      assert.equal(find(os, f).rtoSeconds, detectAndDns, f);
      assert.equal(find(os, f).rpoSeconds, DEFAULT_ALARM_THRESHOLDS.replicationLatencyAverageMs / 1000, f);
    }
    assert.match(find(os, 'secondary region lost').rto, new RegExp(`^${detectAndDns} s .*${HEALTH_CHECK.requestInterval} s × ${HEALTH_CHECK.failureThreshold} checks \\+ ${ALIAS_TTL_SECONDS} s DNS TTL`));
    // primary mode's primary loss waits for an operator, whatever the stack's own mode
    assert.equal(find(os, 'primary region lost, primary mode').rtoSeconds, null);
    assert.match(find(os, 'primary region lost, primary mode').rto, /npm run state -- failover/);
  });

  it('primary mode: a secondary region holds no writes of its own (RPO 0)', () => {
    const os = recoveryObjectives({ regions: R, primaryRegion: R[0], writeMode: 'primary', alarms: DEFAULT_ALARM_THRESHOLDS });
    assert.equal(find(os, 'secondary region lost').rpoSeconds, 0);
    assert.equal(find(os, 'secondary region lost').rtoSeconds, detectAndDns);
  });

  it('the inputs move the numbers: health check, TTL, replication alarm, record age', () => {
    const alarms = { ...DEFAULT_ALARM_THRESHOLDS, replicationLatencyAverageMs: 2_500, replicationLatencyMaximumMs: 20_000 };
    const os = recoveryObjectives({ regions: R, primaryRegion: R[0], writeMode: 'multi-master', alarms, healthCheck: { requestInterval: 10, failureThreshold: 2 }, dnsTtlSeconds: 30, maximumRecordAgeInSeconds: 600 });
    assert.equal(find(os, 'secondary region lost').rtoSeconds, 10 * 2 + 30);
    assert.equal(find(os, 'secondary region lost').rpoSeconds, 2.5);
    assert.equal(find(os, 'notifier failing').rpoSeconds, 600);
    assert.match(find(os, 'replication paused').rto, /maximum passes 20 s/);
    // and the deployed record age by default
    assert.equal(find(recoveryObjectives({ regions: R, primaryRegion: R[0], writeMode: 'multi-master', alarms }), 'notifier failing').rpoSeconds, STREAM_MAPPING.maximumRecordAgeInSeconds);
  });

  it('consistency strong: RPO 0 for every region loss and the pause; the paused region fails over; writes pay the nearest round trip', () => {
    const US = ['us-east-1', 'us-east-2', 'us-west-2'];
    const os = recoveryObjectives({ regions: US, primaryRegion: US[0], writeMode: 'multi-master', alarms: DEFAULT_ALARM_THRESHOLDS, consistency: 'strong' });
    for (const f of ['secondary region lost', 'primary region lost, multi-master', 'primary region lost, primary mode', 'replication paused']) assert.equal(find(os, f).rpoSeconds, 0, f);
    assert.equal(find(os, 'secondary region lost').rtoSeconds, detectAndDns);
    assert.equal(find(os, 'replication paused').rtoSeconds, detectAndDns, 'an MRSC replica cut off refuses writes: its clients fail over');
    assert.match(find(os, 'secondary region lost').rto, /the other two regions keep a majority/);
    const witness = recoveryObjectives({ regions: ['eu-west-1', 'eu-central-1'], primaryRegion: 'eu-west-1', writeMode: 'multi-master', alarms: DEFAULT_ALARM_THRESHOLDS, consistency: 'strong', witnessRegion: 'eu-west-2' });
    assert.match(find(witness, 'secondary region lost').rto, /the other region and the witness eu-west-2 keep a majority/);
    // eventual for the same regions: the lag, not 0
    assert.equal(find(recoveryObjectives({ regions: US, primaryRegion: US[0], writeMode: 'multi-master', alarms: DEFAULT_ALARM_THRESHOLDS }), 'secondary region lost').rpoSeconds, DEFAULT_ALARM_THRESHOLDS.replicationLatencyAverageMs / 1000);
    assert.deepEqual(writeLatencyNote({ consistency: 'strong', regions: ['eu-west-1', 'eu-central-1'], witnessRegion: 'eu-west-2', writeRoundTripMs: { 'eu-west-1': 10, 'eu-central-1': 20.4 } }), [
      '   writes (consistency strong): each waits for the nearest other MRSC region or the witness eu-west-2, about one round trip: eu-west-1 +10 ms, eu-central-1 +20 ms',
    ]);
    assert.deepEqual(writeLatencyNote({ regions: US }), []);
  });

  it('npm run plan prints the strong-consistency objectives and write latency from the config', () => {
    const lines: string[] = [];
    printRecovery({ 'global-appsync:regions': 'us-east-1,us-east-2,us-west-2', 'global-appsync:consistency': 'strong' }, 'dev', (l) => lines.push(l));
    assert.match(lines.join('\n'), /consistency strong;/);
    assert.match(lines.join('\n'), /RPO 0: MRSC acknowledges a write only once another MRSC region has it/);
    // us-west-2's nearest MRSC neighbour is us-east-1 or us-east-2 (local/latency.ts's table): tens of ms, not 0
    assert.match(lines[lines.length - 1], /us-west-2 \+\d{2,3} ms$/);
  });

  it('one region: nothing to fail over to, no replication', () => {
    const os = recoveryObjectives({ regions: ['eu-west-1'], primaryRegion: 'eu-west-1', writeMode: 'multi-master', alarms: DEFAULT_ALARM_THRESHOLDS });
    assert.deepEqual(os.map((o) => o.failure), ['region lost (eu-west-1 is the only region)', 'notifier failing (one region)']);
    assert.equal(os[0].rtoSeconds, null);
  });

  it('npm run plan prints them for the stack, from its config (prod: multi-master, alarms at their defaults)', async function () {
    this.timeout(60_000);
    const out: string[] = [];
    assert.equal(await main(['--stack', 'prod'], (l) => out.push(...l.split('\n')), () => undefined), 0);
    const at = out.findIndex((l) => l.startsWith('── recovery objectives'));
    assert.ok(at > 0, 'the recovery section is printed');
    assert.ok(out.slice(0, at).some((l) => l.startsWith('── totals')), 'after the plan itself');
    const cfg = parseConfig(projectKeys(readStackFile('prod')), { stack: 'prod' });
    const section = out.slice(at).join('\n');
    assert.match(section, new RegExp(`writeMode ${cfg.writeMode}, primary ${cfg.primaryRegion}`));
    for (const o of recoveryObjectives(cfg)) {
      assert.ok(section.includes(`   ${o.failure}\n      RTO ${o.rto}\n      RPO ${o.rpo}`), o.failure);
    }
    assert.match(section, new RegExp(`RTO ${detectAndDns} s for its clients`));
  });
});
