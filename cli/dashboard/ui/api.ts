/** Calls to the apiserver through the dashboard's own proxy (same origin, so no credentials in the page). */

/** A refused call, carrying the server's own message (a metav1.Status) to show the user. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const s = JSON.parse(text) as { kind?: string; message?: string; reason?: string };
    if (s.kind === 'Status') return new ApiError(res.status, s.reason ?? '', s.message ?? `HTTP ${res.status}`);
  } catch {
    // not JSON
  }
  return new ApiError(res.status, '', text.trim() || `HTTP ${res.status} ${res.statusText}`);
}

export async function api<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await errorFrom(res);
  return (await res.json()) as T;
}

/** Yields each line of a streamed response body as it arrives. */
export async function* lines(res: Response, signal: AbortSignal): AsyncGenerator<string> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const stop = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', stop);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        yield buf.slice(0, i);
        buf = buf.slice(i + 1);
      }
    }
    if (buf) yield buf;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
