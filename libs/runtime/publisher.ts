// Publishing outputs with deterministic message ids so a redelivered input produces duplicates JetStream drops.
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { toNatsHeaders, type HeaderMap } from './envelope.ts';

export interface OutputMessage {
  subject: string;
  data: Uint8Array;
  headers?: HeaderMap;
  /** Records inside the envelope, for metrics. */
  records: number;
  /** Overrides the derived id when the output has a natural identity (an alert id). */
  msgId?: string;
}

/** `<stage>:<input stream>:<input seq>:<output index>` — identical on every redelivery of the same input. */
export function outputMsgId(stage: string, stream: string, seq: number, index: number): string {
  return `${stage}:${stream}:${seq}:${index}`;
}

export async function publishAll(js: JetStreamClient, outputs: OutputMessage[], ids: string[], timeoutMs = 10_000): Promise<PubAck[]> {
  return Promise.all(
    outputs.map((o, i) =>
      js.publish(o.subject, o.data, { msgID: ids[i], headers: o.headers ? toNatsHeaders(o.headers) : undefined, timeout: timeoutMs }),
    ),
  );
}
