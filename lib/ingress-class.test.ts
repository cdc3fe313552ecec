import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';
import { COXSWAIN_INGRESS_CLASS_OBJECT, servedByCoxswain } from './ingress-class';

const ing = (cls?: string, annotation?: string): Ingress => ({
  metadata: { name: 'i', namespace: 'ns', ...(annotation ? { annotations: { 'kubernetes.io/ingress.class': annotation } } : {}) },
  spec: { ...(cls ? { ingressClassName: cls } : {}), defaultBackend: { service: { name: 's', port: { number: 80 } } } },
});
const nginx: IngressClass = { metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } };
const nginxDefault: IngressClass = { metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'k8s.io/ingress-nginx' } };
const notDefault: IngressClass = { metadata: { name: 'coxswain' }, spec: { controller: 'coxswain.io/ingress' } };
const mine: IngressClass = { metadata: { name: 'edge' }, spec: { controller: 'coxswain.io/ingress' } };

test('servedByCoxswain: by class name, legacy annotation and the default class', () => {
  const cases: [string, Ingress, IngressClass[], boolean][] = [
    ['class coxswain', ing('coxswain'), [COXSWAIN_INGRESS_CLASS_OBJECT], true],
    ['another controller\'s class', ing('nginx'), [COXSWAIN_INGRESS_CLASS_OBJECT, nginx], false],
    ['a class of ours under another name', ing('edge'), [mine], true],
    ['an unknown class', ing('traefik'), [COXSWAIN_INGRESS_CLASS_OBJECT], false],
    ['class coxswain while no such IngressClass exists', ing('coxswain'), [], true],
    ['no class, coxswain is the default', ing(), [COXSWAIN_INGRESS_CLASS_OBJECT], true],
    ['no class, coxswain is not the default', ing(), [notDefault], false],
    ['no class, another default', ing(), [notDefault, nginxDefault], false],
    ['no class, no classes at all', ing(), [], false],
    ['legacy annotation coxswain', ing(undefined, 'coxswain'), [notDefault], true],
    ['legacy annotation nginx', ing(undefined, 'nginx'), [COXSWAIN_INGRESS_CLASS_OBJECT, nginx], false],
    ['spec wins over the annotation', ing('nginx', 'coxswain'), [COXSWAIN_INGRESS_CLASS_OBJECT, nginx], false],
  ];
  for (const [name, i, classes, want] of cases) assert.equal(servedByCoxswain(i, classes), want, name);
});
