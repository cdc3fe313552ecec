import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { RegisterInput, RegisterOp, RegisterOutput } from '../../store/check/register';
import type { PutResponse, RangeResponse, TxnResponse, WatchResponse } from '../../bench/lib/etcd-client';

/**
 * The register workload of the nemesis test: concurrent clients doing get / put / cas on a few
 * keys over the etcd v3 gRPC API, recording every operation with its invocation and completion
 * time (ms since the workload started) and its result.
 *
 * - Each operation is ONE attempt against a random member (no retries, no failover): a follower
 *   forwards. A read that fails is dropped (a read has no effect); a write that fails in any way
 *   is recorded as indeterminate (no output, no return): it may or may not have taken effect.
 * - Every written value is unique (`<client>.<seq>`), as the checker requires.
 * - cas is `Txn(if value == expect | mod_revision == rev(expect) then put else range)`; the
 *   client expects the last value it saw for the key, so many cas succeed.
 * - Keys rotate: `activeKeys` keys are in use at a time and a key retires after `opsPerKey`
 *   operations, which keeps every per-key history small for the checker (as Jepsen does).
 */

export interface WorkloadOptions {
  endpoints: string[];
  prefix: string;
  clients?: number;
  activeKeys?: number;
  opsPerKey?: number;
  opTimeoutMs?: number;
  rng: () => number;
  /** Negative control only: serve gets from the member's local state (not linearizable). */
  serializableReads?: boolean;
}

type Client = grpc.Client & Record<string, (req: unknown, opts: grpc.CallOptions, cb: (err: Error | null, resp: unknown) => void) => void>;
type WatchClient = grpc.Client & { Watch(): grpc.ClientDuplexStream<unknown, WatchResponse> };
type Services = Record<'KV' | 'Watch', grpc.ServiceClientConstructor>;

