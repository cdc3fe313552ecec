import { createHash, randomInt } from 'node:crypto';

/**
 * Join tokens, in the spirit of k3s: `K10<sha256 hex of the CA bundle>::<id>.<secret>`.
 * The hash pins the cluster CA (as served at /cacerts, byte for byte), so a joining host
 * can check the CA before it sends the secret; `<id>.<secret>` is a Kubernetes bootstrap
 * token (Secret `bootstrap-token-<id>` in kube-system). Pure apart from the random numbers.
 */

export interface ParsedJoinToken {
  /** sha256 hex (64 lowercase digits) of the CA bundle PEM */
  caHash: string;
  /** `[a-z0-9]{6}` */
  id: string;
  /** `[a-z0-9]{16}` */
  secret: string;
}

const PREFIX = 'K10';
const ID = /^[a-z0-9]{6}$/;
const SECRET = /^[a-z0-9]{16}$/;
const HASH = /^[0-9a-f]{64}$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** The sha256 hex of a CA bundle, as a token pins it. */
export function caHash(caPem: string): string {
  return createHash('sha256').update(caPem, 'utf8').digest('hex');
}

export function formatJoinToken(caPem: string, id: string, secret: string): string {
  if (!ID.test(id)) throw new Error(`token id ${JSON.stringify(id)}: want 6 characters a-z or 0-9`);
  if (!SECRET.test(secret)) throw new Error('token secret: want 16 characters a-z or 0-9');
  return `${PREFIX}${caHash(caPem)}::${id}.${secret}`;
}

/** Parses a join token; throws an Error that names what is wrong (never echoes the secret). */
export function parseJoinToken(text: string): ParsedJoinToken {
  const t = text.trim();
  if (!t) throw new Error('the join token is empty');
  if (!t.startsWith(PREFIX)) {
    if (/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(t)) throw new Error('the join token has no CA hash: want K10<sha256 of the CA>::<id>.<secret> (`coxswain token create` prints one)');
    throw new Error('the join token does not start with K10: want K10<sha256 of the CA>::<id>.<secret>');
  }
  const sep = t.indexOf('::');
  if (sep < 0) throw new Error('the join token has no "::" between the CA hash and <id>.<secret>');
  const hash = t.slice(PREFIX.length, sep);
  if (!hash) throw new Error('the join token has no CA hash after K10');
  if (!HASH.test(hash)) throw new Error('the join token\'s CA hash is not 64 lowercase hex digits (sha256)');
  const cred = t.slice(sep + 2);
  const dot = cred.indexOf('.');
  if (dot < 0) throw new Error('the join token has no "." between the token id and the secret');
  const id = cred.slice(0, dot);
  const secret = cred.slice(dot + 1);
  if (!ID.test(id)) throw new Error(`the join token's id ${JSON.stringify(id)} is bad: want 6 characters a-z or 0-9`);
  if (!SECRET.test(secret)) throw new Error('the join token\'s secret is bad: want 16 characters a-z or 0-9');
  return { caHash: hash, id, secret };
}

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** A new bootstrap token id (6 characters a-z0-9, crypto random). */
export const newTokenId = (): string => randomString(6);
/** A new bootstrap token secret (16 characters a-z0-9, crypto random). */
export const newTokenSecret = (): string => randomString(16);
