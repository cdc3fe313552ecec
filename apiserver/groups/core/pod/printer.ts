import { humanDuration } from '../../../../lib/duration';
import { AGE, NAME, noneIfEmpty, objectAge } from '../../shared/printers';
import type { ContainerStatus, Pod, PodSpec, PodStatus } from 'kubernetes-types/core/v1';
import type { Printer } from '../../types';

/** The printer columns of Pods (kubectl get pods): READY, STATUS and RESTARTS as Kubernetes computes them. */

function podStatus(pod: Pod, now: Date): { reason: string; ready: number; total: number; restarts: string } {
  const spec: PodSpec = pod.spec ?? { containers: [] };
  const status: PodStatus = pod.status ?? {};
  let restarts = 0;
  let lastRestart = 0;
  const total = (spec.containers ?? []).length;
  let ready = 0;
  let reason: string = status.reason || status.phase || '';
  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }
  const noteRestart = (c: ContainerStatus) => {
    restarts += c.restartCount ?? 0;
    const fin = c.lastState?.terminated?.finishedAt;
    if (fin) lastRestart = Math.max(lastRestart, Date.parse(fin) || 0);
  };
  let initializing = false;
  const inits = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    noteRestart(c);
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (term) reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    else if (wait?.reason && wait.reason !== 'PodInitializing') reason = `Init:${wait.reason}`;
    else reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    initializing = true;
    break;
  }
  const initializedTrue = (status.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = 0;
    lastRestart = 0;
    let hasRunning = false;
    const cs = status.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      noteRestart(c);
      const st = c.state ?? {};
      if (st.waiting?.reason) reason = st.waiting.reason;
      else if (st.terminated?.reason) reason = st.terminated.reason;
      else if (st.terminated) reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode}`;
      else if (c.ready && st.running) { hasRunning = true; ready++; }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && !terminal) reason = 'Terminating';
  const restartsStr = lastRestart ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)` : String(restarts);
  return { reason, ready, total, restarts: restartsStr };
}

export const POD_PRINTER: Printer<Pod> = {
    columns: [NAME, ['Ready', 'string'], ['Status', 'string'], ['Restarts', 'string'], AGE,
      ['IP', 'string', 1], ['Node', 'string', 1], ['Nominated Node', 'string', 1], ['Readiness Gates', 'string', 1]],
    cells(p, now) {
      const s = podStatus(p, now);
      const ip = p.status?.podIPs?.[0]?.ip ?? p.status?.podIP;
      const gates = p.spec?.readinessGates ?? [];
      let gatesStr = '<none>';
      if (gates.length) {
        const trueConds = new Set((p.status?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type));
        gatesStr = `${gates.filter((g) => trueConds.has(g.conditionType)).length}/${gates.length}`;
      }
      return [p.metadata?.name, `${s.ready}/${s.total}`, s.reason, s.restarts, objectAge(p, now), noneIfEmpty(ip), noneIfEmpty(p.spec?.nodeName), noneIfEmpty(p.status?.nominatedNodeName), gatesStr];
    },
};
