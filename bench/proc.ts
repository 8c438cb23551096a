import { readFileSync } from "node:fs";

/**
 * Reading a process's cost from /proc (Linux): CPU time (utime + stime, in ms) and resident memory.
 * For a cluster, `tree` adds the descendants (workers) of the primary.
 */
const TICK_MS = 10; // CLK_TCK is 100 on Linux

/** CPU time in ms; `kernel` only: stime (system calls: socket writes and the loopback TCP path). */
export function cpuMs(pid: number, kernel = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime field 15
    return ((kernel ? 0 : Number(fields[11])) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Proportional set size (`Pss` of /proc/<pid>/smaps_rollup): a shared page counts 1/n in each of n. */
export function pssBytes(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** The pid and every descendant's pid. */
export function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const children = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, "utf8").trim();
      if (children !== "") for (const child of children.split(" ")) out.push(Number(child));
    } catch {
      // the process is gone
    }
  }
  return out;
}

export function treeCpuMs(pid: number, kernel = false): number {
  return tree(pid).reduce((sum, p) => sum + cpuMs(p, kernel), 0);
}

export function treeRss(pid: number): number {
  return tree(pid).reduce((sum, p) => sum + rssBytes(p), 0);
}

export function treePss(pid: number): number {
  return tree(pid).reduce((sum, p) => sum + pssBytes(p), 0);
}

/** A counter of /proc/<pid>/io (e.g. `syscw`: write-family system calls, every thread). */
export function ioField(pid: number, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** Context switches of the process's main thread (`nonvoluntary`: preempted while it could run). */
export function switches(pid: number, kind: "voluntary" | "nonvoluntary"): number {
  try {
    const match = new RegExp(`^${kind}_ctxt_switches:\\s+(\\d+)`, "m").exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

export function treeWrites(pid: number): number {
  return tree(pid).reduce((sum, p) => sum + ioField(p, "syscw"), 0);
}

export function treeSwitches(pid: number, kind: "voluntary" | "nonvoluntary"): number {
  return tree(pid).reduce((sum, p) => sum + switches(p, kind), 0);
}
