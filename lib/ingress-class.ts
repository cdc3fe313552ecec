import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';

/**
 * Which Ingresses Coxswain serves, shared by the proxy (which routes them) and
 * the controllers (which write their status). Pure.
 */

/** The IngressClass the apiserver creates at cluster start. */
export const COXSWAIN_INGRESS_CLASS = 'coxswain';
/** `spec.controller` of IngressClasses served by Coxswain's proxy. */
export const COXSWAIN_INGRESS_CONTROLLER = 'coxswain.io/ingress';
/** The annotation that makes an IngressClass the default for Ingresses without a class. */
export const ANN_DEFAULT_INGRESS_CLASS = 'ingressclass.kubernetes.io/is-default-class';
/** The class annotation of Ingresses written before `spec.ingressClassName` existed. */
export const ANN_LEGACY_INGRESS_CLASS = 'kubernetes.io/ingress.class';

/** The IngressClass created at cluster start: Coxswain's, marked default. */
export const COXSWAIN_INGRESS_CLASS_OBJECT: IngressClass = {
  metadata: { name: COXSWAIN_INGRESS_CLASS, annotations: { [ANN_DEFAULT_INGRESS_CLASS]: 'true' } },
  spec: { controller: COXSWAIN_INGRESS_CONTROLLER },
};

/**
 * True when Coxswain serves this Ingress: its class (`spec.ingressClassName`,
 * else the legacy annotation) names an IngressClass whose controller is
 * Coxswain's, or names `coxswain` while no IngressClass of that name exists;
 * an Ingress without a class is served while a Coxswain IngressClass is marked
 * default.
 */
export function servedByCoxswain(ing: Ingress, classes: Iterable<IngressClass>): boolean {
  const list = [...classes];
  const name = ing.spec?.ingressClassName || ing.metadata?.annotations?.[ANN_LEGACY_INGRESS_CLASS];
  if (name) {
    const cls = list.find((c) => c.metadata?.name === name);
    return cls ? cls.spec?.controller === COXSWAIN_INGRESS_CONTROLLER : name === COXSWAIN_INGRESS_CLASS;
  }
  return list.some((c) => c.spec?.controller === COXSWAIN_INGRESS_CONTROLLER && c.metadata?.annotations?.[ANN_DEFAULT_INGRESS_CLASS] === 'true');
}
