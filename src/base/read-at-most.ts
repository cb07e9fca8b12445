import { open } from 'node:fs/promises';
import { NetletError } from './errors.ts';

/** A file past the size its reader accepts; callers say what the file is for and what to do. */
export class FileTooLargeError extends NetletError {
  readonly file: string;
  readonly size: number;
  readonly limit: number;

  constructor(file: string, size: number, limit: number) {
    super('ERR_FILE_TOO_LARGE', `${file}: ${size} bytes is more than the ${limit} it may have; not read`);
    this.file = file;
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The file's text, read only when it holds at most `maxBytes`: its size is
 * checked before the first byte is read (parsing costs several times the
 * text), and a file that grows meanwhile is cut at one byte past the limit
 * and refused the same. Throws FileTooLargeError.
 */
export async function readAtMost(file: string, maxBytes: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size > maxBytes) throw new FileTooLargeError(file, size, maxBytes);
    const buf = Buffer.allocUnsafe(Math.min(size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buf.length) {
        if (filled > maxBytes) throw new FileTooLargeError(file, filled, maxBytes);
        break;
      }
    }
    return buf.toString('utf8', 0, filled);
  } finally {
    await fh.close();
  }
}
