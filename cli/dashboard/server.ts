/**
 * The dashboard's HTTP server: the bundled single-page UI from `uiDir`, and
 * /api, /apis and /version forwarded to the apiserver through `ApiProxy`, and
 * watches relayed over WebSockets on /watch (see watch-relay.ts). Every
 * request passes the cross-site guard first (see guard.ts).
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { allowedHostNames, checkRequest } from './guard';
import type { ApiProxy } from './proxy';
import { WATCH_RELAY_PATH, WatchRelay } from './watch-relay';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

/** The page may load only its own files and talk only to this server; no other site may frame it. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const API_PATH = /^\/(api|apis|version)(\/|\?|$)/;

export interface DashboardServerOptions {
  address: string;
  port: number;
  uiDir: string;
  proxy: ApiProxy;
  /** Called with one line per refused request. */
  onRefused?: (line: string) => void;
}

export interface DashboardServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function refuse(res: http.ServerResponse, reason: string): void {
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
  res.end(`dashboard: request refused: ${reason}\n`);
}

async function serveFile(uiDir: string, urlPath: string, res: http.ServerResponse): Promise<void> {
  const name = urlPath === '/' || urlPath === '/index.html' ? 'index.html' : urlPath.slice(1);
  // Only the bundle's own files (index.html, main.*, chunk-*): no folders, no dot files, no ../
  if (!/^(index\.html|(main|chunk-[A-Za-z0-9]+)\.(js|css)(\.map|\.LEGAL\.txt)?)$/.test(name) || !TYPES[path.extname(name)]) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
    return void res.end('not found\n');
  }
  let body: Buffer;
  try {
    body = await readFile(path.join(uiDir, name));
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
    return void res.end(name === 'index.html' ? `the dashboard's bundle is missing from ${uiDir}: run 'npm run build'\n` : 'not found\n');
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(name)]!, 'content-length': body.length, ...SECURITY_HEADERS });
  res.end(body);
}

/** Listens on `address:port` (port 0 picks one) and resolves once it does. */
export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const names = allowedHostNames(o.address);
  const relay = new WatchRelay(o.proxy);
  let port = o.port;
  const verdict = (req: http.IncomingMessage) => {
    const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
    return checkRequest({ host: req.headers.host, origin: one(req.headers.origin), secFetchSite: one(req.headers['sec-fetch-site']) }, names, port);
  };
  const server = http.createServer((req, res) => {
    const v = verdict(req);
    if (!v.ok) {
      o.onRefused?.(`dashboard: refused ${req.method} ${req.url}: ${v.reason}`);
      return refuse(res, v.reason);
    }
    const url = req.url ?? '/';
    if (API_PATH.test(url)) return o.proxy.forward(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      return void res.end('method not allowed\n');
    }
    serveFile(o.uiDir, url.split('?')[0]!, res).catch(() => res.destroy());
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const v = verdict(req);
    const relayed = (req.url ?? '').split('?')[0] === WATCH_RELAY_PATH;
    if (!v.ok || (!relayed && !API_PATH.test(req.url ?? ''))) {
      const reason = v.ok ? `only /api, /apis and ${WATCH_RELAY_PATH} upgrade` : v.reason;
      o.onRefused?.(`dashboard: refused upgrade ${req.url}: ${reason}`);
      return void socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\ndashboard: request refused: ${reason}\n`);
    }
    if (relayed) relay.upgrade(req, socket, head);
    else o.proxy.upgrade(req, socket, head);
  });
  // Streams (watches, logs) stay open as long as the page wants them.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address, () => resolve());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : o.port;
  const hostForUrl = o.address === '0.0.0.0' || o.address === '::' ? '127.0.0.1' : o.address.includes(':') ? `[${o.address}]` : o.address;
  return {
    url: `http://${hostForUrl}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        relay.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
