/**
 * RTO and RPO per failure, computed from the stack config, never typed in: `npm run plan`
 * prints them and docs/alarms.md explains them. No @pulumi imports (the plan script and the tests call it directly).
 *
 * - Detection: Route53 calls a region unhealthy after `failureThreshold` failed checks `requestInterval` apart
 *   (components/healthCheck.ts; https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
 * - Clients follow after the DNS answer they cached expires: the latency records are aliases, whose TTL is the
 *   target's (an alias record cannot set one; https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html);
 *   ALIAS_TTL_SECONDS is the 60 s assumed for an API Gateway regional domain.
 * - Data: a region lost in multi-master loses the writes it accepted and had not replicated yet — the
 *   ReplicationLatency of its pairs: typically about a second (DynamoDB's own figure), alarmed at the configured
 *   average (`alarms.replicationLatencyAverageMs`). In `primary` mode every write lands in the primary's replica.
 * - Notifier: records are retried, then sent to the DLQ when older than the stream mapping's maximum record age.
 * - `consistency: strong` (MRSC, config/consistency.ts): DynamoDB acknowledges a write only once it is durable in
 *   a second of the three MRSC regions, so no region's loss loses an acknowledged write (RPO 0), and the two
 *   remaining regions (or region + witness) keep a majority and keep writing. The price is write latency: each write
 *   waits for the nearest other replica or the witness, about one round trip
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html). Pausing
 *   replication to a region (the FIS drill) makes that replica refuse writes and strongly consistent reads
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-security.html, MRSC replicas
 *   whose replication is not authorized answer AccessDeniedException): its health fails and clients move away.
 */
import type { WriteMode } from '../schema/rules';
import type { AlarmThresholds } from '../config/alarms';
import { HEALTH_CHECK } from './healthCheck';
import { STREAM_MAPPING } from './streamMapping';

/** TTL clients cache the latency alias answer for (the target's: an alias record has none of its own). */
export const ALIAS_TTL_SECONDS = 60;
/** "typically within a second": DynamoDB global tables' usual replication latency. */
export const TYPICAL_REPLICATION_MS = 1_000;

export interface RecoveryInputs {
  regions: readonly string[];
  primaryRegion: string;
  writeMode: WriteMode;
  alarms: Readonly<AlarmThresholds>;
  healthCheck?: { requestInterval: number; failureThreshold: number };
  dnsTtlSeconds?: number;
  maximumRecordAgeInSeconds?: number;
  /** `consistency` (default eventual) and the MRSC witness */
  consistency?: 'eventual' | 'strong';
  witnessRegion?: string;
  /** strong: round trip (ms) from each region to its nearest other MRSC region, for the write-latency note */
  writeRoundTripMs?: Readonly<Record<string, number>>;
}

export interface RecoveryObjective {
  failure: string;
  /** seconds until clients are served again; null when it waits for a person or a repair */
  rtoSeconds: number | null;
  rto: string;
  /** seconds of acknowledged writes (or notifications) that can be lost at most, as alarmed; 0 = none; null = the drill's D */
  rpoSeconds: number | null;
  rpo: string;
}

export function recoveryObjectives(input: RecoveryInputs): RecoveryObjective[] {
  const hc = input.healthCheck ?? { requestInterval: HEALTH_CHECK.requestInterval, failureThreshold: HEALTH_CHECK.failureThreshold };
  const ttl = input.dnsTtlSeconds ?? ALIAS_TTL_SECONDS;
  const maxAge = input.maximumRecordAgeInSeconds ?? STREAM_MAPPING.maximumRecordAgeInSeconds;
  const detect = hc.requestInterval * hc.failureThreshold;
  const failover = detect + ttl;
  const lagS = input.alarms.replicationLatencyAverageMs / 1000;
  const lag = `≤ replication lag: typically ~${TYPICAL_REPLICATION_MS / 1000} s, alarmed above ${lagS} s average`;
  const dnsWhy = `${hc.requestInterval} s × ${hc.failureThreshold} checks + ${ttl} s DNS TTL`;
  const alone = input.regions.length < 2;
  const out: RecoveryObjective[] = [];
  if (input.consistency === 'strong' && !alone) return strongObjectives(input, { failover, dnsWhy, maxAge });

  if (alone) {
    out.push({ failure: `region lost (${input.regions[0]} is the only region)`, rtoSeconds: null, rto: 'until the region returns: no other region to fail over to', rpoSeconds: 0, rpo: '0 (the region keeps its data; nothing is served meanwhile)' });
  } else {
    out.push(
      input.writeMode === 'primary'
        ? { failure: 'secondary region lost', rtoSeconds: failover, rto: `${failover} s for its clients (${dnsWhy}); other regions unaffected`, rpoSeconds: 0, rpo: '0: its writes went to the primary region' }
        : { failure: 'secondary region lost', rtoSeconds: failover, rto: `${failover} s for its clients (${dnsWhy}); other regions unaffected`, rpoSeconds: lagS, rpo: `its unreplicated writes, ${lag}` },
    );
    out.push({ failure: `primary region lost, multi-master`, rtoSeconds: failover, rto: `${failover} s (${dnsWhy}); writes never stop elsewhere`, rpoSeconds: lagS, rpo: `its unreplicated writes, ${lag}` });
    out.push({
      failure: `primary region lost, primary mode`,
      rtoSeconds: null,
      rto: `reads ${failover} s (${dnsWhy}); writes fail everywhere until \`npm run state -- failover\` (operator time + seconds)`,
      rpoSeconds: lagS,
      rpo: `the primary's unreplicated writes, ${lag}`,
    });
  }
  out.push({
    failure: 'notifier failing (one region)',
    rtoSeconds: null,
    rto: 'subscribers in that region hear nothing new until it is fixed; data and APIs unaffected; alarmed within 1 min (errors) / 5 min (iterator age)',
    rpoSeconds: maxAge,
    rpo: notifierRpo(maxAge),
  });
  if (!alone) {
    out.push({
      failure: 'replication paused for D seconds (FIS drill)',
      rtoSeconds: 0,
      rto: `0: every region keeps serving, reading its own replica (stale by up to D); alarmed when a pair's maximum passes ${input.alarms.replicationLatencyMaximumMs / 1000} s`,
      rpoSeconds: null,
      rpo: 'if a region is lost during the pause: its writes since the pause began (up to D); none once replication resumes and converges (last writer wins)',
    });
  }
  return out;
}

