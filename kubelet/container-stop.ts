import type { Pod } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import { podRef } from './container-spec';
import { runLifecycleHook } from './lifecycle-hook';
import { SANDBOX_CONTAINER_NAME, type ContainerRuntime, type RuntimeContainer } from './runtime';

/** Seconds a sandbox (pause) container gets between SIGTERM and SIGKILL. */
export const SANDBOX_STOP_SECONDS = 2;

export interface ContainerStopperDeps {
  runtime: ContainerRuntime;
  log: Logger;
  /** Records a pod event (Killing, FailedPreStopHook). Never throws. */
  event: (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string) => void;
}

/** The stop and remove paths: one container (preStop, SIGTERM, SIGKILL), a pod's containers, then its sandbox. */
export class ContainerStopper {
  constructor(private readonly deps: ContainerStopperDeps) {}

  /**
   * Stops one container: its preStop hook first (within the grace period), then
   * SIGTERM, then SIGKILL after what remains of the grace period (at least 2 s,
   * as kubelet gives). `pod` carries the status last computed: a preStop
   * httpGet goes to its pod IP.
   */
  async killContainer(pod: Pod, c: RuntimeContainer, grace: number, message: string): Promise<void> {
    if (c.state !== 'running') return;
    const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === c.containerName);
    this.deps.event(pod, 'Normal', 'Killing', message);
    const t0 = Date.now();
    if (spec?.lifecycle?.preStop && grace > 0) {
      const podIP = pod.status?.podIP;
      const r = await runLifecycleHook(this.deps.runtime, spec.lifecycle.preStop, spec, c.id, podIP, grace * 1000);
      if (!r.ok) {
        this.deps.event(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${r.message}`);
        this.deps.log.warn({ pod: podRef(pod), container: c.containerName, err: r.message }, 'preStop hook failed');
      }
    }
    const left = grace > 0 ? Math.max(2, Math.ceil(grace - (Date.now() - t0) / 1000)) : 0;
    await this.deps.runtime.stopContainer(c.id, left);
  }

  /** Stops app containers (in parallel: preStop hook, SIGTERM, SIGKILL after `grace`), then sandboxes. */
  async stopAll(observed: RuntimeContainer[], grace: number, pod?: Pod): Promise<void> {
    const running = observed.filter((c) => c.state === 'running');
    await Promise.all(
      running
        .filter((c) => c.containerName !== SANDBOX_CONTAINER_NAME)
        .map((c) => (pod ? this.killContainer(pod, c, grace, `Stopping container ${c.containerName}`) : this.deps.runtime.stopContainer(c.id, grace))),
    );
    await Promise.all(running.filter((c) => c.containerName === SANDBOX_CONTAINER_NAME).map((c) => this.deps.runtime.stopContainer(c.id, SANDBOX_STOP_SECONDS)));
  }

  /** Removes app containers, then sandboxes. */
  async removeAll(observed: RuntimeContainer[]): Promise<void> {
    const apps = observed.filter((c) => c.containerName !== SANDBOX_CONTAINER_NAME);
    await Promise.all(apps.map((c) => this.deps.runtime.removeContainer(c.id)));
    await Promise.all(observed.filter((c) => c.containerName === SANDBOX_CONTAINER_NAME).map((c) => this.deps.runtime.removeContainer(c.id)));
  }
}
