import { describe, expect, it } from 'vitest';
import { tableLocation } from './main.ts';

describe('tableLocation', () => {
  it('joins local paths and object-store URLs without mangling the scheme', () => {
    expect(tableLocation('./lake', 'silver', 't')).toBe('lake/silver/t');
    expect(tableLocation('s3://bucket/lake/', 'silver', 't')).toBe('s3://bucket/lake/silver/t');
    expect(tableLocation('az://container', 'gold', 'alerts')).toBe('az://container/gold/alerts');
  });
});
