/**
 * The namespace the pages show: "" for all namespaces (the default), else one.
 * A user whose roles are bound in one namespace cannot list across all of them,
 * so the choice is kept (in localStorage) and applies to every page.
 */
import { useEffect, useState } from 'preact/hooks';

const KEY = 'coxswain.dashboard.namespace';
let current = localStorage.getItem(KEY) ?? '';
const listeners = new Set<(ns: string) => void>();

export function setNamespace(ns: string): void {
  current = ns.trim();
  localStorage.setItem(KEY, current);
  for (const l of listeners) l(current);
}

export function useNamespace(): string {
  const [ns, setNs] = useState(current);
  useEffect(() => {
    listeners.add(setNs);
    return () => void listeners.delete(setNs);
  }, []);
  return ns;
}

/** The collection path of `resource` under `groupVersion` ("/api/v1", "/apis/apps/v1") in `ns` ("" for all). */
export function collectionIn(groupVersion: string, resource: string, ns: string): string {
  return ns ? `${groupVersion}/namespaces/${encodeURIComponent(ns)}/${resource}` : `${groupVersion}/${resource}`;
}

export const scopeText = (ns: string) => (ns ? `namespace ${ns}` : 'all namespaces');
