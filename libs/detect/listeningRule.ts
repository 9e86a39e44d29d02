// Detection 1: a device starts listening on a port attackers love (RDP 3389, NetBIOS/SMB 139/445, Citrix 2598/1494)
// and is not a known server for that port. Defender DeviceNetworkEvents (ActionType ListeningConnectionCreated) and
// CrowdStrike NetworkListenIP4/IP6. Key: the device. One alert per (device, port, UTC day): the id derives from
// those, and the device's state remembers what it already raised so repeats inside the state's life are silent.
import type { Severity } from '@sluice/slack';
import { alertId, isoOfMs, sqlString } from './alertId.ts';
import { firstOf, str, type EventBatch } from './eventBatch.ts';
import type { DetectionRule, KeyState, PreparedBatch } from './rule.ts';

export const LISTENING_RULE = 'vulnerable_service_listening';

export interface ListeningSource {
  table: string;
  time: string;
  /** Column holding the event kind, and the values that mean "started listening". */
  actionColumn: string;
  actions: string[];
  deviceId: string;
  deviceName: string;
  /** Local address columns, first non-empty wins. */
  localIp: string[];
  port: string;
  /** Column identifying the evidence in next_query (defaults to deviceId). */
  queryKey?: string;
}

export interface KnownServer {
  /** DeviceName, DeviceId / aid or ComputerName (case-insensitive). */
  name: string;
  /** Ports it is expected to listen on; absent or empty = all watched ports. */
  ports?: number[];
}

export interface ListeningRuleConfig {
  ports: number[];
  knownServers: (string | KnownServer)[];
  sources: ListeningSource[];
}

export const DEFAULT_LISTENING_SOURCES: ListeningSource[] = [
  {
    table: 'defender_device_network_events',
    time: 'Timestamp',
    actionColumn: 'ActionType',
    actions: ['ListeningConnectionCreated'],
    deviceId: 'DeviceId',
    deviceName: 'DeviceName',
    localIp: ['LocalIP'],
    port: 'LocalPort',
  },
  {
    table: 'crowdstrike_network_listen',
    time: 'timestamp',
    actionColumn: 'event_simpleName',
    actions: ['NetworkListenIP4', 'NetworkListenIP6'],
    deviceId: 'aid',
    deviceName: 'ComputerName',
    localIp: ['LocalAddressIP4', 'LocalAddressIP6'],
    port: 'LocalPort',
  },
];

export const DEFAULT_LISTENING_PORTS = [3389, 139, 445, 2598, 1494];

const SERVICE: Record<number, string> = { 3389: 'RDP', 139: 'NetBIOS', 445: 'SMB', 2598: 'Citrix CGP', 1494: 'Citrix ICA' };
const HIGH = new Set([3389, 445]);
const DAY_MS = 86_400_000;

/** Device state: `a` = "port|day" already alerted (today and yesterday only). */
export interface ListeningState extends KeyState {
  a: string[];
}

export function listeningRule(cfg: ListeningRuleConfig): DetectionRule<ListeningState> {
  const ports = new Set(cfg.ports);
  const known = new Map<string, Set<number> | 'all'>();
  for (const k of cfg.knownServers) {
    const { name, ports: p = [] } = typeof k === 'string' ? { name: k } : k;
    known.set(name.toLowerCase(), p.length ? new Set(p) : 'all');
  }
  const isKnown = (names: string[], port: number) =>
    names.some((n) => {
      const k = known.get(n.toLowerCase());
      return k === 'all' || (k !== undefined && k.has(port));
    });
  const byTable = new Map(cfg.sources.map((s) => [s.table, s]));

  return {
    name: LISTENING_RULE,
    reads: 'events',
    inputs: cfg.sources.map((s) => s.table),
    encodeState: (s) => s,
    decodeState: (v) => v as ListeningState,
    prepare(batch: EventBatch): PreparedBatch<ListeningState> | null {
      const src = byTable.get(batch.input);
      if (!src) return null;
      const action = batch.column(src.actionColumn);
      const port = batch.column(src.port);
      if (!action || !port) return null;
      // The other columns are read only for rows past the action and port filter (few): the batch caches them.
      const col = (n: string) => batch.column(n);
      const actions = new Set(src.actions);
      const portOf = (r: number) => Number(port[r]);
      return {
        key(r) {
          if (!actions.has(str(action[r])) || port[r] === null || !ports.has(portOf(r))) return null;
          const devId = str(col(src.deviceId)?.[r]);
          const devName = str(col(src.deviceName)?.[r]);
          if (!devId && !devName) return null;
          if (isKnown([devId, devName].filter(Boolean), portOf(r))) return null;
          return `${devId || devName}`;
        },
        eventTimeMs: (r) => Number(col(src.time)?.[r] ?? 0),
        apply(prev, r, ctx) {
          const p = portOf(r);
          const devId = str(col(src.deviceId)?.[r]);
          const devName = str(col(src.deviceName)?.[r]);
          const ms = Number(col(src.time)?.[r] ?? 0);
          const eventTime = isoOfMs(ms);
          const day = eventTime.slice(0, 10);
          const yesterday = isoOfMs(ms - DAY_MS).slice(0, 10);
          const mark = `${p}|${day}`;
          const kept = (prev?.a ?? []).filter((m) => m.slice(m.indexOf('|') + 1) >= yesterday);
          const next: ListeningState = { t: Math.max(prev?.t ?? 0, ms), a: kept };
          if (kept.includes(mark)) return next;
          kept.push(mark);
          const service = SERVICE[p] ?? `port ${p}`;
          const entity = devName || devId;
          const severity: Severity = HIGH.has(p) ? 'high' : 'medium';
          const keyCol = src.queryKey ?? src.deviceId;
          const keyVal = src.queryKey ? str(batch.column(src.queryKey)?.[r]) : devId;
          ctx.emit({
            alert_id: alertId(LISTENING_RULE, devId || devName, p, day),
            rule: LISTENING_RULE,
            severity,
            title: `${service} listening on ${entity} (port ${p})`,
            entity,
            event_time: eventTime,
            created_time: ctx.nowIso,
            detail: {
              table: batch.input,
              DeviceId: devId,
              DeviceName: devName,
              LocalIP: firstOf(src.localIp.map(col), r) || null,
              LocalPort: p,
              service,
            },
            evidence: [{ table: batch.input, source: str(col('_source')?.[r]), object: str(col('_object')?.[r]), raw_seq: col('_raw_seq')?.[r] == null ? null : Number(col('_raw_seq')![r]) }],
            next_query: `SELECT * FROM ${batch.input} WHERE ${keyCol} = ${sqlString(keyVal || devName)} AND eventDate = DATE '${day}' AND ${src.port} = ${p}`,
          });
          return next;
        },
      };
    },
  };
}
