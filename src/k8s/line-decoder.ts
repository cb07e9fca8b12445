import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines as it arrives, without holding more than
 * one partial line: a watch response is an endless chunked body with one JSON
 * event per line (Kubernetes api-concepts, "efficient detection of changes"),
 * so it must never be buffered whole. The StringDecoder keeps a multi-byte
 * UTF-8 character that straddles two chunks intact. Empty lines are skipped.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let tail = '';
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    if (text.length === 0) continue;
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl === -1) {
      tail += text;
      continue;
    }
    // The first line completes whatever partial line the last chunk left.
    let first = tail + text.slice(0, nl);
    tail = '';
    if (first.endsWith('\r')) first = first.slice(0, -1);
    if (first.length > 0) yield first;
    start = nl + 1;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      let line = text.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.length > 0) yield line;
      start = nl + 1;
    }
    tail = text.slice(start);
  }
  tail += decoder.end();
  if (tail.trim().length > 0) yield tail;
}
