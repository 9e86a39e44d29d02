// Which consumers a parser process opens for its configured sources, and config errors that name the key.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@sluice/runtime';
import { families } from '@sluice/sources';
import { inputsOf } from './main.ts';

const counter = { inc: () => undefined };

describe('parser inputs', () => {
  it('opens one durable consumer per category of the family, or of the chosen categories', () => {
    const zeek = inputsOf({ source: 'zeek-dc1', family: 'zeek' }, 'parser', counter);
    expect(zeek.map((i) => [i.durable, i.filterSubject])).toEqual(Object.keys(families.zeek!.tables).map((c) => [`parser-zeek-dc1-${c}`, `cat.zeek-dc1.${c}`]));
    expect(inputsOf({ source: 'dhcp' }, 'parser', counter).map((i) => i.filterSubject)).toEqual(['cat.dhcp.lease']);
    expect(inputsOf({ source: 'cs', family: 'crowdstrike', categories: ['network_listen'] }, 'parser', counter).map((i) => i.durable)).toEqual(['parser-cs-network_listen']);
  });

  it('names the key of an unknown family or category', () => {
    expect(() => inputsOf({ source: 'x' }, 'parser.sources[1]', counter)).toThrow(ConfigError);
    expect(() => inputsOf({ source: 'x' }, 'parser.sources[1]', counter)).toThrow(/^parser\.sources\[1\]\.family: unknown family "x"; known: defender, /);
    expect(() => inputsOf({ source: 'z', family: 'zeek', categories: ['conn', 'smb'] }, 'parser', counter)).toThrow(/^parser\.categories\[1\]: unknown category "smb" of family zeek/);
  });
});
