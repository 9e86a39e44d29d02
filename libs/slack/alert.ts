// The alert record the detector emits and the notifier delivers.
// Shared shape only: no behaviour lives here.

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface EvidenceRef {
  table: string;
  source: string;
  object: string;
  raw_seq: number | null;
}

export interface Alert {
  alert_id: string;
  rule: string;
  severity: Severity;
  title: string;
  entity: string;
  /** ISO-8601 time of the triggering event. */
  event_time: string;
  /** ISO-8601 time the detector raised the alert. */
  created_time: string;
  detail: Record<string, string | number | boolean | null>;
  evidence: EvidenceRef[];
  next_query?: string;
}
