// Tests of the server version parsing that gates 2.10+ features: releases, pre-releases and a missing INFO.
import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { atLeast, serverVersion } from './provision.ts';

/** Just enough of a connection for serverVersion: the server's INFO, or none (not connected yet). */
function conn(info?: { version?: string }): NatsConnection {
  return { info } as unknown as NatsConnection;
}

describe('serverVersion', () => {
  it('parses a release version', () => {
    expect(serverVersion(conn({ version: '2.9.10' }))).toEqual({ major: 2, minor: 9, patch: 10 });
    expect(serverVersion(conn({ version: '2.12.1' }))).toEqual({ major: 2, minor: 12, patch: 1 });
  });

  it('ignores a pre-release suffix', () => {
    expect(serverVersion(conn({ version: '2.11.0-RC.1' }))).toEqual({ major: 2, minor: 11, patch: 0 });
    expect(serverVersion(conn({ version: '2.12.0-beta' }))).toEqual({ major: 2, minor: 12, patch: 0 });
  });

  it('fills missing parts with 0', () => {
    expect(serverVersion(conn({ version: '2.10' }))).toEqual({ major: 2, minor: 10, patch: 0 });
  });

  it('reads a missing INFO or version as 0.0.0', () => {
    expect(serverVersion(conn(undefined))).toEqual({ major: 0, minor: 0, patch: 0 });
    expect(serverVersion(conn({}))).toEqual({ major: 0, minor: 0, patch: 0 });
    expect(serverVersion(conn({ version: '' }))).toEqual({ major: 0, minor: 0, patch: 0 });
  });
});

describe('atLeast', () => {
  const v = (s: string) => serverVersion(conn({ version: s }));

  it('compares major and minor', () => {
    expect(atLeast(v('2.9.10'), 2, 9)).toBe(true);
    expect(atLeast(v('2.9.10'), 2, 10)).toBe(false);
    expect(atLeast(v('2.10.0'), 2, 10)).toBe(true);
    expect(atLeast(v('2.12.1'), 2, 10)).toBe(true);
    expect(atLeast(v('2.12.1'), 2, 13)).toBe(false);
    expect(atLeast(v('3.0.0'), 2, 12)).toBe(true);
    expect(atLeast(v('1.99.0'), 2, 0)).toBe(false);
  });

  it('counts a pre-release as its minor version', () => {
    expect(atLeast(v('2.11.0-RC.1'), 2, 11)).toBe(true);
    expect(atLeast(v('2.11.0-RC.1'), 2, 12)).toBe(false);
  });

  it('treats an unknown version as older than anything, so optional features stay off', () => {
    expect(atLeast(serverVersion(conn(undefined)), 2, 9)).toBe(false);
    expect(atLeast(serverVersion(conn(undefined)), 0, 0)).toBe(true);
  });
});
