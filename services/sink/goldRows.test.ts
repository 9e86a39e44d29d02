// The gold ip_lookup path of the sink: NDJSON rows as the ip_attribution rule emits them (gold.ip_lookup) → Arrow
// rows in the table's layout (ISO times → epoch µs, valid_from_date partition) → a Delta commit with the txn,
// exactly once (a redelivered message is not written twice); broken rows are non-retryable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTable } from '@sluice/delta';
import { ipAttributionRule, DetectorRuntime, objectBatch, type IpHolder } from '@sluice/detect';
import { createLogger, H, NonRetryableError, type InputMessage } from '@sluice/runtime';
import { ipLookupTable } from '@sluice/tables';
import { goldRows } from './batchToTable.ts';
import { deltaColumns } from './main.ts';
import { TableWriter } from './tableWriter.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const T0 = Date.UTC(2024, 2, 13, 9, 0, 0);
const NOW = new Date('2024-03-14T00:00:00Z');
const enc = new TextEncoder();

const msg = (seq: number, rows: unknown[]): InputMessage => ({
  subject: 'gold.ip_lookup',
  data: enc.encode(rows.map((r) => JSON.stringify(r)).join('\n') + '\n'),
  headers: { [H.encoding]: 'ndjson' },
  stream: 'ALERTS',
  seq,
  deliveryCount: 1,
});

/** ACK then RELEASE of one lease through the rule: the two revisions it emits. */
function emitted() {
  const rt = new DetectorRuntime<IpHolder>(ipAttributionRule(), 1, [0], { ttlMs: 86_400_000, maxKeysPerPartition: 100 });
  const row = (type: string, t: number) => ({ timestamp: t, event_type: type, ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', hostname: 'laptop-1', lease_duration: 3600, _source: 'dhcp_syslog', _object: 'f.log', _raw_seq: 4 });
  return [...rt.apply('dhcp', 1, objectBatch('dhcp', [row('ACK', T0)]), NOW).alerts, ...rt.apply('dhcp', 2, objectBatch('dhcp', [row('RELEASE', T0 + 600_000)]), NOW).alerts].map((a) => a.detail);
}

describe('sink gold ip_lookup rows', () => {
  it('converts emitted rows to the table layout and commits them exactly once', async () => {
    const rows = emitted();
    const t = goldRows(msg(1, rows), ipLookupTable);
    expect(t.numRows).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-gold-'));
    dirs.push(dir);
    const root = join(dir, 'gold', 'ip_lookup');
    const w = await TableWriter.open({
      name: ipLookupTable.name, root, columns: deltaColumns(ipLookupTable), partitionBy: ipLookupTable.partitionBy, description: ipLookupTable.doc,
      appId: 'sluice-sink-gold-ip_lookup', policy: { maxRows: 1, maxBytes: 1 << 30, maxLatencySeconds: 60 }, log: createLogger('test', 'silent'), onFatal: (e) => { throw e; },
    });
    await w.write(1, t, 100);
    await w.write(1, goldRows(msg(1, rows), ipLookupTable), 100); // redelivered: already committed
    expect(w.committedSeq).toBe(1);
    await w.close();
    const read = (await readTable(root)).rows.sort((a, b) => Number(a.revision) - Number(b.revision));
    const us = T0 * 1000;
    const common = { ip: '10.1.2.3', mac: 'aa:bb:cc:00:00:01', user: null, hostname: 'laptop-1', source: 'dhcp', valid_from: us, lease_expires: us + 3_600_000_000, interval_id: rows[0]!.interval_id, emitted_time: NOW.getTime() * 1000, valid_from_date: 19795 };
    expect(read).toEqual([
      { ...common, valid_to: null, closed_by: null, revision: 0, evidence: '[{"table":"dhcp","source":"dhcp_syslog","object":"f.log","raw_seq":4}]' },
      { ...common, valid_to: us + 600_000_000, closed_by: 'release', revision: 1, evidence: '[{"table":"dhcp","source":"dhcp_syslog","object":"f.log","raw_seq":4},{"table":"dhcp","source":"dhcp_syslog","object":"f.log","raw_seq":4}]' },
    ]);
  });

  it('refuses rows that are not JSON or have no valid_from (non-retryable)', () => {
    const bad: InputMessage = { ...msg(3, []), data: enc.encode('{not json\n') };
    expect(() => goldRows(bad, ipLookupTable)).toThrow(NonRetryableError);
    expect(() => goldRows(msg(4, [{ ip: '10.0.0.1', valid_from: 'yesterday' }]), ipLookupTable)).toThrow(/without a valid valid_from/);
  });
});
