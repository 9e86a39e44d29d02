// CPU seconds and peak RSS of processes read from /proc (Linux): utime+stime of /proc/<pid>/stat and VmHWM of
// /proc/<pid>/status. The whole-pipeline engine reads them for every service process and nats-server.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticks: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat times (CLK_TCK; 100 on every common Linux). */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime (+ cutime + cstime of reaped children) of a live process, in seconds; undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: fields after the last ')' are positional (state is field 3).
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / clockTicks();
}

/** Peak resident set size (VmHWM) in bytes; 0 when unreadable. */
export function peakRssOf(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface ProcSample {
  name: string;
  pid: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

export function sample(procs: { name: string; pid: number }[]): ProcSample[] {
  return procs.map((p) => ({ ...p, cpuSeconds: cpuSecondsOf(p.pid) ?? Number.NaN, peakRssBytes: peakRssOf(p.pid) }));
}

/** Load averages (1, 5, 15 min) as `uptime` prints them. */
export function loadAverage(): [number, number, number] {
  const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [a ?? 0, b ?? 0, c ?? 0];
}
