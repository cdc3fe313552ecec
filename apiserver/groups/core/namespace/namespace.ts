import type { Namespace } from 'kubernetes-types/core/v1';
import type { ApiObject } from '../../../api-object';
import { rfc3339 } from '../../../../lib/time';
import type { ResourceDef } from '../../types';
import { withStatus } from '../../shared/defs';
import { AGE, NAME, objectAge } from '../../shared/printers';
import { startNamespaceFinalizer } from './finalizer';

/**
 * Namespace (core/v1). DELETE does not remove a namespace: it becomes Terminating
 * (deletionTimestamp, status.phase) and the namespace finalizer (finalizer.ts) deletes its
 * content, then the namespace. New content in a Terminating namespace is refused by the
 * generic storage.
 */
export const NAMESPACE: ResourceDef = {
  ...withStatus, group: '', kind: 'Namespace', listKind: 'NamespaceList', plural: 'namespaces', singular: 'namespace', shortNames: ['ns'],
  namespaced: false, nameRule: 'label', fieldLabels: ['status.phase'],
  defaults(o: ApiObject & Pick<Namespace, 'spec'>) {
    o.spec ??= {};
    o.spec.finalizers ??= ['kubernetes'];
    // a generated name is not known yet: the label is then undefined, dropped when stored
    o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name as string };
  },
  prepareForCreate(o: Namespace) { o.status = { phase: 'Active' }; },
  strategy: {
    finalizingDelete: {
      mark(o: ApiObject & Pick<Namespace, 'status'>, now) {
        o.metadata.deletionTimestamp = rfc3339(now);
        o.metadata.deletionGracePeriodSeconds = 0;
        // the object stays until its content is gone, whatever its metadata.finalizers
        o.metadata.finalizers = o.metadata.finalizers ?? [];
        o.status = { ...(o.status ?? {}), phase: 'Terminating' };
        return o;
      },
      startFinalizer: startNamespaceFinalizer,
    },
  },
  printer: {
    columns: [NAME, ['Status', 'string'], AGE],
    cells: (n: Namespace, now) => [n.metadata?.name, n.status?.phase ?? '', objectAge(n, now)],
  },
};
