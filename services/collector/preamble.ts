// Source families on the collector side: which family a source's records belong to, and the preamble of
// line-framed files (Zeek `#fields`, the VPC flow log header). Preamble lines are not records: the latest
// consecutive run of them travels with every later envelope of the file, and a batch never mixes records read
// under two different preambles. The state is part of a file's position, so a restart midway keeps it.
import { familyFor, type SourceFamily } from '@sluice/sources';
import { ConfigError } from '@sluice/runtime';

export { EMPTY_PREAMBLE, MAX_PREAMBLE_BYTES, segmentByPreamble, type PreambleState, type Segment } from '@sluice/sources';

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
