/**
 * The `domain` key: the Route53 hosted zone and the global API name (components/globalRouting.ts uses them).
 */
import { type ConfigProblem, parseObject, show, unknownFields } from './problems';

export interface DomainConfig {
  /** the Route53 hosted zone, e.g. example.com */
  zoneName: string;
  /** the global API name, e.g. api.example.com; each region also gets <region>.<name> */
  name: string;
  /** the hosted zone's id, when known (skips the look-up by name) */
  zoneId?: string;
}

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const isDnsName = (s: string): boolean => s.length <= 253 && s.split('.').length >= 2 && s.split('.').every((l) => DNS_LABEL.test(l));

export function parseDomain(raw: string | undefined, problems: ConfigProblem[]): DomainConfig | undefined {
  if (raw === undefined || raw === '') return undefined;
  const hint = '{zoneName, name[, zoneId]}, e.g. {"zoneName": "example.com", "name": "api.example.com"}';
  const obj = parseObject('domain', raw, problems, hint);
  if (!obj) return undefined;
  unknownFields('domain', obj, ['zoneName', 'name', 'zoneId'], problems);
  // a fully qualified name's trailing dot (`example.com.`, as Route53 shows zone names) means the same name
  const undot = (v: unknown): unknown => (typeof v === 'string' && v.endsWith('.') && !v.endsWith('..') ? v.slice(0, -1) : v);
  const zoneName = undot(obj.zoneName);
  const name = undot(obj.name);
  const zoneId = obj.zoneId;
  let ok = true;
  if (typeof zoneName !== 'string' || !isDnsName(zoneName)) {
    problems.push({ key: 'domain.zoneName', value: show(zoneName), allowed: 'a lower-case DNS name such as example.com' });
    ok = false;
  }
  if (typeof name !== 'string' || !isDnsName(name)) {
    problems.push({ key: 'domain.name', value: show(name), allowed: 'a lower-case DNS name such as api.example.com' });
    ok = false;
  } else if (typeof zoneName === 'string' && !name.endsWith(`.${zoneName}`)) {
    problems.push({ key: 'domain.name', value: show(name), allowed: `must be a name inside the zone ${zoneName} (end with .${zoneName})` });
    ok = false;
  }
  if (zoneId !== undefined && (typeof zoneId !== 'string' || !/^Z[A-Z0-9]{1,32}$/.test(zoneId))) {
    problems.push({ key: 'domain.zoneId', value: show(zoneId), allowed: 'a Route53 hosted zone id such as Z0123456789ABCDEFGHIJ' });
    ok = false;
  }
  return ok ? { zoneName: zoneName as string, name: name as string, ...(zoneId ? { zoneId: zoneId as string } : {}) } : undefined;
}
