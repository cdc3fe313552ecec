import { readFile } from 'node:fs/promises';
import type { Container, Pod, Secret } from 'kubernetes-types/core/v1';
import type { Logger } from '../lib/log';
import { buildContainerSpec, effectiveSeccomp, podGracePeriodSeconds, podRef, pullPolicyOf, terminationMessagePath } from './container-spec';
import { hostsFileContent, MISSING_CLUSTER_DNS, parseResolvConf, podDnsType, resolvConfContent, type ClusterDnsConfig, type ResolvConf } from './pod-files';
import { ContainerConfigError, type PodObjects, type PreparedVolume } from './pod-inputs';
import { registryAuthFor } from './image-auth';
import { runLifecycleHook } from './lifecycle-hook';
import type { KubeletMetrics } from './metrics';
import type { PodRecord } from './pod-record';
import { ImageError, LABEL_BACKOFF, type ContainerRuntime } from './runtime';
import type { VolumeManager } from './volumes';

export const IMAGE_BACKOFF_INITIAL_MS = 10_000;
export const IMAGE_BACKOFF_MAX_MS = 300_000;

/** The pod's sandbox during a sync: its IP once known, and (when this sync created it) whether it started. */
export interface SandboxState {
  podIP?: string;
  /** Resolves true once a sandbox created in this sync runs, false when its start failed (reasons recorded). */
  ready?: Promise<boolean>;
  /** Resolves true as soon as that sandbox runs (before its IP is read), false when its start failed. */
  started?: Promise<boolean>;
}

export interface ContainerStarterDeps {
  runtime: ContainerRuntime;
  nodeName: string;
  nodeIP: string;
  log: Logger;
  volumes: VolumeManager;
  metrics?: KubeletMetrics;
  /** Told the image ID of every container started. */
  onImageUsed?: (imageId: string) => void;
  /** Records a pod event (Pulled, Created, Started, Failed, FailedPostStartHook). Never throws. */
  event: (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string) => void;
  /** Debug log of a pod start's phases. */
  trace: (uid: string, phase: string) => void;
  /** `--seccomp-default`: RuntimeDefault for containers that name no seccomp profile. */
  seccompDefault?: boolean;
  /** Told a container is about to be started by this kubelet (its runtime start event needs no sync). */
  onStarting?: (id: string) => void;
  /** `--cluster-dns`/`--cluster-domain`: the resolver of ClusterFirst pods; absent: they get the node's, with a warning. */
  clusterDns?: ClusterDnsConfig;
}

/**
 * The node's resolver configuration: /etc/resolv.conf, or systemd-resolved's
 * upstream list when that file names only its loopback stub (as Docker does).
 */
export async function nodeResolvConf(files = ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf']): Promise<ResolvConf> {
  let first: ResolvConf | undefined;
  for (const f of files) {
    const conf = parseResolvConf(await readFile(f, 'utf8').catch(() => ''));
    first ??= conf;
    if (conf.nameservers.some((n) => !/^127\.|^::1$/.test(n))) return conf;
  }
  return first ?? { nameservers: [], searches: [], options: [] };
}

/**
 * Starts one container of a pod: image pull (with its backoff per container),
 * container spec, create against the sandbox, start, postStart hook.
 */
export class ContainerStarter {
  constructor(private readonly deps: ContainerStarterDeps) {}

