import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStore } from './localStore.ts';
import { objectStoreContract } from './objectStore.contract.ts';
import { openStore } from './objectStore.ts';

const base = mkdtempSync(join(tmpdir(), 'sluice-localstore-'));
let n = 0;
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('LocalStore (file://)', () => {
  objectStoreContract(() => openStore(pathToFileURL(join(base, `t${n++}`, 'with space')).href));

  it('opens plain paths and file:// URLs alike', async () => {
    const dir = join(base, 'plain');
    const a = openStore(dir);
    const b = openStore(pathToFileURL(dir).href);
    expect(a).toBeInstanceOf(LocalStore);
    expect(a.url).toBe(b.url);
    await a.put('x/y.json', new Uint8Array([1]));
    expect(await b.get('x/y.json')).toEqual(new Uint8Array([1]));
  });

  it('leaves no temp files behind after putIfAbsent and put', async () => {
    const dir = join(base, 'temps');
    const s = openStore(dir);
    await Promise.all(Array.from({ length: 8 }, (_, i) => s.putIfAbsent('_delta_log/0.json', new Uint8Array([i]))));
    await s.put('_delta_log/_last_checkpoint', new Uint8Array([1]));
    expect(readdirSync(join(dir, '_delta_log')).sort()).toEqual(['0.json', '_last_checkpoint']);
  });
});
