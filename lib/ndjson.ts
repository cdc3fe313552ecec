import { StringDecoder } from 'node:string_decoder';

/**
 * The non-empty lines of a newline-delimited stream (Kubernetes watch bodies,
 * Docker's event stream), trimmed. UTF-8 is decoded across chunk boundaries,
 * so a multi-byte character split between two chunks arrives whole. A last
 * line without its newline is yielded when the stream ends.
 */
export async function* ndjsonLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield line;
    }
  }
  const rest = (buf + decoder.end()).trim();
  if (rest) yield rest;
}
