/**
 * The store's error catalogue. Each error has a gRPC status code and etcd's exact
 * description: etcd clients (clientv3, etcdctl, the npm etcd3 client) map errors by
 * comparing the description text, so these strings are part of the wire contract
 * (etcd v3.4 etcdserver/api/v3rpc/rpctypes). Callers branch on `code`/`name`,
 * never on message text.
 */

/** gRPC status codes (grpc/status.h). Kept here so the pure core does not import grpc. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
} as const;

const catalogue = {
  EmptyKey: [GrpcCode.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
  KeyNotFound: [GrpcCode.INVALID_ARGUMENT, 'etcdserver: key not found'],
  ValueProvided: [GrpcCode.INVALID_ARGUMENT, 'etcdserver: value is provided'],
  LeaseProvided: [GrpcCode.INVALID_ARGUMENT, 'etcdserver: lease is provided'],
  TooManyOps: [GrpcCode.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'],
  DuplicateKey: [GrpcCode.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'],
  Compacted: [GrpcCode.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
  FutureRev: [GrpcCode.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'],
  LeaseNotFound: [GrpcCode.NOT_FOUND, 'etcdserver: requested lease not found'],
  LeaseExist: [GrpcCode.FAILED_PRECONDITION, 'etcdserver: lease already exists'],
  LeaseTTLTooLarge: [GrpcCode.OUT_OF_RANGE, 'etcdserver: too large lease TTL'],
  MemberNotFound: [GrpcCode.NOT_FOUND, 'etcdserver: member not found'],
  MemberExist: [GrpcCode.FAILED_PRECONDITION, 'etcdserver: member ID already exist'],
  PeerURLExist: [GrpcCode.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'],
  Unhealthy: [GrpcCode.UNAVAILABLE, 'etcdserver: unhealthy cluster'],
  NotEnoughStartedMembers: [GrpcCode.FAILED_PRECONDITION, 'etcdserver: re-configuration failed due to not enough started members'],
  MemberNotLearner: [GrpcCode.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'],
  BadLeaderTransferee: [GrpcCode.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'],
  TimeoutLeaderTransfer: [GrpcCode.UNAVAILABLE, 'etcdserver: request timed out, leader transfer took too long'],
  RequestTooLarge: [GrpcCode.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  TooManyRequests: [GrpcCode.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'],
  NoLeader: [GrpcCode.UNAVAILABLE, 'etcdserver: no leader'],
  NotLeader: [GrpcCode.FAILED_PRECONDITION, 'etcdserver: not leader'],
  LeaderChanged: [GrpcCode.UNAVAILABLE, 'etcdserver: leader changed'],
  Stopped: [GrpcCode.UNAVAILABLE, 'etcdserver: server stopped'],
  Timeout: [GrpcCode.UNAVAILABLE, 'etcdserver: request timed out'],
  TimeoutDueToLeaderFail: [GrpcCode.UNAVAILABLE, 'etcdserver: request timed out, possibly due to previous leader failure'],
  NotCapable: [GrpcCode.UNAVAILABLE, 'etcdserver: not capable'],
  Unimplemented: [GrpcCode.UNIMPLEMENTED, 'etcdserver: not implemented by coxswain store'],
  InvalidArgument: [GrpcCode.INVALID_ARGUMENT, 'etcdserver: invalid argument'],
} as const satisfies Record<string, readonly [number, string]>;

export type EtcdErrorName = keyof typeof catalogue;

export class EtcdError extends Error {
  readonly code: number;
  constructor(
    readonly errorName: EtcdErrorName,
    detail?: string,
  ) {
    super(detail ? `${catalogue[errorName][1]}: ${detail}` : catalogue[errorName][1]);
    this.name = 'EtcdError';
    this.code = catalogue[errorName][0];
  }
}

/** The catalogue entry whose etcd text is exactly `message`, if any (errors relayed between members). */
export function etcdErrorByMessage(message: string | undefined): EtcdError | undefined {
  for (const [name, [, text]] of Object.entries(catalogue)) {
    if (text === message) return new EtcdError(name as EtcdErrorName);
  }
  return undefined;
}
