import type { KubeObject } from '../lib/client';
import { objectKey, type Informer } from '../lib/informer';
import { Controller, type ReconcileResult } from '../lib/reconcile/controller';
import type { ControllerContext, RunnableController } from './context';

/**
 * The wiring every controller of the controller manager shares: one Controller
 * (work queue and workers) whose keys go to `reconcile`, started after the
 * informers synced and stopped on shutdown. A subclass registers its informer
 * handlers in its constructor and implements `reconcile`.
 */
export abstract class QueueController implements RunnableController {
  readonly controller: Controller;

  constructor(readonly name: string, protected readonly ctx: ControllerContext, workers: number) {
    this.controller = new Controller({
      name,
      reconcile: (k) => this.reconcile(k),
      workers,
      logger: ctx.logger,
      metrics: ctx.metrics,
      recorder: ctx.recorder,
      objectFor: (k) => this.objectFor(k),
    });
  }

  abstract reconcile(key: string): Promise<ReconcileResult | void>;

  /**
   * The object a key names, with apiVersion and kind, on which a terminal
   * reconcile failure is recorded as an event. None by default.
   */
  protected objectFor(_key: string): KubeObject | undefined {
    return undefined;
  }

  start(): void {
    this.controller.start();
  }

  stop(): Promise<void> {
    return this.controller.stop();
  }

  /** Enqueues an object's own key (`namespace/name`) on the given informer events. */
  protected enqueueOwnKey<T extends KubeObject>(informer: Informer<T>, on: readonly ('add' | 'update' | 'delete')[] = ['add', 'update', 'delete']): void {
    const enqueue = (o: T) => this.controller.enqueue(objectKey(o));
    informer.on({
      add: on.includes('add') ? enqueue : undefined,
      update: on.includes('update') ? (_old, o) => enqueue(o) : undefined,
      delete: on.includes('delete') ? enqueue : undefined,
    });
  }
}
