import type { ContainerStats } from '../runtime';

/**
 * Docker's one-shot stats JSON (`GET /containers/{id}/stats?stream=false`) as the
 * runtime's `ContainerStats`. Read defensively: fields differ between cgroup v1 and v2.
 */

/** The parts of a Docker stats sample read here. */
export interface DockerStatsSample {
  read?: string;
  preread?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  precpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; limit?: number; stats?: { inactive_file?: number; total_inactive_file?: number } };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number; rx_errors?: number; tx_errors?: number }>;
}

export function dockerContainerStats(s: DockerStatsSample): ContainerStats {
  const t = Date.parse(s.read ?? '');
  return { cpu: containerCpu(s), memory: containerMemory(s), network: containerNetwork(s), ...(Number.isFinite(t) && t > 0 ? { time: new Date(t).toISOString() } : {}) };
}

/** CPU of one Docker stats sample: cumulative time and the rate between its two readings. */
export function containerCpu(s: DockerStatsSample): ContainerStats['cpu'] {
  const total = Number(s.cpu_stats?.cpu_usage?.total_usage ?? 0);
  const preTotal = Number(s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const t = Date.parse(s.read ?? '');
  const preT = Date.parse(s.preread ?? '');
  let rate = 0;
  if (Number.isFinite(t) && Number.isFinite(preT) && t > preT && preTotal > 0) rate = Math.max(0, Math.round(((total - preTotal) / ((t - preT) * 1e6)) * 1e9));
  return { usage_core_nano_seconds: total, usage_nano_cores: rate };
}

/** Memory of one Docker stats sample; working set = usage minus inactive file pages (as cAdvisor). */
export function containerMemory(s: DockerStatsSample): ContainerStats['memory'] {
  const usage = Number(s.memory_stats?.usage ?? 0);
  const st = s.memory_stats?.stats ?? {};
  const inactive = Number(st.inactive_file ?? st.total_inactive_file ?? 0);
  return { usage_bytes: usage, working_set_bytes: Math.max(0, usage - inactive), limit_bytes: Number(s.memory_stats?.limit ?? 0) };
}

/** The network counters Docker keeps (its own interfaces only). */
export function containerNetwork(s: DockerStatsSample): ContainerStats['network'] {
  const out = { rx_bytes: 0, tx_bytes: 0, rx_errors: 0, tx_errors: 0 };
  for (const n of Object.values(s.networks ?? {})) {
    out.rx_bytes += Number(n.rx_bytes ?? 0);
    out.tx_bytes += Number(n.tx_bytes ?? 0);
    out.rx_errors += Number(n.rx_errors ?? 0);
    out.tx_errors += Number(n.tx_errors ?? 0);
  }
  return out;
}
