// CPU time (utime + stime) of process trees from /proc (Linux), so the centre bench can say what a record costs the
// server processes and PostgreSQL. On a shared machine records/s follows the other sessions' load; CPU per record
// does not (much).
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, ms */
  cpuMs: number;
  /** cutime + cstime: CPU of waited-for children that have exited, ms */
  childrenMs: number;
}

/** Clock ticks per second (USER_HZ): 100 on every Linux that ships today. */
const TICK_MS = 10;

function stat(pid: number): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const f = s.slice(close + 2).split(' '); // fields from 3 (state) on
    return { pid, ppid: Number(f[1]), comm: s.slice(s.indexOf('(') + 1, close), cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS, childrenMs: (Number(f[13]) + Number(f[14])) * TICK_MS };
  } catch {
    return undefined; // exited meanwhile
  }
}

function all(): ProcStat[] {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return [];
  }
  return pids.map(stat).filter((s): s is ProcStat => s !== undefined);
}

/** CPU ms of a process and all its descendants (live ones, plus the exited children they reaped). */
export function treeCpuMs(root: number): number | null {
  const procs = all();
  if (procs.length === 0) return null;
  const kids = new Map<number, ProcStat[]>();
  for (const p of procs) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p]);
  const top = procs.find((p) => p.pid === root);
  if (!top) return null;
  let ms = 0;
  for (const todo = [top]; todo.length > 0; ) {
    const p = todo.pop()!;
    ms += p.cpuMs + p.childrenMs;
    todo.push(...(kids.get(p.pid) ?? []));
  }
  return ms;
}

/**
 * CPU ms of every PostgreSQL server process on this machine (the postmaster's tree: backends, and through the
 * postmaster's cutime the backends that have exited). Other sessions' queries count too: a figure for a quiet
 * database server, an upper bound on a shared one.
 */
export function postgresCpuMs(): number | null {
  const procs = all();
  const postmasters = procs.filter((p) => p.comm === 'postgres' && procs.find((q) => q.pid === p.ppid)?.comm !== 'postgres');
  if (postmasters.length === 0) return null;
  return postmasters.reduce((n, p) => n + (treeCpuMs(p.pid) ?? 0), 0);
}
