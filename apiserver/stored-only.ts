/**
 * Kinds the API serves and stores but that nothing in Coxswain acts on yet. A create or
 * update of one is stored as asked and answered with a `Warning: 299` header (kubectl
 * prints it), so a user is never silently ignored. Remove a kind's row when the component
 * that acts on it lands; docs/architecture.md ("Kinds and what acts on them") lists every
 * served kind and what acts on it.
 */
export const STORED_ONLY: Readonly<Record<string, string>> = {
  // empty since the horizontal pod autoscaler landed (controllers/hpa/); a kind added to the API before its component gets a row here
};

/** The warning for a write of resource `plural` of `group` ("" for core), if it is stored only. */
export function storedOnlyWarning(group: string, plural: string): string | undefined {
  return STORED_ONLY[`${group}/${plural}`];
}
