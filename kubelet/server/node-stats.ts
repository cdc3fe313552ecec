import { readFile } from 'node:fs/promises';

/**
 * The node's own usage for the Stats RPC, read from the host's /proc (what cAdvisor's root
 * cgroup reports for a kubelet's node): CPU is the non-idle time of every core since boot;
 * memory's working set is what the kernel could not drop at once, MemTotal − MemFree −
 * Inactive(file) (cAdvisor: usage − inactive file). Parsing is pure; `readNodeStats` does the IO.
 */

/** Clock ticks per second of /proc/stat (USER_HZ, 100 on every Linux ABI Node runs on). */
const USER_HZ = 100;

export interface NodeUsage {
  cpu: { usage_core_nano_seconds: number; usage_nano_cores: number };
  memory: { usage_bytes: number; working_set_bytes: number; limit_bytes: number };
}

/** Non-idle CPU time in nanoseconds from the `cpu ` line of /proc/stat (user nice system irq softirq steal; not idle, iowait, guest). */
export function cpuNanosFromProcStat(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  const [user, nice, system, , , irq = 0, softirq = 0, steal = 0] = f;
  return Math.round(((user + nice + system + irq + softirq + steal) * 1e9) / USER_HZ);
}

/** Memory figures from /proc/meminfo (kB lines), in bytes. */
export function memoryFromMeminfo(text: string): NodeUsage['memory'] | undefined {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1], Number(m[2]) * 1024);
  }
  const total = kb.get('MemTotal');
  const free = kb.get('MemFree');
  if (total === undefined || free === undefined) return undefined;
  const usage = Math.max(0, total - free);
  return { usage_bytes: usage, working_set_bytes: Math.max(0, usage - (kb.get('Inactive(file)') ?? 0)), limit_bytes: total };
}

/** The host's usage now; undefined when /proc cannot be read or parsed. */
export async function readNodeStats(proc = '/proc'): Promise<(NodeUsage & { time: string }) | undefined> {
  const [stat, meminfo] = await Promise.all([readFile(`${proc}/stat`, 'utf8').catch(() => ''), readFile(`${proc}/meminfo`, 'utf8').catch(() => '')]);
  const time = new Date().toISOString();
  const cpu = cpuNanosFromProcStat(stat);
  const memory = memoryFromMeminfo(meminfo);
  if (cpu === undefined || !memory) return undefined;
  return { time, cpu: { usage_core_nano_seconds: cpu, usage_nano_cores: 0 }, memory };
}
