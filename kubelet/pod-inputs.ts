import type { ConfigMap, Secret } from 'kubernetes-types/core/v1';

/**
 * What the kubelet knows of a pod beyond its spec when it configures the pod's
 * containers: the API objects the pod references, its volumes as prepared on this
 * host, facts of the running pod, and the error for a container that cannot be
 * configured. Shared by env resolution, volume payloads and the runtime specs.
 */

/** A container cannot be configured (Kubernetes' `CreateContainerConfigError`). */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** A volume of the pod as prepared on this host (see volumes.ts). */
export interface PreparedVolume {
  /** Host directory (or file) bind-mounted into containers. */
  hostPath?: string;
  /** Docker named volume (tmpfs-backed emptyDir with medium Memory). */
  dockerVolume?: { name: string; options: Record<string, string>; labels: Record<string, string> };
  /** configMap, secret, downwardAPI and projected volumes are always read-only. */
  readOnly: boolean;
}

/** The API objects a pod references, fetched before the sync (null = not found). */
export interface PodObjects {
  configMaps: Map<string, ConfigMap | null>;
  secrets: Map<string, Secret | null>;
}

/** Facts about the running pod that fieldRef env vars can read, and what it references. */
export interface PodRuntimeFacts {
  podIP?: string;
  hostIP: string;
  nodeName: string;
  objects?: PodObjects;
  /** Prepared volumes by name; required for containers with volumeMounts. */
  volumes?: Map<string, PreparedVolume>;
  /** Host file to bind-mount at the container's terminationMessagePath (created by the caller). */
  terminationMessageFile?: string;
  /** The pod's kubelet-managed hosts file (`hostsFileContent`), bind-mounted at /etc/hosts unless the container mounts something there. */
  hostsFile?: string;
  /** The pod's kubelet-managed resolv.conf (`resolvConfContent`), bind-mounted at /etc/resolv.conf likewise. */
  resolvConfFile?: string;
  /** `--seccomp-default`: RuntimeDefault instead of Unconfined for containers that name no profile. */
  seccompDefault?: boolean;
  /** The JSON of the container's Localhost seccomp profile (read by the caller from `<root-dir>/seccomp/`). */
  seccompLocalhost?: string;
  /** Service environment variables (`service-env.ts`), added after the container's own env unless it declares the same name. */
  serviceEnv?: [string, string][];
}
