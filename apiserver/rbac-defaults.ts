import type { ClusterRole, ClusterRoleBinding, PolicyRule } from 'kubernetes-types/rbac/v1';

/**
 * The default ClusterRoles and ClusterRoleBindings, as data (Kubernetes'
 * plugin/pkg/auth/authorizer/rbac/bootstrappolicy, abridged to the resources Coxswain serves).
 * The apiserver creates them at startup and adds rules missing from existing ones that keep
 * `rbac.authorization.kubernetes.io/autoupdate: "true"` (rbac-live.ts `reconcileDefaultPolicy`).
 *
 * Component identities are the client certificates lib/pki.ts issues: system:kube-scheduler,
 * system:kube-controller-manager, system:kube-proxy (users) and system:nodes (the kubelets' group).
 * Simplifications (docs/architecture.md): the controller manager runs as one identity with
 * every permission (Kubernetes gives each controller a ServiceAccount), kubelets get
 * system:node through their group (no Node authorizer restricting them to their own pods),
 * the proxy may read Secrets and Ingresses because it also serves Ingress TLS, and nodes hold
 * system:node-proxier too (an agent's proxy uses the node's certificate).
 */

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ALL = [...READ, ...WRITE];
const r = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule =>
  ({ verbs, apiGroups, resources, ...(resourceNames ? { resourceNames } : {}) });
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });

const AGGREGATE_TO = (role: 'admin' | 'edit' | 'view') => `rbac.authorization.k8s.io/aggregate-to-${role}`;

