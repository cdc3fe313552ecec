/**
 * The HTTP side of kubectl's SPDY port-forward: the plain upgrade (`Connection: Upgrade`,
 * `Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version: portforward.k8s.io`) and the WebSocket
 * subprotocol that tunnels the same SPDY bytes in binary messages.
 */

export const SPDY_UPGRADE = 'SPDY/3.1';
export const SPDY_PORTFORWARD_PROTOCOL = 'portforward.k8s.io';
/** The WebSocket subprotocol of SPDY tunnelled in WebSocket messages, for port-forward. */
export const SPDY_TUNNEL_PROTOCOL = `${SPDY_UPGRADE}+${SPDY_PORTFORWARD_PROTOCOL}`;

/**
 * Whether the client's X-Stream-Protocol-Version values (repeated or comma-separated)
 * include `protocol`. A client that names none is taken to speak it.
 */
export function acceptsStreamProtocol(header: string | string[] | undefined, protocol: string): boolean {
  const offered = (Array.isArray(header) ? header : header === undefined ? [] : [header])
    .flatMap((h) => h.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  return offered.length === 0 || offered.includes(protocol);
}

/** The 101 response that switches the connection to SPDY with the agreed stream protocol. */
export function switchingToSpdy(protocol: string): string {
  return `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${SPDY_UPGRADE}\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`;
}
