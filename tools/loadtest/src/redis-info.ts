// `INFO` of the hub's Redis, over a plain socket (one command, bounded by a timeout): the
// capacity phase reports Redis memory per idle session next to the hub's RSS per CLI, and
// bench:redis-cost reads command counts and CPU.
import { connect } from 'node:net';

/** `used_memory` in bytes, or null when Redis did not answer within `timeoutMs`. */
export async function redisUsedMemory(redisUrl: string, timeoutMs = 3_000): Promise<number | null> {
  const text = await redisInfo(redisUrl, 'memory', timeoutMs);
  const match = text === null ? null : /^used_memory:(\d+)\r?$/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** The text of `INFO <section>`, or null when Redis did not answer it within `timeoutMs`. */
export function redisInfo(redisUrl: string, section: string, timeoutMs = 3_000): Promise<string | null> {
  const url = new URL(redisUrl);
  const password = url.password ? decodeURIComponent(url.password) : null;
  const user = url.username ? decodeURIComponent(url.username) : null;
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    let settled = false;
    const socket = connect({ host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) });
    const done = (value: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    const command = (...args: string[]): string =>
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
    socket.on('connect', () => {
      if (password !== null) socket.write(user !== null ? command('AUTH', user, password) : command('AUTH', password));
      socket.write(command('INFO', section));
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      // The AUTH reply (`+OK`) may come first; INFO answers one bulk string, `$<length>\r\n<text>\r\n`.
      const text = buffer.toString('latin1');
      const header = /\$(\d+)\r\n/.exec(text);
      if (/^-|\r\n-/.test(text) || (!header && buffer.length > 1_000_000)) {
        done(null);
      } else if (header) {
        const start = header.index + header[0].length;
        const length = Number(header[1]);
        if (buffer.length >= start + length) done(buffer.toString('utf8', start, start + length));
      }
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
  });
}
