import type { Readable } from 'node:stream';
import type { LogOptions } from './api/log-options';

/**
 * The container runtime as the kubelet sees it: a small, CRI-like interface
 * that the Docker adapter (`docker-runtime.ts`) implements and tests can fake.
 * Nothing here knows about the Kubernetes API; the pod sync core translates.
 */

/** Docker labels on every container the kubelet runs: how the kubelet finds its containers again after a restart. */
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
export const LABEL_RESTART_COUNT = 'coxswain.restart-count';
/** The node (kubelet) that owns the container: kubelets sharing one Docker engine never touch each other's. */
export const LABEL_NODE = 'coxswain.node';
/** Hash of the container's spec: a running container whose hash differs from the pod's is replaced. */
export const LABEL_CONTAINER_HASH = 'coxswain.container-hash';
/** The pod's termination grace period, so orphans (pod gone from the API) are stopped politely. */
export const LABEL_GRACE_PERIOD = 'io.kubernetes.pod.terminationGracePeriod';
/** Consecutive quick failures before this instance (crash-loop backoff; reset after a long run). */
export const LABEL_BACKOFF = 'coxswain.crash-backoff';
/** `File` or `FallbackToLogsOnError`: how the container's termination message is found. */
export const LABEL_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
/** Host file bind-mounted at the container's terminationMessagePath. */
export const LABEL_TERMINATION_MESSAGE_FILE = 'coxswain.termination-message-file';
/** Marks Docker networks the kubelet created (and may delete). */
export const LABEL_OWNED = 'coxswain.owned';
/** Sandbox only: the pod IP the kubelet allocated and wired (pod-network.ts). */
export const LABEL_POD_IP = 'coxswain.pod-ip';

/** `io.kubernetes.container.name` of a pod sandbox (the pause container). */
export const SANDBOX_CONTAINER_NAME = 'POD';

export type RuntimeContainerState = 'created' | 'running' | 'exited' | 'unknown';

/** The fields of a RuntimeContainer that the kubelet's labels carry (see the LABEL_ constants). */
export type LabelledFields = Pick<RuntimeContainer, 'podUid' | 'podName' | 'podNamespace' | 'containerName' | 'restartCount' | 'hash' | 'backoffCount' | 'gracePeriodSeconds'>;

/** Reads the kubelet's labels of a container back; a malformed number reads as absent (restart count 0). */
export function fromLabels(labels: Record<string, string>): LabelledFields {
  const num = (k: string) => (labels[k] !== undefined && Number.isFinite(Number(labels[k])) ? Number(labels[k]) : undefined);
  return {
    podUid: labels[LABEL_POD_UID] ?? '',
    podName: labels[LABEL_POD_NAME] ?? '',
    podNamespace: labels[LABEL_POD_NAMESPACE] ?? '',
    containerName: labels[LABEL_CONTAINER_NAME] ?? '',
    restartCount: num(LABEL_RESTART_COUNT) ?? 0,
    hash: labels[LABEL_CONTAINER_HASH] ?? '',
    backoffCount: num(LABEL_BACKOFF),
    gracePeriodSeconds: num(LABEL_GRACE_PERIOD),
  };
}

/** One container as observed in the runtime, rebuilt from its labels and inspect data. */
export interface RuntimeContainer {
  id: string;
  /** Runtime name without the leading slash, e.g. `k8s_web_mypod_default_<uid>_0`. */
  name: string;
  podUid: string;
  podName: string;
  podNamespace: string;
  /** Container name in the pod spec; "POD" for the sandbox. */
  containerName: string;
  /** Restart count of an app container; attempt number of a sandbox. */
  restartCount: number;
  /** Crash-backoff label (undefined when absent). */
  backoffCount?: number;
  /** Spec hash label (empty when absent). */
  hash: string;
  /** Grace period label, seconds (undefined when absent). */
  gracePeriodSeconds?: number;
  /** The image as asked for (repo:tag). */
  image: string;
  /** The image ID (sha256:...). */
  imageId: string;
  state: RuntimeContainerState;
  /** ISO timestamps; startedAt/finishedAt only once they happened. */
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  /** Runtime error text (e.g. a failed start). */
  error?: string;
  /** Host file holding the termination message, and the pod's policy for it (labels). */
  terminationMessageFile?: string;
  terminationMessagePolicy?: string;
  /** Termination message of a dead container (read by the pod manager from the file, or the log tail). */
  terminationMessage?: string;
  /** Sandbox only: its IPv4 address on the pod network, when running. */
  ip?: string;
  /** The host PID of its init process, when running (the sandbox's network namespace is /proc/<pid>/ns/net). */
  pid?: number;
  /** Runs in the host's network namespace (a host-network pod's sandbox or container). */
  hostNetwork?: boolean;
}

