import {
  type ContainerRuntime,
  type ContainerSpec,
  type ExecResult,
  fromLabels,
  LABEL_CONTAINER_NAME,
  LABEL_POD_UID,
  type RuntimeContainer,
  type SandboxSpec,
} from '../runtime';

interface FakeContainer {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  state: RuntimeContainer['state'];
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  sandbox: boolean;
}

/**
 * An in-memory container runtime for tests of the pod path: containers are
 * label sets with a state, found by their labels as Docker finds them. It
 * records the runtime calls made (`calls`), so a test can assert what a sync
 * did. Only the calls a pod's sync makes are implemented; `asRuntime()` hands
 * it over as a ContainerRuntime.
 */
export class FakeRuntime {
  readonly containers = new Map<string, FakeContainer>();
  readonly calls: string[] = [];
  private next = 0;

  asRuntime(): ContainerRuntime {
    // The pod path calls only the methods below; the rest of the interface (images, streaming, GC) is not under test.
    return this as unknown as ContainerRuntime;
  }

  /** The containers of a pod as the runtime reports them. */
  podContainers(uid: string): RuntimeContainer[] {
    return [...this.containers.values()].filter((c) => c.labels[LABEL_POD_UID] === uid).map(toRuntime);
  }

  /** Makes a running container exit (a crash, or a completed command). */
  exit(id: string, exitCode: number): void {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no container ${id}`);
    c.state = 'exited';
    c.exitCode = exitCode;
    c.finishedAt = new Date().toISOString();
  }

  async listContainers(labels: Record<string, string>): Promise<RuntimeContainer[]> {
    this.calls.push('listContainers');
    return [...this.containers.values()].filter((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v)).map(toRuntime);
  }

  async ensureImage(image: string): Promise<{ id: string; pulled: boolean }> {
    this.calls.push(`ensureImage ${image}`);
    return { id: `sha256:${image}`, pulled: false };
  }

  async createSandbox(spec: SandboxSpec): Promise<string> {
    this.calls.push('createSandbox');
    return this.add(spec.name, spec.image, spec.labels, true);
  }

  async startSandbox(id: string, onStarted?: () => void): Promise<RuntimeContainer | undefined> {
    this.calls.push('startSandbox');
    this.start(id);
    onStarted?.();
    return toRuntime(this.containers.get(id)!);
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    this.calls.push(`createContainer ${spec.labels[LABEL_CONTAINER_NAME]}`);
    return this.add(spec.name, spec.image, spec.labels, false);
  }

  async startContainer(id: string): Promise<void> {
    this.calls.push(`startContainer ${this.containers.get(id)?.labels[LABEL_CONTAINER_NAME]}`);
    this.start(id);
  }

  async stopContainer(id: string): Promise<void> {
    this.calls.push(`stopContainer ${this.containers.get(id)?.labels[LABEL_CONTAINER_NAME]}`);
    const c = this.containers.get(id);
    if (c?.state === 'running') this.exit(id, 137);
  }

  async removeContainer(id: string): Promise<void> {
    this.calls.push(`removeContainer ${this.containers.get(id)?.labels[LABEL_CONTAINER_NAME]}`);
    this.containers.delete(id);
  }

  async removeVolumes(): Promise<void> {}

  async execCommand(): Promise<ExecResult> {
    return { exitCode: 0, output: '', timedOut: false };
  }

  async logTail(): Promise<string> {
    return '';
  }

  private add(name: string, image: string, labels: Record<string, string>, sandbox: boolean): string {
    const id = `c${++this.next}`.padEnd(12, '0');
    this.containers.set(id, { id, name, image, labels, state: 'created', createdAt: new Date().toISOString(), sandbox });
    return id;
  }

  private start(id: string): void {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no container ${id}`);
    c.state = 'running';
    c.startedAt = new Date().toISOString();
  }
}

function toRuntime(c: FakeContainer): RuntimeContainer {
  const l = c.labels;
  return {
    id: c.id,
    name: c.name,
    ...fromLabels(l),
    image: c.image,
    imageId: `sha256:${c.image}`,
    state: c.state,
    createdAt: c.createdAt,
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
    exitCode: c.exitCode,
  };
}
