import type { ObjectMeta } from 'kubernetes-types/meta/v1';

/**
 * The type of an API object of any kind, shared by the generic storage (resources.ts,
 * before-write.ts), the watch cache and each kind's hooks (groups/types.ts).
 */

/**
 * ObjectMeta as the apiserver writes it: kubernetes-types' ObjectMeta without its readonly marks
 * (uid, creationTimestamp, resourceVersion, generation and the deletion fields are the
 * apiserver's to set).
 */
export type ObjectMetadata = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/**
 * An API object of any kind as the generic storage handles it: only metadata is typed; every
 * other field belongs to the kind (apiVersion and kind too: kubernetes-types gives each kind its
 * literal, so the storage sets them through StorageView). The contract by stage:
 * - a request body is `unknown` until checkBody (before-write.ts) makes it an ApiObject: a
 *   private copy that is a JSON object whose metadata is an object (possibly empty) and whose
 *   kind and apiVersion, when present, are the resource's; nothing else is checked yet;
 * - after beforeCreate/beforeUpdate, kind and apiVersion are set, the system metadata
 *   (namespace, uid, creationTimestamp, generation) is set or carried over, the kind's defaults
 *   are applied and its validation passed, so its fields have the kind's shape;
 * - a stored object (watch cache, store reads) went through that and has metadata.name and
 *   metadata.resourceVersion.
 * A kind's hooks (ResourceDef, KindStrategy) narrow it to the kind's kubernetes-types type: a
 * parameter `(o: Pod)` where that type's fields are all optional (an ApiObject is then one), a
 * cast `o as Event` where it has required ones, or a small local interface of the fields the
 * hook reads. Validation, not the type, guarantees that a field present has the declared shape.
 */
export interface ApiObject {
  metadata: ObjectMetadata;
}

/** The name of a stored or validated object (validation requires a name or generateName; create generates it). */
export function objectName(obj: ApiObject): string {
  return obj.metadata.name ?? '';
}

/** `T` with its readonly marks removed: kubernetes-types marks server-set fields (status) readonly; the hooks that set them take Writable<Kind>. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * What the generic storage reads and writes beyond metadata: apiVersion and kind (the
 * resource's) and status, opaque to it (the spec/status split).
 */
export interface StorageView extends ApiObject { apiVersion?: string; kind?: string; status?: unknown }
