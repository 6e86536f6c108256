// `INFO memory` of the hub's Redis, over a plain socket (one command, bounded by a timeout): the
// capacity phase reports Redis memory per idle session next to the hub's RSS per CLI.
import { connect } from 'node:net';

/** `used_memory` in bytes, or null when Redis did not answer within `timeoutMs`. */
export function redisUsedMemory(redisUrl: string, timeoutMs = 3_000): Promise<number | null> {
  const url = new URL(redisUrl);
  const password = url.password ? decodeURIComponent(url.password) : null;
  const user = url.username ? decodeURIComponent(url.username) : null;
  return new Promise((resolve) => {
    let buffer = '';
    let settled = false;
    const socket = connect({ host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) });
    const done = (value: number | null): void => {
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
      socket.write(command('INFO', 'memory'));
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const match = /used_memory:(\d+)\r\n/.exec(buffer);
      if (match) done(Number(match[1]));
      else if (buffer.length > 1_000_000) done(null);
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
  });
}
