// How values are written into Redis strings and read back. Lua scripts never parse JSON documents
// (cjson would round numbers to 14 digits and turn `[]` into `{}`); they only move the strings
// Node produced and compare numbers.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { JsonScalar, LiveFields, MessagePosition } from '../types.js';

/** Bodies above this size are deflated when that makes them smaller. */
const COMPRESS_ABOVE_BYTES = 8 * 1024;
/** JSON text never starts with `z`, so the marker cannot be confused with a plain document. */
const COMPRESSED_MARKER = 'z:';

export function encodeJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function decodeJson(text: string | null | undefined): unknown {
  return text === null || text === undefined ? null : (JSON.parse(text) as unknown);
}

/** A document that may be large (message content): deflated + base64 above the threshold. */
export function encodeBody(value: unknown): string {
  const json = encodeJson(value);
  if (json.length <= COMPRESS_ABOVE_BYTES) return json;
  const packed = COMPRESSED_MARKER + deflateRawSync(json).toString('base64');
  return packed.length < json.length ? packed : json;
}

export function decodeBody(text: string): unknown {
  if (!text.startsWith(COMPRESSED_MARKER)) return decodeJson(text);
  return decodeJson(inflateRawSync(Buffer.from(text.slice(COMPRESSED_MARKER.length), 'base64')).toString('utf8'));
}

/** Live values are stored JSON-encoded so numbers, booleans and null keep their types. */
export function encodeLiveFields(fields: LiveFields): string[] {
  return Object.entries(fields).flatMap(([name, value]) => [name, JSON.stringify(value)]);
}

export const LIVE_PREFIX = 'live:';

/** The live fields of a row hash (`live:<name>` fields), or of a hash of bare names with prefix ''. */
export function liveFieldsOf(hash: Record<string, string>, prefix: string = LIVE_PREFIX): LiveFields {
  const live: LiveFields = {};
  for (const [field, text] of Object.entries(hash)) {
    if (field.startsWith(prefix)) live[field.slice(prefix.length)] = decodeScalar(text);
  }
  return live;
}

function decodeScalar(text: string): JsonScalar {
  const value = decodeJson(text);
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
}

/** A Lua `HGETALL` reply (flat field/value array) as a record. */
export function hashOf(reply: unknown): Record<string, string> {
  const flat = stringsOf(reply);
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string;
  return hash;
}

export function stringsOf(reply: unknown): string[] {
  if (!Array.isArray(reply)) throw new TypeError(`expected an array reply, got ${typeof reply}`);
  return reply.map((item) => (typeof item === 'string' ? item : String(item)));
}

export function arrayOf(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new TypeError(`expected an array reply, got ${typeof reply}`);
  return reply;
}

export function numberOf(text: string | undefined, fallback = 0): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  return Number.isFinite(value) ? value : fallback;
}

/** A decimal string Lua can compare with tonumber() and store verbatim. */
export function decimal(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`expected a finite number, got ${value}`);
  return String(value);
}

// Message positions ------------------------------------------------------------------------
// A position (at, seq) is stored as the member `<at>:<seq>` of a zset whose scores are all 0, so
// Redis orders members byte-wise and ZRANGEBYLEX answers (at, seq) range queries. `at` is any
// finite double in an order-preserving 16-hex-digit form; seq is a 16-digit decimal (Lua builds
// it with string.format('%016d', seq)).

const SEQ_DIGITS = 16;
const MAX_SEQ = 10 ** SEQ_DIGITS - 1;

export function encodeAt(at: number): string {
  if (!Number.isFinite(at)) throw new RangeError(`message time must be finite, got ${at}`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, at === 0 ? 0 : at); // folds -0 into 0
  let bits = view.getBigUint64(0);
  // IEEE 754 order trick: flip all bits of negatives, only the sign bit of positives.
  bits = bits >> 63n === 1n ? ~bits & 0xffff_ffff_ffff_ffffn : bits | (1n << 63n);
  return bits.toString(16).padStart(16, '0');
}

function encodeSeq(seq: number): string {
  return String(Math.min(Math.max(seq, 0), MAX_SEQ)).padStart(SEQ_DIGITS, '0');
}

/**
 * The member for a query bound. Stored seqs are integers >= 1, so a fractional or negative bound
 * is rounded to the integer that selects the same rows: `strictlyAbove` bounds (after) round down,
 * `strictlyBelow` bounds (before) round up, inclusive upper bounds (until) round down.
 */
export function positionBound(position: MessagePosition, rounding: 'up' | 'down'): string {
  const seq = rounding === 'up' ? Math.ceil(position.seq) : Math.floor(position.seq);
  return `${encodeAt(position.at)}:${encodeSeq(seq)}`;
}