let pkgCache: Services | undefined;
function etcdPkg(): Services {
  if (!pkgCache) {
    const dir = path.resolve(__dirname, '../../../store/proto');
    const def = protoLoader.loadSync(path.join(dir, 'etcd.proto'), { keepCase: true, longs: String, bytes: Buffer, defaults: true, oneofs: true, includeDirs: [dir] });
    pkgCache = grpc.loadPackageDefinition(def).etcdserverpb as unknown as Services;
  }
  return pkgCache;
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

/** Prefix range end, as etcd defines it. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const e = Buffer.from(b.subarray(0, i + 1));
      e[i]++;
      return e;
    }
  }
  return Buffer.from([0]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WriteEvent {
  key: string;
  value: string;
  modRev: number;
  type: 'PUT' | 'DELETE';
}

export class RegisterWorkload {
  readonly history: RegisterOp[] = [];
  /** Every value any client tried to write, by key. */
  readonly attempted = new Map<string, Set<string>>();
  /** Error texts of failed attempts, counted. */
  readonly errors = new Map<string, number>();
  readonly keysUsed: string[] = [];
  private readonly t0 = performance.now();
  private readonly kv: Client[];
  private readonly opts: Required<Omit<WorkloadOptions, 'endpoints' | 'prefix' | 'rng'>>;
  private readonly active: string[] = [];
  private readonly opsOnKey = new Map<string, number>();
  private nextKey = 0;
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly w: WorkloadOptions) {
    const pb = etcdPkg();
    this.kv = w.endpoints.map((ep) => new pb.KV(ep, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as Client);
    this.opts = { clients: 8, activeKeys: 3, opsPerKey: 300, opTimeoutMs: 3000, serializableReads: false, ...w };
    for (let i = 0; i < this.opts.activeKeys; i++) this.active.push(this.newKey());
  }

  now(): number {
    return performance.now() - this.t0;
  }

  private newKey(): string {
    const k = `${this.w.prefix}/k${String(this.nextKey++).padStart(4, '0')}`;
    this.keysUsed.push(k);
    this.opsOnKey.set(k, 0);
    return k;
  }

  private pickKey(): string {
    const i = Math.floor(this.w.rng() * this.active.length);
    const k = this.active[i];
    const n = this.opsOnKey.get(k)! + 1;
    this.opsOnKey.set(k, n);
    if (n >= this.opts.opsPerKey) this.active[i] = this.newKey();
    return k;
  }

  /** Calls `method` on member `ep`'s KV stub; the caller names the response message type. */
  private unary<T>(ep: number, method: string, req: unknown, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      this.kv[ep][method](req, { deadline: Date.now() + timeoutMs }, (err, resp) => (err ? reject(err) : resolve(resp as T)));
    });
  }

  start(): void {
    for (let c = 0; c < this.opts.clients; c++) this.loops.push(this.client(c));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** Ops completed (with an output) so far. */
  completed(): number {
    return this.history.reduce((n, op) => n + (op.output ? 1 : 0), 0);
  }

  private async client(c: number): Promise<void> {
    const rng = this.w.rng;
    const seen = new Map<string, { value: string | null; modRev: number }>();
    let seq = 0;
    while (!this.stopped) {
      const key = this.pickKey();
      const ep = Math.floor(rng() * this.kv.length);
      const r = rng();
      const value = `${c}.${seq++}`;
      const known = seen.get(key) ?? { value: null, modRev: 0 };
      let input: RegisterInput;
      if (r < 0.4) input = { f: 'get', key };
      else if (r < 0.7) input = { f: 'put', key, value };
      else input = { f: 'cas', key, expect: known.value, value, by: known.value === null || rng() < 0.5 ? 'mod' : 'value' };
      if (input.f !== 'get') {
        const set = this.attempted.get(key) ?? new Set<string>();
        set.add(value);
        this.attempted.set(key, set);
      }
      const op: RegisterOp = { client: c, input, call: this.now() };
      this.history.push(op);
      try {
        const out = await this.invoke(ep, input, known.modRev);
        op.ret = this.now();
        op.output = out;
        if (input.f === 'get' || (input.f === 'cas' && !out.ok)) seen.set(key, { value: out.value ?? null, modRev: out.modRev ?? 0 });
        else if (out.rev !== undefined) seen.set(key, { value: (input as { value: string }).value, modRev: out.rev });
      } catch (e) {
        const text = `${(e as grpc.ServiceError).code ?? ''} ${(e as grpc.ServiceError).details ?? (e as Error).message}`.trim();
        this.errors.set(text, (this.errors.get(text) ?? 0) + 1);
        await sleep(10 + rng() * 40);
      }
    }
  }

  private async invoke(ep: number, input: RegisterInput, expectRev: number, serializable = this.opts.serializableReads): Promise<RegisterOutput> {
    const key = Buffer.from(input.key);
    const t = this.opts.opTimeoutMs;
    if (input.f === 'get') {
      const r = await this.unary<RangeResponse>(ep, 'Range', { key, serializable }, t);
      const kv = r.kvs[0];
      return { value: kv ? kv.value.toString() : null, modRev: kv ? Number(kv.mod_revision) : 0, rev: Number(r.header.revision) };
    }
    if (input.f === 'put') {
      const r = await this.unary<PutResponse>(ep, 'Put', { key, value: Buffer.from(input.value) }, t);
      return { rev: Number(r.header.revision) };
    }
    const compare = input.by === 'value' && input.expect !== null
      ? { result: 'EQUAL', target: 'VALUE', key, value: Buffer.from(input.expect) }
      : { result: 'EQUAL', target: 'MOD', key, mod_revision: String(input.expect === null ? 0 : expectRev) };
    const r = await this.unary<TxnResponse>(ep, 'Txn', {
      compare: [compare],
      success: [{ request_put: { key, value: Buffer.from(input.value) } }],
      failure: [{ request_range: { key } }],
    }, t);
    if (r.succeeded) return { ok: true, rev: Number(r.header.revision) };
    const kv = r.responses[0]?.response_range?.kvs?.[0];
    return { ok: false, value: kv ? kv.value.toString() : null, modRev: kv ? Number(kv.mod_revision) : 0, rev: Number(r.header.revision) };
  }

  /**
   * After the faults: a linearizable read of every key used, recorded in the history (client
   * -1), retried on other members until it answers. Returns the highest header revision seen.
   */
  async finalReads(timeoutMs = 30_000): Promise<number> {
    let maxRev = 0;
    const deadline = Date.now() + timeoutMs;
    for (const key of this.keysUsed) {
      for (let attempt = 0; ; attempt++) {
        const op: RegisterOp = { client: -1, input: { f: 'get', key }, call: this.now() };
        try {
          op.output = await this.invoke(attempt % this.kv.length, op.input, 0, false);
          op.ret = this.now();
          this.history.push(op);
          maxRev = Math.max(maxRev, op.output.rev ?? 0);
          break;
        } catch (e) {
          if (Date.now() > deadline) throw new Error(`final read of ${key} failed: ${(e as Error).message}`);
          await sleep(100);
        }
      }
    }
    return maxRev;
  }

  /** Serializable (member-local) view of the prefix on member `ep`: key → value@mod_revision, and its revision. */
  async localView(ep: number): Promise<{ rev: number; kvs: Map<string, string> }> {
    const r = await this.unary<RangeResponse>(ep, 'Range', { key: Buffer.from(this.w.prefix + '/'), range_end: prefixEnd(this.w.prefix + '/'), serializable: true }, 5000);
    return { rev: Number(r.header.revision), kvs: new Map(r.kvs.map((kv) => [kv.key.toString(), `${kv.value.toString()}@${kv.mod_revision}`])) };
  }

  /**
   * Every write event under the prefix from revision 1, via a Watch on member `ep`: puts a
   * sentinel key and collects events until the sentinel arrives.
   */
  async allWrites(ep: number, timeoutMs = 30_000): Promise<WriteEvent[]> {
    const pb = etcdPkg();
    const watch = new pb.Watch(this.w.endpoints[ep], grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as WatchClient;
    const sentinel = `${this.w.prefix}/~end`;
    const events: WriteEvent[] = [];
    try {
      return await new Promise<WriteEvent[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`watch did not deliver the sentinel within ${timeoutMs} ms (${events.length} events)`)), timeoutMs);
        const stream = watch.Watch();
        stream.on('error', (e: Error) => { clearTimeout(timer); reject(e); });
        stream.on('data', (resp: WatchResponse) => {
          if (resp.canceled) { clearTimeout(timer); reject(new Error(`watch canceled: ${resp.cancel_reason}`)); return; }
          if (resp.created) {
            this.unary(ep, 'Put', { key: Buffer.from(sentinel), value: Buffer.from('end') }, 10_000).catch((e) => { clearTimeout(timer); reject(e); });
          }
          for (const e of resp.events ?? []) {
            const key = e.kv.key.toString();
            if (key === sentinel) {
              clearTimeout(timer);
              stream.cancel();
              resolve(events);
              return;
            }
            events.push({ key, value: e.kv.value.toString(), modRev: Number(e.kv.mod_revision), type: e.type === 'DELETE' || e.type === 1 ? 'DELETE' : 'PUT' });
          }
        });
        stream.write({ create_request: { key: Buffer.from(this.w.prefix + '/'), range_end: prefixEnd(this.w.prefix + '/'), start_revision: '1' } });
      });
    } finally {
      watch.close();
    }
  }

  close(): void {
    for (const c of this.kv) c.close();
  }
}
