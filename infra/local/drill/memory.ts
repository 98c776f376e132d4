import { readdirSync, readFileSync } from 'node:fs';

/**
 * Resident memory of this process and all its descendants (DynamoDB Local's JVM, every PostgreSQL backend),
 * from /proc. RSS counts shared pages once per process, so the sum overstates the real footprint: it is an
 * upper bound, which is what a budget needs.
 */
export function treeRssMib(root = process.pid): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return null;
  }
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the parenthesised command name: state, ppid, ...; rss (pages) is field 24.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(e), Number(rest[1]));
      rss.set(Number(e), Number(rest[21]) * 4096);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  const inTree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!inTree.has(pid) && inTree.has(ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const pid of inTree) total += rss.get(pid) ?? 0;
  return Math.round(total / 1024 / 1024);
}

/** Samples the tree's memory until stopped; returns the peak. */
export function watchPeakMemory(everyMs = 500): () => number | null {
  let peak: number | null = null;
  const sample = () => {
    const now = treeRssMib();
    if (now !== null && (peak === null || now > peak)) peak = now;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    sample();
    return peak;
  };
}
