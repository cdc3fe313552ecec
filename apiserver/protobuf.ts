import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { errors } from './errors';
import { rfc3339 } from '../lib/time';

/**
 * Protobuf request bodies (`application/vnd.kubernetes.protobuf`), which client-go 1.32's
 * typed clients send for built-in kinds (kubectl's imperative `create …`): the magic
 * `k8s\0`, then a runtime.Unknown whose typeMeta names the kind and whose raw bytes are the
 * object. Decoded with protobufjs from our own .proto descriptions (apiserver/proto/, a
 * subset of each message with Kubernetes' numbers) into the object's JSON form. Responses
 * stay JSON. Pure apart from loading the descriptions once.
 *
 * JSON form: Time → RFC 3339, IntOrString → number|string, Quantity → string, bytes →
 * base64, FieldsV1/RawExtension → their JSON, embedded structs inlined. Go's generated
 * marshallers write every non-pointer scalar, so zero values ("" / false / 0) are dropped as
 * `omitempty` would, except for the pointer fields in KEEP_ZERO where zero means something.
 */

const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const FILES = ['runtime.proto', 'meta.proto', 'intstr.proto', 'resource.proto', 'core.proto', 'apps.proto', 'batch.proto', 'authorization.proto', 'authentication.proto',
  'rbac.proto', 'policy.proto', 'policy-v1beta1.proto', 'networking.proto', 'certificates.proto', 'scheduling.proto'];

let root: protobuf.Root | undefined;
function protoRoot(): protobuf.Root {
  if (root) return root;
  const candidates = [path.join(__dirname, 'proto'), path.resolve(__dirname, '../../apiserver/proto')];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'core.proto')));
  if (!dir) throw new Error(`apiserver: cannot find proto/core.proto (looked in ${candidates.join(', ')})`);
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => path.join(dir, path.basename(target));
  r.loadSync(FILES.map((f) => path.join(dir, f)), { keepCase: true });
  r.resolveAll();
  return (root = r);
}

/** Protobuf message name of a kind: v1 Namespace → k8s.io.api.core.v1.Namespace. */
function messageName(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return `k8s.io.api.${group ? group.split('.')[0] : 'core'}.${version}.${kind}`;
}

const EMBEDDED = new Set([
  'k8s.io.api.core.v1.ConfigMapKeySelector.localObjectReference', 'k8s.io.api.core.v1.SecretKeySelector.localObjectReference',
  'k8s.io.api.core.v1.ConfigMapEnvSource.localObjectReference', 'k8s.io.api.core.v1.SecretEnvSource.localObjectReference',
  'k8s.io.api.core.v1.ConfigMapVolumeSource.localObjectReference', 'k8s.io.api.core.v1.Volume.volumeSource', 'k8s.io.api.core.v1.Probe.handler',
  'k8s.io.api.networking.v1.IngressRule.ingressRuleValue',
]);

/** Pointer fields (Go `*int32`, `*bool`, …) whose zero value is meaningful. */
const KEEP_ZERO = new Set([
  'replicas', 'parallelism', 'completions', 'backoffLimit', 'backoffLimitPerIndex', 'maxFailedIndexes', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished',
  'terminationGracePeriodSeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit',
  'startingDeadlineSeconds', 'deletionGracePeriodSeconds', 'runAsUser', 'runAsGroup', 'fsGroup', 'defaultMode', 'mode', 'priority', 'tolerationSeconds',
  'automountServiceAccountToken', 'enableServiceLinks', 'privileged', 'runAsNonRoot', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation', 'hostUsers',
  'allocateLoadBalancerNodePorts', 'suspend', 'manualSelector', 'immutable', 'optional', 'setHostnameAsFQDN', 'shareProcessNamespace',
  'controller', 'blockOwnerDeletion', 'gracePeriodSeconds',
]);

/** A protobufjs plain object (toObject's output): fields by name. */
type Plain = Record<string, unknown>;
const asPlain = (v: unknown): Plain => (typeof v === 'object' && v !== null ? (v as Plain) : {});

function timeToJSON(t: unknown): string | undefined {
  const p = asPlain(t);
  const s = Number(p.seconds ?? 0);
  if (!s && !p.nanos) return undefined;
  return rfc3339(s * 1000);
}

function isZero(v: unknown): boolean {
  return v === '' || v === false || v === 0;
}

