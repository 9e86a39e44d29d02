// Named crash points for fault tests: with SLUICE_FAULT=<point>[:<n>] the process kills itself (SIGKILL, no
// clean-up, like a power cut) the n-th time (default 1st) it reaches that point. Without the variable: a no-op.
const spec = process.env.SLUICE_FAULT ?? '';
const [target, nth] = spec.split(':');
const limit = Number(nth ?? 1) || 1;
let hits = 0;

export function faultPoint(name: string): void {
  if (!target || name !== target) return;
  hits++;
  if (hits >= limit) {
    process.stderr.write(`SLUICE_FAULT: killing at ${name} (hit ${hits})\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
