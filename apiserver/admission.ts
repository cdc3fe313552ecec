import type { ResourceDef } from './groups/types';

/** An admission plugin (ResourceStorageDeps.admit on create): may mutate `obj` or throw an ApiError. */
export interface AdmissionPlugin {
  /** `opts.dryRun`: decide (and mutate) only; write nothing of one's own (the quota charge). */
  admit?(def: ResourceDef, ns: string | undefined, obj: unknown, opts?: AdmissionOptions): Promise<void>;
  /** The same on a full update (PUT), for plugins Kubernetes also runs on update; synchronous, inside the write's retry loop; `old` as stored. */
  admitUpdate?(def: ResourceDef, ns: string | undefined, next: unknown, old: unknown): void;
  /**
   * Validating admission of an update (PUT or PATCH of the object itself; subresources are
   * not admitted), after the kind's validation and inside the write's retry loop: `old` is
   * the object as stored, `next` what would replace it. Throws an ApiError to refuse.
   */
  validateUpdate?(def: ResourceDef, ns: string | undefined, next: unknown, old: unknown, opts?: AdmissionOptions): Promise<void>;
}

export interface AdmissionOptions {
  dryRun?: boolean;
}

/**
 * The admission chain ResourceStorage calls on create: the registered plugins in order.
 * Built empty before the storage, because its plugins (ServiceAccount admission) read the
 * storage they admit into; they are registered once built, before the server serves.
 */
export class AdmissionChain {
  private readonly plugins: AdmissionPlugin[] = [];

  register(plugin: AdmissionPlugin): void {
    this.plugins.push(plugin);
  }

  readonly admit = async (def: ResourceDef, ns: string | undefined, obj: unknown, opts?: AdmissionOptions): Promise<void> => {
    for (const p of this.plugins) await p.admit?.(def, ns, obj, opts);
  };

  readonly admitUpdate = (def: ResourceDef, ns: string | undefined, next: unknown, old: unknown): void => {
    for (const p of this.plugins) p.admitUpdate?.(def, ns, next, old);
  };

  readonly validateUpdate = async (def: ResourceDef, ns: string | undefined, next: unknown, old: unknown, opts?: AdmissionOptions): Promise<void> => {
    for (const p of this.plugins) await p.validateUpdate?.(def, ns, next, old, opts);
  };
}