  /**
   * Pulls, creates and starts one container; records a waiting reason in the
   * pod's record (`rec.waiting`, by container name) on failure, and its image
   * pull backoff in `rec.imageBackoff`. Returns whether the runtime changed.
   */
  async start(
    pod: Pod,
    spec: Container,
    restartCount: number,
    backoffCount: number,
    sandboxId: string,
    sandbox: SandboxState,
    now: number,
    objects: PodObjects,
    volumes: Map<string, PreparedVolume>,
    serviceEnv: [string, string][],
    rec: Pick<PodRecord, 'waiting' | 'imageBackoff'>,
  ): Promise<boolean> {
    const uid = pod.metadata!.uid!;
    const image = spec.image ?? '';
    const waiting = rec.waiting;
    const backoff = rec.imageBackoff.get(spec.name);
    if (backoff && now < backoff.until) {
      waiting.set(spec.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
      return false;
    }
    try {
      const pullSecrets = (pod.spec?.imagePullSecrets ?? []).map((r) => objects.secrets.get(r.name ?? '')).filter((x): x is Secret => !!x);
      const t0 = Date.now();
      const policy = pullPolicyOf(spec);
      const { pulled, id: imageId } = await this.deps.runtime.ensureImage(image, policy, registryAuthFor(image, pullSecrets));
      this.deps.onImageUsed?.(imageId);
      this.deps.event(pod, 'Normal', 'Pulled', pulled ? `Successfully pulled image "${image}" in ${Date.now() - t0}ms` : `Container image "${image}" already present on machine`);
      rec.imageBackoff.delete(spec.name);
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      this.deps.event(pod, 'Warning', 'Failed', err.message);
      waiting.set(spec.name, { reason: err.reason, message: err.message });
      if (err.reason === 'ErrImagePull') {
        const delay = backoff ? Math.min(backoff.delay * 2, IMAGE_BACKOFF_MAX_MS) : IMAGE_BACKOFF_INITIAL_MS;
        rec.imageBackoff.set(spec.name, { until: now + delay, delay });
      }
      this.deps.log.warn({ pod: podRef(pod), container: spec.name, image, reason: err.reason, err: err.message }, 'image not available');
      this.deps.metrics?.runtimeErrors.inc({ operation_type: 'pull_image' });
      return false;
    }
    let cspec;
    try {
      const terminationMessageFile = terminationMessagePath(spec) ? await this.deps.volumes.terminationMessageFile(uid, spec.name, restartCount) : undefined;
      const podNet = !pod.spec?.hostNetwork && sandbox.podIP;
      const domain = this.deps.clusterDns?.domain;
      const hostsFile = podNet ? await this.deps.volumes.podFile(uid, 'etc-hosts', hostsFileContent(pod, sandbox.podIP!, domain)) : undefined;
      // Host-network pods keep Docker's copy of the node's resolv.conf unless they want another one.
      const dns = podDnsType(pod, this.deps.clusterDns);
      if (dns.missing) this.deps.event(pod, 'Warning', 'MissingClusterDNS', `pod: "${podRef(pod)}". ${MISSING_CLUSTER_DNS}`);
      const resolvConfFile = podNet || dns.type !== 'Host' ? await this.deps.volumes.podFile(uid, 'resolv.conf', resolvConfContent(pod, await nodeResolvConf(), this.deps.clusterDns)) : undefined;
      const seccomp = effectiveSeccomp(pod, spec);
      const seccompLocalhost = seccomp?.type === 'Localhost' && seccomp.localhostProfile ? await this.deps.volumes.seccompProfile(seccomp.localhostProfile) : undefined;
      cspec = buildContainerSpec(pod, spec, restartCount, sandboxId, { podIP: sandbox.podIP, hostIP: this.deps.nodeIP, nodeName: this.deps.nodeName, objects, volumes, terminationMessageFile, hostsFile, resolvConfFile, serviceEnv, seccompDefault: this.deps.seccompDefault, seccompLocalhost }, { [LABEL_BACKOFF]: String(backoffCount) });
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      if (waiting.get(spec.name)?.message !== err.message) this.deps.event(pod, 'Warning', 'Failed', `Error: ${err.message}`);
      waiting.set(spec.name, { reason: err.reason, message: err.message });
      return false;
    }
    let id: string;
    try {
      id = await this.deps.runtime.createContainer(cspec);
      this.deps.trace(uid, 'container-created');
    } catch (err) {
      // Created against a sandbox that failed to start (and was removed): the sandbox's error is
      // what the pod reports, not this one.
      if (sandbox.ready && !(await sandbox.ready)) return true;
      waiting.set(spec.name, { reason: 'CreateContainerError', message: (err as Error).message });
      this.deps.event(pod, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      this.deps.metrics?.runtimeErrors.inc({ operation_type: 'create_container' });
      this.deps.log.error({ pod: podRef(pod), container: spec.name, err: (err as Error).message }, 'create container failed');
      return false;
    }
    this.deps.event(pod, 'Normal', 'Created', `Created container ${spec.name}`);
    // Only the start of an app container needs its sandbox running; the sandbox's IP is read meanwhile.
    if (sandbox.started && !(await sandbox.started)) {
      // The sandbox failed to start (and is gone): so goes the container created against it.
      await this.deps.runtime.removeContainer(id).catch(() => undefined);
      return true;
    }
    try {
      this.deps.onStarting?.(id);
      await this.deps.runtime.startContainer(id);
    } catch (err) {
      this.deps.event(pod, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      waiting.set(spec.name, { reason: 'RunContainerError', message: (err as Error).message });
      this.deps.metrics?.runtimeErrors.inc({ operation_type: 'start_container' });
      this.deps.log.error({ pod: podRef(pod), container: spec.name, err: (err as Error).message }, 'start container failed');
      return true;
    }
    waiting.delete(spec.name);
    this.deps.trace(uid, 'container-started');
    this.deps.event(pod, 'Normal', 'Started', `Started container ${spec.name}`);
    this.deps.log.info({ pod: podRef(pod), container: spec.name, id: id.slice(0, 12), restartCount }, 'started container');
    if (spec.lifecycle?.postStart) {
      if (sandbox.ready) await sandbox.ready; // the hook may need the pod IP
      const podIP = sandbox.podIP;
      // Like kubelet: the container counts as started only after postStart; a failing hook kills it.
      const r = await runLifecycleHook(this.deps.runtime, spec.lifecycle.postStart, spec, id, podIP, podGracePeriodSeconds(pod) * 1000);
      if (!r.ok) {
        const message = `PostStartHook failed: ${r.message}`;
        this.deps.event(pod, 'Warning', 'FailedPostStartHook', message);
        this.deps.log.warn({ pod: podRef(pod), container: spec.name, err: r.message }, 'postStart hook failed; killing the container');
        await this.deps.runtime.stopContainer(id, 0);
      }
    }
    return true;
  }
}
