// The primary's request-line scanner (cluster/request-line.ts) and the slot-naming session ids
// (cluster/session-id.ts), on their own: chunk boundaries anywhere, bounded, garbage refused.
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_LINE_BYTES, RequestLineScanner } from '../../src/cluster/request-line.js';
import { ENGINE_IO_PATH, sessionIdForSlot, sessionIdOfTarget, slotOfSessionId } from '../../src/cluster/session-id.js';

function scanInChunks(text: string, size: number): ReturnType<RequestLineScanner['feed']>[] {
  const scanner = new RequestLineScanner();
  const results: ReturnType<RequestLineScanner['feed']>[] = [];
  const bytes = Buffer.from(text, 'latin1');
  for (let at = 0; at < bytes.length; at += size) {
    const result = scanner.feed(bytes.subarray(at, at + size));
    results.push(result);
    if (result.kind !== 'more') break;
  }
  return results;
}

describe('RequestLineScanner', () => {
  const request = 'GET /socket.io/?EIO=4&transport=polling&sid=1.abc HTTP/1.1\r\nHost: x\r\n\r\n';

  it('finds the target whatever the chunk size, and answers as soon as the line ends', () => {
    for (const size of [1, 2, 3, 7, 16, 64, 1024]) {
      const results = scanInChunks(request, size);
      expect(results.at(-1)).toEqual({ kind: 'line', target: '/socket.io/?EIO=4&transport=polling&sid=1.abc' });
      expect(results.slice(0, -1).every((r) => r.kind === 'more')).toBe(true);
      // Bytes up to the LF of the request line were needed, not more.
      expect(results.length).toBe(Math.ceil(request.indexOf('\n') / size + 1 / size));
    }
  });

  it('accepts empty lines before the request, a bare LF and HTTP/1.0', () => {
    expect(scanInChunks('\r\nPOST /a HTTP/1.0\n', 1).at(-1)).toEqual({ kind: 'line', target: '/a' });
  });

  it('refuses what cannot be an HTTP/1.x request line, at the first byte that shows it', () => {
    for (const bad of [
      '\x16\x03\x01',
      'GET  / HTTP/1.1\r\n',
      'GET / HTTX',
      'GET /\tx HTTP/1.1',
      'G(T / HTTP/1.1',
      'GET / HTTP/1.1\rx',
      'PRI * HTTP/2.0\r\n'.replace('2.0', '2x0'),
    ]) {
      expect(scanInChunks(bad, 1).at(-1), JSON.stringify(bad)).toEqual({ kind: 'bad' });
    }
    expect(scanInChunks(`${'A'.repeat(25)} / HTTP/1.1\r\n`, 4).at(-1)).toEqual({ kind: 'bad' });
  });

  it(`gives up on a line longer than ${MAX_REQUEST_LINE_BYTES} bytes`, () => {
    const results = scanInChunks(`GET /${'a'.repeat(MAX_REQUEST_LINE_BYTES)}`, 1000);
    expect(results.at(-1)).toEqual({ kind: 'bad' });
    expect(results.length).toBe(Math.ceil(MAX_REQUEST_LINE_BYTES / 1000));
  });
});

describe('session ids naming their worker', () => {
  it('are URL-safe, longer than 20 characters, and name their slot', () => {
    for (const slot of [0, 1, 7, 255]) {
      const sid = sessionIdForSlot(slot);
      expect(sid).toMatch(/^\d+\.[A-Za-z0-9_-]{20}$/);
      expect(encodeURIComponent(sid)).toBe(sid);
      expect(slotOfSessionId(sid)).toBe(slot);
    }
    expect(sessionIdForSlot(3)).not.toBe(sessionIdForSlot(3));
    // engine.io's own ids (base64id) name no slot.
    expect(slotOfSessionId('a8fB-0Ct_9xQwe12Ab3d')).toBeNull();
  });

  it('are read from the sid parameter of engine.io targets only', () => {
    expect(sessionIdOfTarget(`${ENGINE_IO_PATH}?EIO=4&transport=polling&sid=2.xyz`, ENGINE_IO_PATH)).toBe('2.xyz');
    expect(sessionIdOfTarget(`${ENGINE_IO_PATH}?sid=0.a&t=1`, ENGINE_IO_PATH)).toBe('0.a');
    expect(sessionIdOfTarget(`${ENGINE_IO_PATH}?xsid=1.a&EIO=4`, ENGINE_IO_PATH)).toBeNull();
    expect(sessionIdOfTarget(`${ENGINE_IO_PATH}?xsid=1.a&sid=0.b`, ENGINE_IO_PATH)).toBe('0.b');
    expect(sessionIdOfTarget(`${ENGINE_IO_PATH}?EIO=4&transport=polling`, ENGINE_IO_PATH)).toBeNull();
    expect(sessionIdOfTarget('/api/sessions?sid=1.a', ENGINE_IO_PATH)).toBeNull();
  });
});
