export function parsePort(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port ${JSON.stringify(s)}`);
  return n;
}
