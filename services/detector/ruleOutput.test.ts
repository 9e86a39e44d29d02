// How the rule host puts what a rule emits on the bus: alerts on alerts.<rule> (the whole alert), rows of a
// table-emitting rule on gold.<table> (the row alone, its own message id), so notifiers never see them.
import { describe, expect, it } from 'vitest';
import type { Alert } from '@sluice/slack';
import { H } from '@sluice/runtime';
import { toOutput } from './ruleHost.ts';

const alert: Alert = {
  alert_id: 'abc', rule: 'ip_attribution', severity: 'low', title: 't', entity: '10.1.2.3', event_time: '2024-03-13T09:00:00.000Z', created_time: '2024-03-14T00:00:00.000Z',
  detail: { ip: '10.1.2.3', revision: 0 }, evidence: [{ table: 'dhcp', source: 's', object: 'o', raw_seq: 1 }],
};
const dec = new TextDecoder();

describe('rule host outputs', () => {
  it('publishes alerts on alerts.<rule> and table rows on gold.<table>', () => {
    const a = toOutput(alert);
    expect([a.subject, a.msgId, JSON.parse(dec.decode(a.data))]).toEqual(['alerts.ip_attribution', 'alert:abc', alert]);
    const g = toOutput(alert, 'ip_lookup');
    expect([g.subject, g.msgId, dec.decode(g.data), g.headers?.[H.encoding]]).toEqual(['gold.ip_lookup', 'gold:ip_lookup:abc', '{"ip":"10.1.2.3","revision":0}\n', 'ndjson']);
  });
});
