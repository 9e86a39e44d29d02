"""CPU seconds and peak RSS of this process and every descendant (the JVM pyspark starts), read from /proc.

Shared by the Python engines of test/bench/compare: utime+stime (+ cutime+cstime of reaped children) over the
process tree, and the largest VmHWM of any process in it.
"""
import os

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        s = f.read()
    # comm may contain spaces and parentheses: the fields after the last ')' are fixed.
    rest = s[s.rindex(")") + 2:].split()
    ppid = int(rest[1])
    cpu = sum(int(x) for x in rest[11:15]) / TICKS  # utime stime cutime cstime
    return ppid, cpu


def _hwm(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_usage(root=None):
    """{"cpuSeconds", "peakRssBytes", "processes"} of root (default: this process) and its descendants."""
    root = root or os.getpid()
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stats[int(name)] = _stat(int(name))
            except (OSError, ValueError):
                pass
    children = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            tree.append(pid)
            todo.extend(children.get(pid, []))
    return {
        "cpuSeconds": round(sum(stats[p][1] for p in tree), 2),
        "peakRssBytes": max((_hwm(p) for p in tree), default=0),
        "processes": len(tree),
    }
