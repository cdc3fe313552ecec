import type { NodeId } from './types';

/**
 * A single-server membership change (Raft dissertation §4.1): add or remove one
 * voter at a time, so any majority of the old configuration overlaps any majority
 * of the new one and no joint consensus is needed. Carried in 'ConfChange' log
 * entries as UTF-8 JSON. `context` is opaque to the core (the store puts the
 * member's name and peer URLs there).
 *
 * 'UpdateNode' changes nothing in the core (the store uses it to change a
 * member's peer URLs through the log).
 */
export type ConfChangeType = 'AddNode' | 'RemoveNode' | 'UpdateNode';

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  context: string;
}

const TYPES = new Set<ConfChangeType>(['AddNode', 'RemoveNode', 'UpdateNode']);

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return Buffer.from(JSON.stringify({ type: cc.type, nodeId: cc.nodeId, context: cc.context }), 'utf8');
}

/** Decode, or undefined if malformed (applied as a no-op on every member alike). */
export function decodeConfChange(data: Uint8Array): ConfChange | undefined {
  try {
    const v = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as Partial<ConfChange>;
    if (!v || !TYPES.has(v.type as ConfChangeType) || typeof v.nodeId !== 'string' || v.nodeId === '') return undefined;
    return { type: v.type as ConfChangeType, nodeId: v.nodeId, context: typeof v.context === 'string' ? v.context : '' };
  } catch {
    return undefined;
  }
}