/** protobufjs plain object of `type` → Kubernetes JSON. */
function toJSON(type: protobuf.Type, msg: Plain): Plain {
  const out: Plain = {};
  for (const field of type.fieldsArray) {
    const name = field.name;
    if (!(name in msg) || msg[name] === undefined || msg[name] === null) continue;
    const v = msg[name];
    const conv = (x: unknown) => convertValue(field, x);
    let value: unknown;
    if (field.map) {
      const entries = Object.entries(asPlain(v)).map(([k, x]) => [k, conv(x)]);
      if (entries.length === 0) continue;
      value = Object.fromEntries(entries);
    } else if (field.repeated) {
      const items = (v as unknown[]).map(conv);
      if (items.length === 0) continue;
      value = items;
    } else {
      value = conv(v);
      if (value === undefined) continue;
      if (isZero(value) && !KEEP_ZERO.has(name)) continue;
    }
    if (EMBEDDED.has(`${type.fullName.slice(1)}.${name}`) && value && typeof value === 'object') Object.assign(out, value);
    else out[name] = value;
  }
  return out;
}

function convertValue(field: protobuf.Field, v: unknown): unknown {
  const t = field.resolvedType;
  if (!(t instanceof protobuf.Type)) {
    if (field.type === 'bytes') return typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('base64');
    if (typeof v === 'object' && v !== null && 'low' in v) return Number(v); // a Long
    return v;
  }
  const p = asPlain(v);
  switch (t.fullName) {
    case '.k8s.io.apimachinery.pkg.apis.meta.v1.Time': return timeToJSON(v);
    case '.k8s.io.apimachinery.pkg.api.resource.Quantity': return p.string ?? '0';
    // user extra info (SubjectAccessReview, CSR spec.extra): a list of strings in JSON
    case '.k8s.io.api.authorization.v1.ExtraValue':
    case '.k8s.io.api.certificates.v1.ExtraValue': return Array.isArray(p.items) ? p.items : [];
    case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString': return Number(p.type ?? 0) === 1 ? p.strVal ?? '' : p.intVal ?? 0;
    case '.k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1':
    case '.k8s.io.apimachinery.pkg.runtime.RawExtension': {
      const raw = (p.Raw ?? p.raw) as Buffer | string | undefined;
      if (!raw || raw.length === 0) return undefined;
      try { return JSON.parse((typeof raw === 'string' ? Buffer.from(raw, 'base64') : Buffer.from(raw)).toString()); } catch { return undefined; }
    }
    default: return toJSON(t, p);
  }
}

/** runtime.Unknown, the envelope of every protobuf body. */
interface UnknownEnvelope { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Buffer; contentEncoding?: string }

/** Decode a `k8s\0`+Unknown body into the object in JSON form (with apiVersion and kind), unchecked. */
export function decodeProtobufObject(body: Buffer): Plain {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) throw errors.badRequest('protobuf body does not start with the k8s\\0 magic');
  const r = protoRoot();
  const Unknown = r.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  let env: UnknownEnvelope;
  try { env = Unknown.toObject(Unknown.decode(body.subarray(4)), { longs: Number, bytes: Buffer, defaults: false }); } catch (e) {
    throw errors.badRequest(`error decoding protobuf envelope: ${(e as Error).message}`);
  }
  const apiVersion = env.typeMeta?.apiVersion ?? '';
  const kind = env.typeMeta?.kind ?? '';
  if (env.contentEncoding) throw errors.unsupportedMediaType(`protobuf with contentEncoding ${env.contentEncoding}`);
  const type = r.lookup(messageName(apiVersion, kind));
  if (!(type instanceof protobuf.Type)) throw errors.unsupportedMediaType(`application/vnd.kubernetes.protobuf for ${apiVersion} ${kind} (send JSON)`);
  let msg: Plain;
  try { msg = type.toObject(type.decode(env.raw ?? Buffer.alloc(0)), { longs: Number, bytes: Buffer, defaults: false }); } catch (e) {
    throw errors.badRequest(`error decoding ${kind} protobuf: ${(e as Error).message}`);
  }
  return { apiVersion, kind, ...toJSON(type, msg) };
}

/** Encode `obj` (JSON form) as a protobuf body — the inverse, for tests and fixtures. */
export function encodeProtobufObject(apiVersion: string, kind: string, message: Record<string, unknown>): Buffer {
  const r = protoRoot();
  const type = r.lookupType(messageName(apiVersion, kind));
  const raw = type.encode(type.fromObject(message)).finish();
  const Unknown = r.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const env = Unknown.encode(Unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Buffer.concat([PROTOBUF_MAGIC, env]);
}