const VIEW_RULES: PolicyRule[] = [
  r(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers',
    'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
  r(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status',
    'resourcequotas', 'resourcequotas/status']),
  r(READ, [''], ['namespaces']),
  r(READ, ['discovery.k8s.io'], ['endpointslices']),
  r(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status',
    'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
  r(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  r(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
  r(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  r(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
  r(READ, ['events.k8s.io'], ['events']),
];

const EDIT_RULES: PolicyRule[] = [
  r(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
  r(['impersonate'], [''], ['serviceaccounts']),
  r(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
  r(['create'], [''], ['pods/eviction']),
  r(WRITE, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets',
    'serviceaccounts', 'services', 'services/proxy']),
  r(['create'], [''], ['serviceaccounts/token']),
  r(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale',
    'statefulsets', 'statefulsets/scale']),
  r(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
  r(WRITE, ['batch'], ['cronjobs', 'jobs']),
  r(WRITE, ['policy'], ['poddisruptionbudgets']),
  r(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
  r(ALL, ['coordination.k8s.io'], ['leases']),
];

const ADMIN_RULES: PolicyRule[] = [
  r(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  r(ALL, ['rbac.authorization.k8s.io'], ['rolebindings', 'roles']),
];

const meta = (name: string, labels: Record<string, string> = {}) => ({
  name,
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...labels },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
});

const clusterRole = (name: string, rules: PolicyRule[], labels: Record<string, string> = {}, aggregateFrom?: 'admin' | 'edit' | 'view'): ClusterRole => ({
  apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(name, labels),
  ...(aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_TO(aggregateFrom)]: 'true' } }] } } : {}),
  rules,
});

const binding = (name: string, role: string, subjects: { kind: 'User' | 'Group'; name: string }[]): ClusterRoleBinding => ({
  apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: meta(name),
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: subjects.map((s) => ({ apiGroup: 'rbac.authorization.k8s.io', ...s })),
});

/**
 * admin ⊇ edit ⊇ view by aggregation, as in Kubernetes: the stored admin/edit/view carry the
 * aggregated rules (what Kubernetes' aggregation controller would write) and the aggregationRule,
 * so ClusterRoles labelled aggregate-to-* later extend them (the authorizer aggregates live).
 */
export const DEFAULT_CLUSTER_ROLES: ClusterRole[] = [
  clusterRole('cluster-admin', [r(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
  clusterRole('admin', [...ADMIN_RULES, ...EDIT_RULES, ...VIEW_RULES], {}, 'admin'),
  clusterRole('edit', [...EDIT_RULES, ...VIEW_RULES], { [AGGREGATE_TO('admin')]: 'true' }, 'edit'),
  clusterRole('view', [...VIEW_RULES], { [AGGREGATE_TO('edit')]: 'true' }, 'view'),
  clusterRole('system:aggregate-to-admin', ADMIN_RULES, { [AGGREGATE_TO('admin')]: 'true' }),
  clusterRole('system:aggregate-to-edit', EDIT_RULES, { [AGGREGATE_TO('edit')]: 'true' }),
  clusterRole('system:aggregate-to-view', VIEW_RULES, { [AGGREGATE_TO('view')]: 'true' }),
  // metrics-server's role: the Metrics API for whoever can view, edit or admin
  clusterRole('system:aggregated-metrics-reader', [r(READ, ['metrics.k8s.io'], ['pods', 'nodes'])],
    { [AGGREGATE_TO('view')]: 'true', [AGGREGATE_TO('edit')]: 'true', [AGGREGATE_TO('admin')]: 'true' }),
  clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
  clusterRole('system:basic-user', [
    r(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
    r(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
  ]),
  clusterRole('system:public-info-viewer', [urls(['get'], ['/cacerts', '/healthz', '/livez', '/readyz', '/version', '/version/'])]),
  clusterRole('system:monitoring', [urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'])]),
  clusterRole('system:kube-scheduler', [
    r(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    r(['create'], ['coordination.k8s.io'], ['leases']),
    r(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
    r(['create'], [''], ['endpoints']),
    r(['get', 'update'], [''], ['endpoints'], ['kube-scheduler']),
    r(READ, [''], ['nodes']),
    r(['delete', 'get', 'list', 'watch'], [''], ['pods']),
    // Coxswain's own: the scheduler records a failed attempt in the pod's
    // scheduler.coxswain.io/last-attempt annotation (read by coxctl why-pending)

    // Beyond Kubernetes' role: the scheduler writes its annotation scheduler.coxswain.io/last-attempt on pending pods
    r(['patch'], [''], ['pods']),
    r(['create'], [''], ['bindings', 'pods/binding']),
    r(['patch', 'update'], [''], ['pods/status']),
    r(READ, [''], ['replicationcontrollers', 'services', 'namespaces', 'configmaps', 'persistentvolumeclaims', 'persistentvolumes']),
    r(READ, ['apps'], ['replicasets', 'statefulsets']),
    r(READ, ['policy'], ['poddisruptionbudgets']),
    r(READ, ['storage.k8s.io'], ['storageclasses', 'csinodes', 'csidrivers', 'csistoragecapacities']),
    // Kubernetes' system:volume-scheduler: the scheduler annotates claims with the node it chose
    r(['patch', 'update'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
    r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
  ]),
  clusterRole('system:kube-controller-manager', [r(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
  clusterRole('system:node', [
    r(['create', 'delete', 'get', 'list', 'watch', 'patch', 'update'], [''], ['nodes']),
    r(['patch', 'update'], [''], ['nodes/status']),
    r(['create', 'delete', 'get', 'list', 'watch'], [''], ['pods']),
    r(['patch', 'update'], [''], ['pods/status']),
    r(['create'], [''], ['pods/eviction']),
    r(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    r(READ, [''], ['services', 'endpoints', 'configmaps', 'secrets', 'persistentvolumeclaims', 'persistentvolumes', 'namespaces']),
    r(['get'], [''], ['serviceaccounts']),
    r(['create'], [''], ['serviceaccounts/token']),
    r(READ, ['discovery.k8s.io'], ['endpointslices']),
    r(READ, ['storage.k8s.io'], ['storageclasses', 'csidrivers', 'volumeattachments']),
    r(['create', 'delete', 'get', 'patch', 'update', 'list', 'watch'], ['coordination.k8s.io'], ['leases']),
    r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews', 'localsubjectaccessreviews']),
    // client certificate renewal and kubelet serving certificates (TLS bootstrapping)
    r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  ]),
  clusterRole('system:node-proxier', [
    r(['list', 'watch'], [''], ['endpoints', 'services']),
    r(READ, [''], ['nodes']),
    r(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    r(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    // Coxswain's proxy also serves cluster DNS (pod hostnames) and Ingress (TLS from Secrets)
    r(['list', 'watch'], [''], ['pods', 'secrets']),
    r(['list', 'watch'], ['networking.k8s.io'], ['ingresses', 'ingressclasses']),
    r(['patch', 'update'], ['networking.k8s.io'], ['ingresses/status']),
    // and enforces NetworkPolicy (selectors need every pod and namespace)
    r(['list', 'watch'], [''], ['namespaces']),
    r(['list', 'watch'], ['networking.k8s.io'], ['networkpolicies']),
  ]),
  clusterRole('system:node-bootstrapper', [r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])]),
  // what the CSR approver (controllers/csr) checks in Kubernetes: may this user ask for a node client certificate, or renew its own
  clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [r(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'])]),
  // Coxswain: a server join token fetches the CA and ServiceAccount keys (apiserver/app.ts server-bootstrap)
  clusterRole('system:coxswain:server-bootstrap', [urls(['get'], ['/coxswain/v1/server-bootstrap'])]),
  clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [r(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])]),
];

export const DEFAULT_CLUSTER_ROLE_BINDINGS: ClusterRoleBinding[] = [
  binding('cluster-admin', 'cluster-admin', [{ kind: 'Group', name: 'system:masters' }]),
  binding('system:discovery', 'system:discovery', [{ kind: 'Group', name: 'system:authenticated' }]),
  binding('system:basic-user', 'system:basic-user', [{ kind: 'Group', name: 'system:authenticated' }]),
  binding('system:public-info-viewer', 'system:public-info-viewer', [{ kind: 'Group', name: 'system:authenticated' }, { kind: 'Group', name: 'system:unauthenticated' }]),
  binding('system:monitoring', 'system:monitoring', [{ kind: 'Group', name: 'system:monitoring' }]),
  binding('system:kube-scheduler', 'system:kube-scheduler', [{ kind: 'User', name: 'system:kube-scheduler' }]),
  binding('system:kube-controller-manager', 'system:kube-controller-manager', [{ kind: 'User', name: 'system:kube-controller-manager' }]),
  binding('system:node', 'system:node', [{ kind: 'Group', name: 'system:nodes' }]),
  // an agent host runs its proxy with the node's credentials (it got them by CSR when it joined)
  binding('system:node-proxier', 'system:node-proxier', [{ kind: 'User', name: 'system:kube-proxy' }, { kind: 'Group', name: 'system:nodes' }]),
  binding('system:node-bootstrapper', 'system:node-bootstrapper', [{ kind: 'Group', name: 'system:bootstrappers' }]),
  binding('system:certificates.k8s.io:certificatesigningrequests:nodeclient', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', [{ kind: 'Group', name: 'system:bootstrappers' }]),
  binding('system:coxswain:server-bootstrap', 'system:coxswain:server-bootstrap', [{ kind: 'Group', name: 'system:bootstrappers:coxswain:server' }]),
  binding('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [{ kind: 'Group', name: 'system:nodes' }]),
];
