// Partition directory escaping, add.path URI encoding/decoding and partition value (de)serialization,
// checked against the paths Spark wrote in the golden tables.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommitText } from './actions.ts';
import {
  encodePathAsUri,
  escapePathName,
  formatTimestampPartition,
  parsePartitionValue,
  parseTimestamp,
  partitionDir,
  resolveLogPath,
  serializePartitionValue,
  unescapePathName,
} from './partitionPath.ts';
import { GOLDEN, itRef } from './testSupport.ts';

describe('partition directory escaping', () => {
  it.each([
    ['a b', 'a%20b', 'a%2520b'],
    ['a/b', 'a%2Fb', 'a%252Fb'],
    ['100%', '100%25', '100%2525'],
    ['é', 'é', '%C3%A9'],
    ['x=y:z', 'x%3Dy%3Az', 'x%253Dy%253Az'],
    ['#?*"\'\\', '%23%3F%2A%22%27%5C', '%2523%253F%252A%2522%2527%255C'],
    ['{[^]}', '%7B%5B%5E%5D}', '%257B%255B%255E%255D%7D'],
    ['tab\there', 'tab%09here', 'tab%2509here'],
    ['plain-1.2_3', 'plain-1.2_3', 'plain-1.2_3'],
    ['a+b', 'a+b', 'a+b'],
  ])('%j → directory %s, add.path %s', (value, dir, uri) => {
    expect(escapePathName(value)).toBe(dir);
    expect(encodePathAsUri(escapePathName(value))).toBe(uri);
    expect(unescapePathName(dir)).toBe(value);
    // A reader decoding add.path gets back the directory on disk.
    expect(resolveLogPath('/t', `p=${uri}/f.parquet`)).toBe(`/t/p=${dir}/f.parquet`);
  });

  it('uses __HIVE_DEFAULT_PARTITION__ for null and empty values and escapes column names too', () => {
    expect(partitionDir(['a', 'b', 'c'], { a: null, b: '', c: 'v' })).toBe('a=__HIVE_DEFAULT_PARTITION__/b=__HIVE_DEFAULT_PARTITION__/c=v');
    expect(partitionDir(['my col'], { 'my col': 'x' })).toBe('my%20col=x');
    expect(partitionDir([], {})).toBe('');
  });

  it('decodes add.path forms other writers produce', () => {
    expect(resolveLogPath('/t', 'file:/abs/with%20space/f')).toBe('/abs/with space/f');
    expect(resolveLogPath('/t', 'file:///abs/f')).toBe('/abs/f');
    expect(resolveLogPath('/t', '/abs/x%23y')).toBe('/abs/x#y');
    expect(resolveLogPath('/t', 'p=é/f')).toBe('/t/p=é/f'); // Spark leaves non-ASCII raw
    expect(resolveLogPath('/t', 'bad%zz')).toBe('/t/bad%zz'); // not percent-encoding: taken literally
  });

  itRef("resolves every add.path in Spark's escaped-partition reference tables to an existing file", async () => {
    for (const table of ['data-reader-partition-values', 'data-reader-escaped-chars', 'kernel-timestamp-TIMESTAMP_MICROS']) {
      const root = join(GOLDEN, table);
      const text = await readFile(join(root, '_delta_log/00000000000000000000.json'), 'utf8');
      const adds = parseCommitText(text, table).flatMap((a) => ('add' in a ? [a.add] : []));
      expect(adds.length).toBeGreaterThan(0);
      for (const a of adds) expect([a.path, existsSync(resolveLogPath(root, a.path))]).toEqual([a.path, true]);
    }
  });
});

describe('partition value serialization', () => {
  it('serializes each type as the protocol says', () => {
    expect(serializePartitionValue('string', 'x')).toBe('x');
    expect(serializePartitionValue('string', '')).toBeNull();
    expect(serializePartitionValue('string', null)).toBeNull();
    expect(serializePartitionValue('long', 9_007_199_254_740_993n)).toBe('9007199254740993');
    expect(serializePartitionValue('integer', -7)).toBe('-7');
    expect(serializePartitionValue('double', 1)).toBe('1.0');
    expect(serializePartitionValue('double', 0.5)).toBe('0.5');
    expect(serializePartitionValue('boolean', false)).toBe('false');
    expect(serializePartitionValue('date', 19_723)).toBe('2024-01-01');
    expect(serializePartitionValue('date', -1)).toBe('1969-12-31');
    expect(serializePartitionValue('timestamp', 1_704_067_200_123_456n)).toBe('2024-01-01 00:00:00.123456');
    expect(formatTimestampPartition(-1n)).toBe('1969-12-31 23:59:59.999999');
  });

  it('parses the partition-value forms Spark and kernel write, with µs precision', () => {
    expect(parseTimestamp('2024-01-01 00:00:00.123456')).toBe(1_704_067_200_123_456n);
    expect(parseTimestamp('2020-01-01 08:09:10.001')).toBe(1_577_866_150_001_000n);
    expect(parseTimestamp('1969-01-01 00:00:00')).toBe(-31_536_000_000_000n);
    expect(parseTimestamp('2024-01-01T10:00:00.000000Z')).toBe(1_704_103_200_000_000n);
    expect(parseTimestamp('2024-01-01T12:00:00+02:00')).toBe(1_704_103_200_000_000n);
    expect(parsePartitionValue('date', '2021-09-08')).toBe(18_878);
    expect(parsePartitionValue('long', '9007199254740993')).toBe(9_007_199_254_740_993n);
    expect(parsePartitionValue('double', '1.0')).toBe(1);
    expect(parsePartitionValue('boolean', 'true')).toBe(true);
    expect(parsePartitionValue('string', '')).toBeNull();
    expect(parsePartitionValue('integer', null)).toBeNull();
  });

  it('round-trips timestamps through serialize/parse', () => {
    for (const us of [0n, 1n, -1n, 1_704_067_200_123_456n, -62_135_596_800_000_000n /* 0001-01-01 */]) {
      expect(parseTimestamp(serializePartitionValue('timestamp', us)!)).toBe(us);
    }
  });
});
