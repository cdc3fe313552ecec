/** The few object fields the dashboard reads; every kind is a KubeObject with its own spec and status. */
export interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string }[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  // Specs and statuses differ by kind; views read them through the narrow types below.
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state?: { waiting?: { reason?: string }; running?: { startedAt?: string }; terminated?: { reason?: string; exitCode?: number; signal?: number } };
}

export interface PodView extends KubeObject {
  spec: { nodeName?: string; containers: { name: string; image?: string }[]; initContainers?: { name: string }[] };
  status?: {
    phase?: string;
    reason?: string;
    podIP?: string;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
    conditions?: { type: string; status: string }[];
  };
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface NodeView extends KubeObject {
  spec?: { unschedulable?: boolean; podCIDR?: string; taints?: { key: string; value?: string; effect: string }[] };
  status?: {
    conditions?: Condition[];
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    addresses?: { type: string; address: string }[];
    nodeInfo?: { kubeletVersion?: string; osImage?: string; containerRuntimeVersion?: string };
  };
}

export interface EventView extends KubeObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  regarding?: { kind?: string; name?: string; namespace?: string };
  note?: string;
}
