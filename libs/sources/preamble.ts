// The preamble of line-framed files (Zeek `#fields`, the VPC flow log header): lines a family marks as headers are
// not records; the latest consecutive run of them describes the records that follow, and a new run replaces it.
// Used by the collector (with its state kept in each file's position) and by the conformance report.
import type { SourceFamily } from './sourceFamily.ts';

/** Preamble state at a position in a file: what the next record is decoded with. */
export interface PreambleState {
  /** Non-blank lines before the position (the `index` passed to isPreamble). */
  line: number;
  /** The latest run of preamble lines. */
  lines: string[];
  /** The previous line was a preamble line: another one extends the run instead of starting a new one. */
  inRun: boolean;
}

export const EMPTY_PREAMBLE: PreambleState = { line: 0, lines: [], inRun: false };

/** A preamble larger than this is cut to its last lines that fit (it travels in a header of every envelope). */
export const MAX_PREAMBLE_BYTES = 16 * 1024;

export interface Segment {
  preamble: string[];
  records: Uint8Array[];
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Splits line-framed records into runs that share one preamble, starting from `state`. Without a family that has
 * isPreamble, one segment with every record and the state's preamble (normally empty).
 */
export function segmentByPreamble(records: Uint8Array[], state: PreambleState, family: SourceFamily | undefined): { segments: Segment[]; state: PreambleState } {
  const isPreamble = family?.isPreamble?.bind(family);
  if (!isPreamble) return { segments: records.length ? [{ preamble: state.lines, records }] : [], state: { ...state, line: state.line + records.length } };
  const segments: Segment[] = [];
  let lines = state.lines;
  let inRun = state.inRun;
  let line = state.line;
  let cur: Segment | undefined;
  for (const r of records) {
    const text = decoder.decode(r);
    let header = false;
    try {
      header = isPreamble(text, line);
    } catch {
      header = false;
    }
    line++;
    if (header) {
      lines = capPreamble(inRun ? [...lines, text] : [text]);
      inRun = true;
      cur = undefined;
      continue;
    }
    inRun = false;
    if (!cur) {
      cur = { preamble: lines, records: [] };
      segments.push(cur);
    }
    cur.records.push(r);
  }
  return { segments, state: { line, lines, inRun } };
}

function capPreamble(lines: string[]): string[] {
  let out = lines;
  while (out.length > 1 && preambleHeaderBytes(out) > MAX_PREAMBLE_BYTES) out = out.slice(1);
  return out;
}

/** Length of the `Sluice-Preamble` header value for `lines` (JSON with non-ASCII escaped, as encodePreamble writes it). */
function preambleHeaderBytes(lines: readonly string[]): number {
  return JSON.stringify(lines).replace(/[\u007f-\uffff]/g, '\\uXXXX').length;
}
