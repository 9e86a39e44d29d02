// Source families on the collector side: which family a source's records belong to, and the preamble of
// line-framed files (Zeek `#fields`, the VPC flow log header). Preamble lines are not records: the latest
// consecutive run of them travels with every later envelope of the file, and a batch never mixes records read
// under two different preambles. The state is part of a file's position, so a restart midway keeps it.
import { familyFor, type SourceFamily } from '@sluice/sources';
import { ConfigError, encodePreamble } from '@sluice/runtime';

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
  while (out.length > 1 && encodePreamble(out).length > MAX_PREAMBLE_BYTES) out = out.slice(1);
  return out;
}

/**
 * The family of a configured source: `family` when given (it must exist), else the source name when it names a
 * known family, else none. `key` names the config key in the error.
 */
export function resolveFamily(source: string, family: string | undefined, key: string): SourceFamily | undefined {
  if (family === undefined) return familyFor(source);
  const f = familyFor(family);
  if (!f) throw new ConfigError(`${key}: unknown source family "${family}"`);
  return f;
}