/**
 * A failing notifier's notifications: each change is retried `maximumRetryAttempts` times (with bisect), then sent
 * to the DLQ — seconds while every invocation fails (the emulator's notifier-errors drill measured ~2 s,
 * test/e2e/consistency.test.ts) — and at the latest once older than the maximum record age.
 */
function notifierRpo(maxAge: number): string {
  return `0 data; each change's notification goes to the DLQ instead of subscribers after the stream mapping's ${STREAM_MAPPING.maximumRetryAttempts} retries (seconds while every invocation fails), at the latest once older than ${maxAge} s`;
}

/** consistency strong: acknowledged writes are in two of three MRSC regions, so no single region's loss loses any. */
function strongObjectives(input: RecoveryInputs, c: { failover: number; dnsWhy: string; maxAge: number }): RecoveryObjective[] {
  const rpo0 = '0: MRSC acknowledges a write only once another MRSC region has it';
  const majority = input.witnessRegion ? `the other region and the witness ${input.witnessRegion} keep a majority` : 'the other two regions keep a majority';
  return [
    { failure: 'secondary region lost', rtoSeconds: c.failover, rto: `${c.failover} s for its clients (${c.dnsWhy}); ${majority} and keep writing`, rpoSeconds: 0, rpo: rpo0 },
    { failure: 'primary region lost, multi-master', rtoSeconds: c.failover, rto: `${c.failover} s (${c.dnsWhy}); ${majority}`, rpoSeconds: 0, rpo: rpo0 },
    {
      failure: 'primary region lost, primary mode',
      rtoSeconds: null,
      rto: `reads ${c.failover} s (${c.dnsWhy}); writes fail everywhere until \`npm run state -- failover\` (operator time + seconds)`,
      rpoSeconds: 0,
      rpo: rpo0,
    },
    {
      failure: 'notifier failing (one region)',
      rtoSeconds: null,
      rto: 'subscribers in that region hear nothing new until it is fixed; data and APIs unaffected; alarmed within 1 min (errors) / 5 min (iterator age)',
      rpoSeconds: c.maxAge,
      rpo: notifierRpo(c.maxAge),
    },
    {
      failure: 'replication paused for D seconds (FIS drill)',
      rtoSeconds: c.failover,
      rto: `${c.failover} s for the paused region's clients (${c.dnsWhy}): its replica refuses writes and strongly consistent reads, so its health fails and the global name moves them; other regions unaffected`,
      rpoSeconds: 0,
      rpo: `${rpo0} (the paused region accepts none)`,
    },
  ];
}

/** consistency strong: what each write waits for (one line per region), from writeRoundTripMs. */
export function writeLatencyNote(input: Pick<RecoveryInputs, 'consistency' | 'regions' | 'witnessRegion' | 'writeRoundTripMs'>): string[] {
  if (input.consistency !== 'strong' || input.regions.length < 2) return [];
  const rtt = input.writeRoundTripMs ?? {};
  const per = input.regions.map((r) => (rtt[r] === undefined ? r : `${r} +${Math.round(rtt[r])} ms`)).join(', ');
  return [`   writes (consistency strong): each waits for the nearest other MRSC region${input.witnessRegion ? ` or the witness ${input.witnessRegion}` : ''}, about one round trip: ${per}`];
}

/** The plan's text section: one line per failure. */
export function formatRecovery(objectives: readonly RecoveryObjective[], cfg: { writeMode: WriteMode; primaryRegion: string; consistency?: 'eventual' | 'strong' }, notes: readonly string[] = []): string[] {
  const lines = [`── recovery objectives (writeMode ${cfg.writeMode}, primary ${cfg.primaryRegion}${cfg.consistency === 'strong' ? ', consistency strong' : ''}; docs/alarms.md)`];
  for (const o of objectives) lines.push(`   ${o.failure}`, `      RTO ${o.rto}`, `      RPO ${o.rpo}`);
  lines.push(...notes);
  return lines;
}
