/**
 * Watches for the page over WebSockets: `/watch?path=<collection path with
 * watch=1>` opens the apiserver's watch (an HTTP stream) with the proxy's
 * credentials and sends each watch event line as one text message; the
 * socket closes when the watch ends, and the watch when the socket closes.
 *
 * Why: a browser opens at most six HTTP/1.1 connections to one host, and a
 * page with ten live lists would hold them all with watch streams, leaving
 * none for a click. WebSockets do not count against that limit.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiProxy } from './proxy';

export const WATCH_RELAY_PATH = '/watch';

/** Whether `target` is a watch of an API collection ("/api/v1/pods?watch=1&..."); nothing else is relayed. */
export function isWatchPath(target: string): boolean {
  if (!/^\/(api|apis)\/[^?#]*\?/.test(target)) return false;
  const q = new URLSearchParams(target.slice(target.indexOf('?') + 1));
  return q.get('watch') === '1' || q.get('watch') === 'true';
}

export class WatchRelay {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  constructor(private readonly proxy: ApiProxy) {}

  /** Takes over an upgrade request for WATCH_RELAY_PATH; answers 400 when `path` is not a watch. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = new URL(req.url ?? '', 'http://localhost').searchParams.get('path') ?? '';
    if (!isWatchPath(target)) {
      return void socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\npath must be an /api or /apis collection with watch=1\n`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.relay(ws, target));
  }

  private async relay(ws: WebSocket, target: string): Promise<void> {
    let answer: http.IncomingMessage;
    try {
      answer = await this.proxy.get(target);
    } catch (err) {
      ws.send(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', code: 502, message: `the apiserver did not answer: ${(err as Error).message}` } }));
      return void ws.close(1011);
    }
    ws.on('close', () => answer.destroy());
    if (answer.statusCode !== 200) {
      // A refused or expired watch: its Status as an ERROR event, as a watch stream would send it.
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        let status: unknown;
        try {
          status = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          status = { kind: 'Status', status: 'Failure', code: answer.statusCode, message: Buffer.concat(chunks).toString('utf8').slice(0, 500) };
        }
        ws.send(JSON.stringify({ type: 'ERROR', object: status }));
        ws.close(1000);
      });
      return;
    }
    let buf = '';
    answer.setEncoding('utf8');
    answer.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) ws.send(line);
      }
    });
    answer.on('end', () => ws.close(1000));
    answer.on('error', () => ws.close(1011));
  }

  close(): void {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }
}