/** Everything the runtime needs to run a pod sandbox. */
export interface SandboxSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  hostname?: string;
  /** The pod IP the kubelet allocated (recorded as a label; the kubelet wires it after start), none for host-network pods. */
  podIP?: string;
  hostNetwork: boolean;
  /** Docker security options of the pause container (its seccomp profile). */
  securityOpt?: string[];
}

/** Everything the runtime needs to create an app container inside a sandbox. */
export interface ContainerSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Replaces the image's entrypoint when set (Kubernetes `command`). */
  entrypoint?: string[];
  /** Replaces the image's cmd when set (Kubernetes `args`). */
  cmd?: string[];
  /** `NAME=value` pairs. */
  env: string[];
  workingDir?: string;
  /** The sandbox whose network and IPC namespaces the container joins. */
  sandboxId: string;
  hostNetwork: boolean;
  tty?: boolean;
  stdin?: boolean;
  mounts?: MountSpec[];
  /** cgroup settings from requests/limits. */
  resources?: { cpuShares?: number; cpuQuota?: number; cpuPeriod?: number; memoryBytes?: number };
  security?: {
    /** `uid` or `uid:gid`. */
    user?: string;
    groupAdd?: string[];
    readOnlyRootfs?: boolean;
    privileged?: boolean;
    capAdd?: string[];
    capDrop?: string[];
    securityOpt?: string[];
    /** runAsNonRoot without runAsUser: the image's user must not be root (checked by the runtime). */
    requireNonRoot?: boolean;
  };
}

/** A bind mount of a host path, or a Docker named volume (created on first use with `volumeOptions`). */
export interface MountSpec {
  type: 'bind' | 'volume';
  source: string;
  target: string;
  readOnly: boolean;
  /** local-driver options of a named volume, e.g. `{ type: 'tmpfs', device: 'tmpfs' }`. */
  volumeOptions?: Record<string, string>;
  volumeLabels?: Record<string, string>;
}

/** Registry credentials for one pull (Docker's X-Registry-Auth). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  auth?: string;
  serveraddress: string;
}

/** Result of a non-interactive command run in a container (probes, hooks). */
export interface ExecResult {
  exitCode: number;
  /** stdout and stderr, truncated to a few KiB. */
  output: string;
  timedOut: boolean;
}

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** Why an image is not available; `reason` is the Kubernetes waiting reason. */
export class ImageError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

/** A lifecycle event of a kubelet-managed container (Docker `die`, `start`, `oom`, `destroy`). */
export interface RuntimeEvent {
  action: string;
  containerId: string;
  podUid?: string;
}

/** An image in the runtime's image store. */
export interface RuntimeImage {
  /** sha256:... */
  id: string;
  /** repo:tag references (empty for dangling images). */
  tags: string[];
  /** repo@sha256:… references (images pulled from a registry). */
  digests?: string[];
  /** Bytes on disk (layers shared with other images included, as Docker reports). */
  sizeBytes: number;
}

/** Capacity of the filesystem holding the images (Docker's root dir). */
export interface ImageFsStats {
  capacityBytes: number;
  availableBytes: number;
}

/** An interactive command to run in a container (kubelet API exec). */
export interface ExecStreamOptions {
  cmd: string[];
  stdin: boolean;
  stdout: boolean;
  /** Ignored with a TTY (its output is one stream). */
  stderr: boolean;
  tty: boolean;
  /** The terminal's initial size (TTY only). */
  size?: { width: number; height: number };
}

/** A running interactive command; its output goes to the `onOutput` given to `execStream`. */
export interface ExecSession {
  /** Writes to the command's stdin (dropped unless opened with stdin). */
  write(data: Buffer): void;
  /** Closes the command's stdin (EOF). */
  closeStdin(): void;
  resize(size: { width: number; height: number }): void;
  /** Resolves with the exit code once the command's streams closed; -1 when it cannot be read. */
  readonly exited: Promise<number>;
  /** Tears the streams down (the caller went away); `exited` still resolves. */
  destroy(): void;
}

