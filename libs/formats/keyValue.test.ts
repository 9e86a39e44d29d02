// Tests of the Cisco ISE key=value body parser: separators, escapes, `=` in values, repeated keys, leading text.
import { describe, expect, it } from 'vitest';
import { firstValue, parseKeyValues, splitEscaped } from './keyValue.ts';

describe('splitEscaped', () => {
  it('splits at unescaped commas and unescapes \\, and \\\\ only', () => {
    expect(splitEscaped('a\\,b,c\\\\,d\\;e')).toEqual(['a,b', 'c\\', 'd\\;e']);
    expect(splitEscaped('')).toEqual(['']);
    expect(splitEscaped('x\\')).toEqual(['x\\']);
  });
});

describe('parseKeyValues', () => {
  it('reads the ISE body: leading text, spaces in keys and values, = in values, escaped commas, empty values', () => {
    const r = parseKeyValues(
      'Profiler: Profiler EndPoint profiling event occurred, ConfigVersionId=113, Device Type=Device Type#All Device Types, EndpointOUI=Wistron Co.\\,Ltd., EndpointProperty=StaticAssignment=false\\,PostureApplicable=Yes, PortalUser=, ',
    );
    expect(r.text).toBe('Profiler: Profiler EndPoint profiling event occurred');
    expect(r.values).toEqual({
      ConfigVersionId: '113',
      'Device Type': 'Device Type#All Device Types',
      EndpointOUI: 'Wistron Co.,Ltd.',
      EndpointProperty: 'StaticAssignment=false,PostureApplicable=Yes',
      PortalUser: '',
    });
    expect(r.pairs.map(([k]) => k)).toEqual(['ConfigVersionId', 'Device Type', 'EndpointOUI', 'EndpointProperty', 'PortalUser']);
    // The nested list parses the same way.
    expect(parseKeyValues(r.values.EndpointProperty as string).values).toEqual({ StaticAssignment: 'false', PostureApplicable: 'Yes' });
  });

  it('collects repeated keys to arrays in order', () => {
    const r = parseKeyValues('cisco-av-pair=audit-session-id=0a01, UserName=bob, cisco-av-pair=posture-token=Healthy, cisco-av-pair=x=1');
    expect(r.values['cisco-av-pair']).toEqual(['audit-session-id=0a01', 'posture-token=Healthy', 'x=1']);
    expect(firstValue(r.values, 'cisco-av-pair')).toBe('audit-session-id=0a01');
    expect(firstValue(r.values, 'UserName')).toBe('bob');
    expect(firstValue(r.values, 'missing')).toBeUndefined();
  });

  it('appends a segment without = after a pair to that value (an unescaped comma)', () => {
    expect(parseKeyValues('A=1, B=Smith, John, C=3').values).toEqual({ A: '1', B: 'Smith, John', C: '3' });
  });

  it('keeps __proto__ and constructor as data keys', () => {
    const r = parseKeyValues('__proto__=x, constructor=y');
    expect(Object.getPrototypeOf(r.values)).toBe(Object.prototype);
    expect(Object.keys(r.values)).toEqual(['__proto__', 'constructor']);
    expect(firstValue(r.values, '__proto__')).toBe('x');
  });

  it('handles empty and text-only bodies', () => {
    expect(parseKeyValues('')).toEqual({ values: {}, pairs: [], text: '' });
    expect(parseKeyValues(' , ,').values).toEqual({});
    expect(parseKeyValues('just text, more text').text).toBe('just text, more text');
  });
});
