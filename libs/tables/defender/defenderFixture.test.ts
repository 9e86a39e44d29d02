// Tests of the synthetic Defender record generator in test/fixtures (it lives outside the vitest projects' globs):
// determinism, unique DeviceId+ReportId keys, expected counts, record size, planted listeners and payload chunking.
import { describe, expect, it } from 'vitest';
import {
  DEFENDER_CATEGORIES,
  generateDefenderRecords,
  toEventHubPayloads,
  UNKNOWN_CATEGORY,
  VULNERABLE_LISTENING_PORTS,
  type DefenderGeneratorOptions,
} from '../../../test/fixtures/defenderGenerator.ts';

const options: DefenderGeneratorOptions = {
  seed: 2024,
  counts: { DeviceProcessEvents: 500, DeviceNetworkEvents: 800, DeviceLogonEvents: 400, DeviceFileEvents: 300, DeviceRegistryEvents: 200, Unknown: 9 },
  listeners: [{ deviceId: 'ab'.repeat(20), deviceName: 'legacy-01.corp.example.com', port: 139 }],
  malformed: 23,
};

describe('generateDefenderRecords', () => {
  const g = generateDefenderRecords(options);

  it('is deterministic for a seed and differs across seeds', () => {
    expect(JSON.stringify(generateDefenderRecords(options))).toBe(JSON.stringify(g));
    expect(JSON.stringify(generateDefenderRecords({ ...options, seed: 2025 }).records)).not.toBe(JSON.stringify(g.records));
  });

  it('reports consistent expected counts', () => {
    const perCategory: Record<string, number> = {};
    for (const r of g.records) perCategory[r.category] = (perCategory[r.category] ?? 0) + 1;
    for (const c of DEFENDER_CATEGORIES) {
      const e = g.expected.categories[c];
      expect(perCategory[`AdvancedHunting-${c}`], c).toBe(e.valid + e.malformed);
      expect(e.malformedIds).toHaveLength(e.malformed);
    }
    expect(g.expected.categories.DeviceNetworkEvents.valid).toBe(801);
    expect(perCategory[UNKNOWN_CATEGORY]).toBe(9);
    expect(g.expected.malformed).toHaveLength(23);
    expect(g.expected.total).toBe(500 + 801 + 400 + 300 + 200 + 9 + 23);
    expect(g.records).toHaveLength(g.expected.total);
  });

  it('gives every record a unique DeviceId+ReportId and ReportIds unique per device', () => {
    const keys = new Set(g.records.map((r) => `${String(r.properties.DeviceId)}/${String(r.properties.ReportId)}`));
    expect(keys.size).toBe(g.records.length);
    expect(new Set(g.records.map((r) => r.properties.ReportId)).size).toBe(g.records.length);
  });

  it('writes realistic Event Hubs records of roughly 750 bytes', () => {
    const r = g.records.find((x) => x.category === 'AdvancedHunting-DeviceNetworkEvents')!;
    expect(r).toMatchObject({ operationName: 'Publish', tenantId: expect.any(String), Tenant: 'DefaultTenant' });
    expect(r.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
    expect(r.properties.Timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
    const avg = g.records.reduce((n, x) => n + JSON.stringify(x).length, 0) / g.records.length;
    expect(avg).toBeGreaterThan(600);
    expect(avg).toBeLessThan(1000);
  });

  it('plants listeners as the only listening events on vulnerable ports, and no background traffic uses them', () => {
    const vulnerable = new Set(VULNERABLE_LISTENING_PORTS);
    const listening = g.records.filter((r) => r.properties.ActionType === 'ListeningConnectionCreated');
    expect(listening.length).toBeGreaterThan(1);
    const planted = listening.filter((r) => vulnerable.has(r.properties.LocalPort as number));
    expect(planted.map((r) => [r.properties.DeviceId, r.properties.DeviceName, r.properties.LocalPort, r.properties.ReportId])).toEqual(
      g.expected.listeners.map((l) => [l.deviceId, l.deviceName, l.port, l.reportId]),
    );
    const background = g.records.filter((r) => r.category.endsWith('NetworkEvents') && r.properties.DeviceId !== options.listeners![0]!.deviceId);
    for (const r of background) {
      expect(vulnerable.has(r.properties.LocalPort as number)).toBe(false);
      expect(vulnerable.has(r.properties.RemotePort as number)).toBe(false);
    }
  });

  it('spreads event times over the span, crossing midnight', () => {
    const days = new Set(g.records.map((r) => String(r.properties.Timestamp ?? '').slice(0, 10)).filter(Boolean));
    expect(days.size).toBeGreaterThanOrEqual(2);
    expect([...days].every((d) => d >= '2024-03-11' && d <= '2024-03-12')).toBe(true);
  });
});

describe('toEventHubPayloads', () => {
  it('chunks records into { records } payloads preserving order', () => {
    const { records } = generateDefenderRecords({ seed: 1, counts: { DeviceFileEvents: 10 } });
    const payloads = toEventHubPayloads(records, 4);
    expect(payloads.map((p) => p.records.length)).toEqual([4, 4, 2]);
    expect(payloads.flatMap((p) => p.records)).toEqual(records);
    expect(toEventHubPayloads([], 5)).toEqual([]);
    expect(() => toEventHubPayloads(records, 0)).toThrow(/positive integer/);
  });
});
