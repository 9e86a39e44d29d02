// The conformance suite every ObjectStore passes: call objectStoreContract() inside a describe() with a factory
// that returns a store on a fresh, empty root each call.
import { expect, it } from 'vitest';
import type { ObjectStore } from './objectStore.ts';
import { compareKeys } from './storeUtil.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

async function putAll(store: ObjectStore, keys: readonly string[], concurrency = 32): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, keys.length) }, async () => {
      while (next < keys.length) {
        const k = keys[next++]!;
        await store.put(k, enc(`v:${k}`));
      }
    }),
  );
}

export interface ContractOptions {
  /** Keys for the paging test; make it more than the store's list page size (S3: 1000). Default 1100. */
  manyKeys?: number;
}

export function objectStoreContract(newStore: () => ObjectStore | Promise<ObjectStore>, opts: ContractOptions = {}): void {
  it('absent keys: get and head give null, delete is fine', async () => {
    const s = await newStore();
    expect(await s.get('nope.json')).toBeNull();
    expect(await s.head('dir/nope.json')).toBeNull();
    await s.delete('nope.json');
    await s.delete('dir/nope.json');
    expect(await s.list('')).toEqual([]);
  });

  it('put / get / head / overwrite / delete', async () => {
    const s = await newStore();
    const bytes = new Uint8Array([0, 1, 2, 255, 254, 0, 10, 13]);
    const before = Date.now();
    await s.put('data/part-0.parquet', bytes);
    expect(await s.get('data/part-0.parquet')).toEqual(bytes);
    const h = await s.head('data/part-0.parquet');
    expect(h?.size).toBe(bytes.byteLength);
    expect(h?.lastModified).toBeInstanceOf(Date);
    // Servers store seconds or milliseconds; allow clock granularity and a little skew.
    expect(Math.abs(h!.lastModified.getTime() - before)).toBeLessThan(120_000);

    await s.put('data/part-0.parquet', enc('second version, longer'));
    expect(dec(await s.get('data/part-0.parquet'))).toBe('second version, longer');
    expect((await s.head('data/part-0.parquet'))?.size).toBe(22);

    await s.put('empty', new Uint8Array(0));
    expect(await s.get('empty')).toEqual(new Uint8Array(0));
    expect((await s.head('empty'))?.size).toBe(0);

    await s.delete('data/part-0.parquet');
    expect(await s.get('data/part-0.parquet')).toBeNull();
    expect(await s.head('data/part-0.parquet')).toBeNull();
    expect((await s.list('')).map((o) => o.key)).toEqual(['empty']);
  });

  it('putIfAbsent: true once, false while the key exists, true again after delete', async () => {
    const s = await newStore();
    const key = '_delta_log/00000000000000000000.json';
    expect(await s.putIfAbsent(key, enc('first'))).toBe(true);
    expect(await s.putIfAbsent(key, enc('second'))).toBe(false);
    expect(dec(await s.get(key))).toBe('first');
    // put() may overwrite (e.g. _last_checkpoint); putIfAbsent still refuses afterwards.
    await s.put(key, enc('overwritten'));
    expect(await s.putIfAbsent(key, enc('third'))).toBe(false);
    expect(dec(await s.get(key))).toBe('overwritten');
    await s.delete(key);
    expect(await s.putIfAbsent(key, enc('fourth'))).toBe(true);
    expect(dec(await s.get(key))).toBe('fourth');
  });

  it('putIfAbsent race: of 8 concurrent writers exactly one wins, and its bytes are stored', async () => {
    const s = await newStore();
    for (let round = 0; round < 3; round++) {
      const key = `_delta_log/${String(round).padStart(20, '0')}.json`;
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.putIfAbsent(key, enc(`writer ${i}`))));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(dec(await s.get(key))).toBe(`writer ${winner}`);
    }
    // No temp or stray objects are visible.
    expect((await s.list('')).map((o) => o.key)).toEqual([0, 1, 2].map((r) => `_delta_log/${String(r).padStart(20, '0')}.json`));
  });

  it('list: recursive, sorted, string prefixes, startAfter', async () => {
    const s = await newStore();
    const keys = [
      '_delta_log/00000000000000000002.json',
      '_delta_log/00000000000000000000.json',
      '_delta_log/00000000000000000001.json',
      '_delta_log/00000000000000000001.checkpoint.parquet',
      '_delta_log/_last_checkpoint',
      'a/b/c.txt',
      'a/bc.txt',
      'a/b.txt',
      'ab.txt',
      'z.txt',
    ];
    await putAll(s, keys);
    const all = await s.list('');
    expect(all.map((o) => o.key)).toEqual([...keys].sort(compareKeys));
    for (const o of all) {
      expect(o.size).toBe(enc(`v:${o.key}`).byteLength);
      expect(o.lastModified).toBeInstanceOf(Date);
    }
    expect((await s.list('a/')).map((o) => o.key)).toEqual(['a/b.txt', 'a/b/c.txt', 'a/bc.txt']);
    // A prefix is a string prefix, not only a folder.
    expect((await s.list('a/b')).map((o) => o.key)).toEqual(['a/b.txt', 'a/b/c.txt', 'a/bc.txt']);
    expect((await s.list('a/b/')).map((o) => o.key)).toEqual(['a/b/c.txt']);
    expect((await s.list('a')).map((o) => o.key)).toEqual(['a/b.txt', 'a/b/c.txt', 'a/bc.txt', 'ab.txt']);
    expect((await s.list('_delta_log/0000')).map((o) => o.key)).toHaveLength(4);
    expect((await s.list('missing/')).map((o) => o.key)).toEqual([]);
    expect((await s.list('a/b/c.txt')).map((o) => o.key)).toEqual(['a/b/c.txt']);

    // startAfter: strictly greater; need not exist.
    expect((await s.list('_delta_log/', { startAfter: '_delta_log/00000000000000000001.json' })).map((o) => o.key)).toEqual([
      '_delta_log/00000000000000000002.json',
      '_delta_log/_last_checkpoint',
    ]);
    expect((await s.list('_delta_log/', { startAfter: '_delta_log/00000000000000000000.zzz' })).map((o) => o.key)).toEqual([
      '_delta_log/00000000000000000001.checkpoint.parquet',
      '_delta_log/00000000000000000001.json',
      '_delta_log/00000000000000000002.json',
      '_delta_log/_last_checkpoint',
    ]);
    expect((await s.list('', { startAfter: 'ab.txt' })).map((o) => o.key)).toEqual(['z.txt']);
    expect((await s.list('a/', { startAfter: '' })).map((o) => o.key)).toHaveLength(3);
  });

  it('keys with spaces, %, =, unicode (Hive partition paths) round-trip and list exactly', async () => {
    const s = await newStore();
    const keys = [
      'eventDate=2024-01-01/part-0.parquet',
      'eventDate=__HIVE_DEFAULT_PARTITION__/part-1.parquet',
      'source=a%20b/part-0.parquet',
      'a%20b',
      'a b',
      'pct/100%.txt',
      'pct/%2F%25.txt',
      'with space/x y.json',
      'unicodé/日本語/ü.txt',
      'emoji/😀.bin',
      'plus+and&amp;?q#frag.txt',
      'tilde~/semi;colon,comma.txt',
    ];
    for (const k of keys) await s.put(k, enc(`v:${k}`));
    for (const k of keys) {
      expect(dec(await s.get(k)), k).toBe(`v:${k}`);
      expect((await s.head(k))?.size, k).toBe(enc(`v:${k}`).byteLength);
    }
    expect((await s.list('')).map((o) => o.key)).toEqual([...keys].sort(compareKeys));
    expect((await s.list('eventDate=')).map((o) => o.key)).toEqual(['eventDate=2024-01-01/part-0.parquet', 'eventDate=__HIVE_DEFAULT_PARTITION__/part-1.parquet']);
    expect((await s.list('a%20')).map((o) => o.key)).toEqual(['a%20b']);
    // '%20' is literal: 'a%20b' and 'a b' are different keys.
    expect(await s.putIfAbsent('a%20b', enc('x'))).toBe(false);
    expect(await s.putIfAbsent('source=a b/part-0.parquet', enc('x'))).toBe(true);
    await s.delete('a b');
    expect(dec(await s.get('a%20b'))).toBe('v:a%20b');
  });

  it('list order is UTF-8 byte order (S3 order), not UTF-16', async () => {
    const s = await newStore();
    const keys = ['k/z', 'k/é', 'k/😀', 'k/\uFF5E', 'k/Z', 'k/_'];
    await putAll(s, keys);
    const listed = (await s.list('k/')).map((o) => o.key);
    expect(listed).toEqual(['k/Z', 'k/_', 'k/z', 'k/é', 'k/\uFF5E', 'k/😀']);
  });

  it('rejects malformed keys', async () => {
    const s = await newStore();
    for (const bad of ['', '/abs', 'a//b', '../up', 'a/./b', 'trailing/']) {
      await expect(s.put(bad, enc('x')), JSON.stringify(bad)).rejects.toThrow(/invalid object key/);
    }
  });

  const n = opts.manyKeys ?? 1100;
  it(`lists ${n} keys across pages`, async () => {
    const s = await newStore();
    const keys = Array.from({ length: n }, (_, i) => `many/part-${String(i).padStart(5, '0')}.parquet`);
    await putAll(s, keys);
    const listed = await s.list('many/');
    expect(listed.map((o) => o.key)).toEqual(keys);
    const cut = Math.floor(n * 0.9);
    const after = await s.list('many/', { startAfter: keys[cut] });
    expect(after.map((o) => o.key)).toEqual(keys.slice(cut + 1));
  }, 120_000);
}
