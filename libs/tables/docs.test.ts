// Tests of the Markdown rendering of table definitions: sections, column rows, lineage, expectations, escaping.
// Uses the Defender network table and a tiny bronze table.
import { describe, expect, it } from 'vitest';
import { defenderTables } from './defender/index.ts';
import { markdownOf, markdownOfTables } from './docs.ts';
import type { TableDefinition } from './tableDefinition.ts';

describe('markdownOf', () => {
  const md = markdownOf(defenderTables.DeviceNetworkEvents!);

  it('renders heading, facts, columns, lineage and expectations of a silver table', () => {
    expect(md).toMatch(/^## defender_device_network_events\n/);
    expect(md).toContain('- Layer: silver');
    expect(md).toContain('- Partitioned by: `eventDate`');
    expect(md).toContain('- Event time: `Timestamp`');
    expect(md).toContain('| `Timestamp` | timestamp | no | `properties.Timestamp` |');
    expect(md).toContain('| `RemotePort` | integer | yes | `properties.RemotePort` |');
    expect(md).toContain('| `_event_hub_time` | timestamp | yes | `time` |');
    expect(md).toContain('### Lineage columns');
    expect(md).toContain('| `_raw_seq` | long | no |');
    expect(md).toContain('| `eventDate` | date | no | UTC date of `Timestamp` |');
    expect(md).toContain('| `valid_remote_port` | drop (count) | RemotePort is null or within 0..65535 |');
    expect(md).toContain('| `device_id_present` | quarantine |');
    expect(md).toContain('| `action_type_known` | warn (keep, count) |');
  });

  it('escapes pipes and newlines and omits lineage outside silver', () => {
    const def: TableDefinition = {
      name: 'tiny',
      layer: 'bronze',
      doc: 'Tiny.',
      columns: [{ name: 'a', type: 'timestamp', unit: 's', doc: 'x | y\nz' }],
      partitionBy: [],
      expectations: [],
    };
    const out = markdownOf(def);
    expect(out).toContain('| `a` | timestamp (numbers in s) | yes | `a` | x \\| y z |');
    expect(out).not.toContain('Lineage');
    expect(out).toContain('- Partitioned by: (none)');
    expect(out).toContain('(none)');
  });

  it('renders map columns as map<string,string>', () => {
    const def: TableDefinition = {
      name: 'trail',
      layer: 'bronze',
      doc: 'CloudTrail.',
      columns: [{ name: 'requestParameters', type: 'map', doc: 'Request parameters.' }],
      partitionBy: [],
      expectations: [],
    };
    expect(markdownOf(def)).toContain('| `requestParameters` | map<string,string> | yes | `requestParameters` | Request parameters. |');
  });

  it('markdownOfTables adds a title and a table of contents', () => {
    const all = markdownOfTables(Object.values(defenderTables), 'Defender tables');
    expect(all).toMatch(/^# Defender tables\n/);
    expect(all).toContain('- [defender_device_file_events](#defender_device_file_events) — silver');
    expect(all.match(/^## /gm)).toHaveLength(Object.keys(defenderTables).length);
  });
});
