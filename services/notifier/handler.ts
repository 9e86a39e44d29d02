// Delivers each alert of an ALERTS message to one destination. Alerts a destination rejects (4xx: the cause is in
// the alert or the configuration, retrying cannot help) and lines that are not alerts become dead letters of their
// own on dlq.notifier with the reason; an alert that may pass later (429 beyond the wait cap, 5xx, timeouts,
// network) fails the message, which is redelivered with backoff: its delivered alerts are then skipped.
import { H, splitLines, subjects, type InputMessage, type Logger, type OutputMessage } from '@sluice/runtime';
import type { Alert } from '@sluice/slack';
import type { DeliveryOutcome } from './alertBatcher.ts';
import { keyToken } from './deliveryLedger.ts';
import type { Destination } from './destination.ts';

const dec = new TextDecoder();
const enc = new TextEncoder();

export const STAGE = 'notifier';
/** Header naming the destination that dead-lettered an alert. */
export const DESTINATION_HEADER = 'Sluice-Destination';

export type Outcome = DeliveryOutcome['kind'] | 'invalid';

export async function notifyMessage(msg: InputMessage, dest: Destination, opts: { log: Logger; count?: (outcome: Outcome) => void }): Promise<OutputMessage[]> {
  const dead: OutputMessage[] = [];
  const deadLetter = (line: Uint8Array, id: string, reason: string, outcome: Outcome = 'invalid'): void => {
    opts.count?.(outcome);
    dead.push({
      subject: subjects.dlq(STAGE),
      data: concat(line, enc.encode('\n')),
      records: 1,
      // A natural id: the same alert rejected again (a redelivery) is dropped by JetStream's duplicate window.
      msgId: `dlq:${STAGE}:${dest.name}:${id}`,
      headers: {
        [H.error]: `non_retryable: ${reason}`.slice(0, 1000),
        [H.stage]: STAGE,
        [H.origSubject]: msg.subject,
        [H.origSeq]: String(msg.seq),
        [DESTINATION_HEADER]: dest.name,
      },
    });
  };

  const work: Promise<void>[] = [];
  splitLines(msg.data).forEach((line, i) => {
    let alert: Alert;
    try {
      alert = JSON.parse(dec.decode(line)) as Alert;
    } catch (e) {
      return deadLetter(line, `${msg.seq}-${i}`, `line ${i + 1} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof alert !== 'object' || alert === null || typeof alert.alert_id !== 'string' || alert.alert_id === '') {
      return deadLetter(line, `${msg.seq}-${i}`, `line ${i + 1} has no alert_id`);
    }
    work.push(
      dest.deliver(alert).then((o) => {
        if (o.kind === 'rejected') {
          opts.log.error({ alert_id: alert.alert_id, destination: dest.name, reason: o.reason }, 'alert rejected; dead-lettered');
          deadLetter(line, keyToken(alert.alert_id), `${dest.name} rejected alert ${alert.alert_id}: ${o.reason}`, 'rejected');
          return;
        }
        opts.count?.(o.kind);
        if (o.kind === 'delivered') {
          if (o.uncertain) opts.log.warn({ alert_id: alert.alert_id, destination: dest.name }, 'took over a stale claim: a crashed sender may have delivered this alert already');
          opts.log.info({ alert_id: alert.alert_id, rule: alert.rule, destination: dest.name }, 'alert delivered');
        }
      }),
    );
  });
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  return dead;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
