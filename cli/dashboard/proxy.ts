/**
 * Forwards a browser's request to the apiserver with the kubeconfig's
 * credentials, as `kubectl proxy` does: plain requests and streams (watches,
 * followed logs) are piped both ways, and WebSocket upgrades (exec) become a
 * raw two-way pipe after the apiserver's 101. The browser's own credentials,
 * cookies and Origin are never passed on.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { ClientConfig } from '../../lib/kubeconfig';

/** Request headers that stay here: hop-by-hop, the browser's identity, and its view of this server. */
const DROP_REQUEST = new Set([
  'host', 'authorization', 'cookie', 'origin', 'referer', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'impersonate-user', 'impersonate-group', 'impersonate-uid',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'set-cookie']);

export class ApiProxy {
  private readonly server: URL;
  private readonly agent: http.Agent;
  private readonly tls: https.AgentOptions;

  constructor(private readonly config: ClientConfig) {
    this.server = new URL(config.server);
    this.tls = { ca: config.ca, cert: config.cert, key: config.key, rejectUnauthorized: !config.insecureSkipTLSVerify };
    this.agent = this.server.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 256, ...this.tls }) : new http.Agent({ keepAlive: true, maxSockets: 256 });
  }

  private upstreamOptions(req: http.IncomingMessage, upgrade: boolean): https.RequestOptions {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || DROP_REQUEST.has(k) || k.startsWith('sec-fetch-') || k.startsWith('sec-ch-')) continue;
      if (!upgrade && k.startsWith('sec-websocket-')) continue;
      headers[k] = v;
    }
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    if (upgrade) {
      headers.connection = 'Upgrade';
      headers.upgrade = req.headers.upgrade ?? 'websocket';
    }
    const base = { protocol: this.server.protocol, hostname: this.server.hostname, port: this.server.port, method: req.method, path: req.url, headers };
    // An upgraded socket leaves the pool for good: give it its own connection.
    return upgrade ? { ...base, ...this.tls, agent: false } : { ...base, agent: this.agent };
  }

  private request(opts: https.RequestOptions): http.ClientRequest {
    return this.server.protocol === 'https:' ? https.request(opts) : http.request(opts);
  }

  /** Pipes one HTTP request to the apiserver and its answer back (streaming, until either side closes). */
  forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const up = this.request(this.upstreamOptions(req, false));
    up.on('response', (answer) => {
      const headers: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !DROP_RESPONSE.has(k)) headers[k] = v;
      res.writeHead(answer.statusCode ?? 502, headers);
      res.flushHeaders();
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    up.on('error', (err) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 502, reason: 'BadGateway', message: `the apiserver at ${this.server.origin} did not answer: ${err.message}` }));
    });
    // The browser went away (a watch or a followed log closed): stop the upstream stream too.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  /** Handles a WebSocket upgrade: the apiserver's 101 and every byte after it go back to `socket`, and the other way. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const up = this.request(this.upstreamOptions(req, true));
    socket.on('error', () => up.destroy());
    up.on('upgrade', (answer, upstream, upstreamHead) => {
      const lines = [`HTTP/1.1 ${answer.statusCode ?? 101} ${answer.statusMessage ?? 'Switching Protocols'}`];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
      if (upstreamHead.length) socket.write(upstreamHead);
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
      upstream.on('error', () => socket.destroy());
      upstream.on('close', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
    });
    // No upgrade (403, 404, 400): hand the apiserver's answer back as a plain response.
    up.on('response', (answer) => {
      const lines = [`HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}`];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        const k = answer.rawHeaders[i]!.toLowerCase();
        if (!DROP_RESPONSE.has(k) && k !== 'content-length') lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const body = Buffer.concat(chunks);
        socket.end(Buffer.concat([Buffer.from(lines.join('\r\n') + `\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`), body]));
      });
    });
    up.on('error', (err) => {
      const body = `the apiserver did not answer: ${err.message}`;
      socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
    up.end();
  }

  /** A GET of `path` with the proxy's credentials, for the watch relay; the caller reads or destroys the answer. */
  get(path: string): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const up = this.request({ protocol: this.server.protocol, hostname: this.server.hostname, port: this.server.port, method: 'GET', path, headers: { accept: 'application/json', ...(this.config.token ? { authorization: `Bearer ${this.config.token}` } : {}) }, agent: this.agent });
      up.on('response', resolve);
      up.on('error', reject);
      up.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
