// Detection: a device starts listening on a port attackers love (RDP 3389, NetBIOS/SMB 139/445, Citrix 2598/1494)
// and is not a known server. One alert per (device, port, day): its id is derived from those, so repeats collapse.
import { createHash } from 'node:crypto';
import type { Table } from 'apache-arrow';
import type { Alert } from '@sluice/slack';

export const LISTENING_RULE = 'vulnerable_service_listening';

export interface ListeningRuleConfig {
  ports: number[];
  /** DeviceName or DeviceId values of servers expected to listen on these ports. */
  knownServers: string[];
}

const SERVICE: Record<number, string> = { 3389: 'RDP', 139: 'NetBIOS', 445: 'SMB', 2598: 'Citrix CGP', 1494: 'Citrix ICA' };

export function alertId(rule: string, ...key: (string | number)[]): string {
  return createHash('sha256').update([rule, ...key].join('\u0000')).digest('hex').slice(0, 32);
}

function isoOfMicros(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** Scans a DeviceNetworkEvents batch; returns one alert per matching row (ids repeat for the same device/port/day). */
export function detectListening(table: Table, tableName: string, cfg: ListeningRuleConfig, now = new Date()): Alert[] {
  const ports = new Set(cfg.ports);
  const known = new Set(cfg.knownServers.map((s) => s.toLowerCase()));
  const col = (n: string) => table.getChild(n);
  const action = col('ActionType');
  const port = col('LocalPort');
  if (!action || !port) return [];
  const deviceId = col('DeviceId');
  const deviceName = col('DeviceName');
  const localIp = col('LocalIP');
  const ts = col('Timestamp');
  const proc = col('InitiatingProcessFileName');
  const source = col('_source');
  const object = col('_object');
  const rawSeq = col('_raw_seq');
  const alerts: Alert[] = [];
  for (let r = 0; r < table.numRows; r++) {
    if (action.get(r) !== 'ListeningConnectionCreated') continue;
    const p = Number(port.get(r));
    if (!ports.has(p)) continue;
    const id = String(deviceId?.get(r) ?? '');
    const name = String(deviceName?.get(r) ?? '');
    if (known.has(name.toLowerCase()) || known.has(id.toLowerCase())) continue;
    // apache-arrow returns timestamps in epoch ms.
    const eventMs = Number(ts?.get(r) ?? now.getTime());
    const eventTime = isoOfMicros(eventMs * 1000);
    const day = eventTime.slice(0, 10);
    const service = SERVICE[p] ?? `port ${p}`;
    alerts.push({
      alert_id: alertId(LISTENING_RULE, id || name, p, day),
      rule: LISTENING_RULE,
      severity: p === 3389 || p === 445 ? 'high' : 'medium',
      title: `${service} listening on ${name || id} (port ${p})`,
      entity: name || id,
      event_time: eventTime,
      created_time: now.toISOString(),
      detail: {
        DeviceId: id,
        DeviceName: name,
        LocalIP: (localIp?.get(r) as string | null) ?? null,
        LocalPort: p,
        service,
        InitiatingProcessFileName: (proc?.get(r) as string | null) ?? null,
      },
      evidence: [{ table: tableName, source: String(source?.get(r) ?? ''), object: String(object?.get(r) ?? ''), raw_seq: rawSeq ? Number(rawSeq.get(r)) : null }],
      next_query: `SELECT * FROM ${tableName} WHERE DeviceId = '${id.replace(/'/g, "''")}' AND eventDate = DATE '${day}' AND LocalPort = ${p}`,
    });
  }
  return alerts;
}
