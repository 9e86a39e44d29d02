// detector: events.<table>.> (every partition) → alerts.<rule>. For now one rule: vulnerable services listening (Defender network events).
import { decodeIpc } from '@sluice/columnar';
import { H, NonRetryableError, isMain, runService, STREAMS, subjects, type OutputMessage, type ServiceDefinition } from '@sluice/runtime';
import { detectListening, LISTENING_RULE, type ListeningRuleConfig } from './listeningRule.ts';

export interface DetectorConfig {
  detector: { listening: ListeningRuleConfig & { tables: string[] } };
}

const enc = new TextEncoder();

export const detector: ServiceDefinition<DetectorConfig> = {
  name: 'detector',
  description: 'runs detections on enriched events and publishes alerts',
  sectionSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      listening: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          ports: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 65535 }, default: [3389, 139, 445, 2598, 1494] },
          knownServers: { type: 'array', items: { type: 'string' }, default: [] },
          tables: { type: 'array', items: { type: 'string' }, default: ['defender_device_network_events'] },
        },
      },
    },
  },
  async setup({ config }) {
    const rule = config.detector.listening;
    return {
      inputs: rule.tables.map((table) => ({
        stream: STREAMS.events.name,
        durable: `detector-${LISTENING_RULE}-${table}`,
        filterSubject: subjects.eventsAllPartitions(table),
        handler: async (msg): Promise<OutputMessage[]> => {
          if (msg.headers[H.encoding] !== 'arrow-ipc') throw new NonRetryableError('detector expects arrow-ipc envelopes');
          const alerts = detectListening(decodeIpc(msg.data), table, rule);
          // One message per alert, identified by the alert id: JetStream collapses repeats within its window.
          return alerts.map((a) => ({
            subject: subjects.alerts(a.rule),
            data: enc.encode(JSON.stringify(a) + '\n'),
            records: 1,
            msgId: `alert:${a.alert_id}`,
            headers: { [H.encoding]: 'ndjson', [H.count]: '1', [H.source]: msg.headers[H.source] ?? '', [H.object]: msg.headers[H.object] ?? '' },
          }));
        },
      })),
    };
  },
};

if (isMain(import.meta.url)) await runService(detector);