/** One sample of a running container's usage; field names as kubelet.proto's stats messages. */
export interface ContainerStats {
  cpu: { usage_core_nano_seconds: number; usage_nano_cores: number };
  memory: { usage_bytes: number; working_set_bytes: number; limit_bytes: number };
  /** As the runtime counts it (a sandbox wired by the kubelet has counters only in its namespace). */
  network: { rx_bytes: number; tx_bytes: number; rx_errors: number; tx_errors: number };
  /** When the runtime read the counters (RFC 3339); absent: unknown. */
  time?: string;
}

export interface ContainerRuntime {
  /** e.g. `docker://27.1.1`. */
  version(): Promise<string>;
  /** All containers (any state) carrying every given label (value '' = any value). */
  listContainers(labels: Record<string, string>): Promise<RuntimeContainer[]>;
  /**
   * Makes `image` present according to `policy` and returns its ID and whether it
   * was pulled; pulls (logging progress) when absent or when the policy is Always,
   * trying each credential in `auth`, then anonymously. Throws ImageError.
   */
  ensureImage(image: string, policy: PullPolicy, auth?: RegistryAuth[]): Promise<{ id: string; pulled: boolean }>;
  /** Creates and starts a sandbox; returns its ID. */
  runSandbox(spec: SandboxSpec): Promise<string>;
  /** Creates (does not start) a sandbox; app containers may be created against it before it starts. */
  createSandbox(spec: SandboxSpec): Promise<string>;
  /**
   * Starts a created sandbox and returns its view (IP); on failure removes it and throws.
   * `onStarted` is called as soon as it runs, before its view is read, so the pod's
   * containers can start while the runtime is asked for the IP.
   */
  startSandbox(id: string, onStarted?: () => void): Promise<RuntimeContainer | undefined>;
  /** Creates (does not start) an app container; returns its ID. */
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutSeconds`. Stopping a stopped or missing container is not an error. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Removes a container (forcibly). Removing a missing container is not an error. */
  removeContainer(id: string): Promise<void>;
  /**
   * Frees the node's podCIDR from the runtime's own networks before the kubelet's
   * bridge takes it (removing Coxswain-owned ones); throws naming any other that overlaps.
   */
  releaseSubnet(subnet: string): Promise<void>;
  /** Runs `cmd` in a running container; resolves with its exit code, or timedOut after `timeoutMs` (probes, hooks). */
  execCommand(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  /** Removes Docker volumes carrying every given label (memory-backed emptyDirs of removed pods). */
  removeVolumes(labels: Record<string, string>): Promise<void>;
  /**
   * Streams lifecycle events of containers carrying the given labels until `signal`
   * aborts; resolves when the stream ends (callers reconnect). With `since`, past
   * events from that time on are replayed first (second granularity).
   */
  watchEvents(labels: Record<string, string>, onEvent: (ev: RuntimeEvent) => void, signal: AbortSignal, since?: Date): Promise<void>;
  /** Every image in the store. */
  listImages(): Promise<RuntimeImage[]>;
  /** Image IDs used by any container on the engine (any state, any owner): never removable. */
  imagesInUse(): Promise<Set<string>>;
  /**
   * Removes an image by ID without force: resolves false (and removes nothing)
   * when the runtime refuses (in use, or referenced by several repositories).
   */
  removeImage(id: string): Promise<boolean>;
  /** The last `tailLines` lines (at most `maxBytes`, the end kept) of a container's stdout and stderr, as text. */
  logTail(id: string, tailLines: number, maxBytes: number): Promise<string>;
  /** Capacity and free space of the image filesystem. */
  imageFsStats(): Promise<ImageFsStats>;
  /** The ID of a local image reference, undefined when absent. */
  imageIdOf(image: string): Promise<string | undefined>;
  /**
   * A container's stdout and stderr (interleaved, without framing) per `options`. Without
   * `follow` the stream ends at the end of the log; with it, when the container's log does.
   * Destroying the stream releases the runtime's.
   */
  containerLogs(id: string, options: LogOptions): Promise<Readable>;
  /** Starts an interactive command in a running container; its output goes to `onOutput` as it comes. */
  execStream(id: string, options: ExecStreamOptions, onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => void): Promise<ExecSession>;
  /** One usage sample of a running container; undefined when the runtime has none (e.g. it stopped). */
  containerStats(id: string): Promise<ContainerStats | undefined>;
}
