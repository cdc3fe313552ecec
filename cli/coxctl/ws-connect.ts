import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { ApiError, type ApiClient } from '../../lib/client';

/**
 * Opens a WebSocket to the apiserver at `path` (with `query`) with the kubeconfig's credentials,
 * offering `protocols`. Resolves once open; rejects with an ApiError carrying the server's
 * Status when it answers the upgrade with an error (e.g. 404 for a missing pod).
 */
export function connectWs(client: ApiClient, path: string, query: [string, string][], protocols: string[]): Promise<WebSocket> {
  const url = new URL(path, client.server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [k, v] of query) url.searchParams.append(k, v);
  const c = client.config;
  const headers: Record<string, string> = {};
  if (c.token) headers.Authorization = `Bearer ${c.token}`;
  const ws = new WebSocket(url, protocols, {
    ca: c.ca,
    cert: c.cert,
    key: c.key,
    rejectUnauthorized: !c.insecureSkipTLSVerify,
    headers,
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.off('error', reject);
      resolve(ws);
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        reject(statusError(res.statusCode ?? 0, text));
        ws.terminate();
      });
    });
  });
}

function statusError(code: number, body: string): ApiError {
  try {
    const s = JSON.parse(body) as Record<string, unknown>;
    if (s?.kind === 'Status') return new ApiError(code, String(s.reason ?? ''), String(s.message ?? ''), s);
  } catch {
    // not a Status
  }
  return new ApiError(code, '', body.trim() || `HTTP ${code}`);
}
