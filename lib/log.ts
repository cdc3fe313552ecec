import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The one way a Coxswain process gets a logger: structured JSON, one line per
 * event, to stderr (stdout stays free for command output). The level comes from
 * COXSWAIN_LOG_LEVEL (default "info"). Never pass secrets (tokens, keys, Secret
 * data) as log fields; `redact` drops the common ones as a safety net.
 */
export function createLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      name: component,
      level: process.env.COXSWAIN_LOG_LEVEL ?? 'info',
      base: { component, pid: process.pid, ...bindings },
      redact: {
        paths: ['authorization', 'headers.authorization', 'req.headers.authorization', '*.token', '*.data', 'privateKey', '*.privateKey'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
