// Building blocks for the fuzz suite: JSON values within and beyond the document limits, wrong
// types, hostile strings, deep JSON text (built as text: nothing on the way may recurse), and
// "valid-ish" records with one field broken.
import fc from 'fast-check';
import { JSON_MAX_DEPTH } from '../../../src/protocol/json-document.js';

/** JSON values a well-behaved client could send (small, shallow). */
export const jsonValue = (maxDepth = 4): fc.Arbitrary<unknown> => fc.jsonValue({ maxDepth });

/** Strings that break naive code: empty, huge, unicode, control characters, path and URL tricks. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '../../etc/passwd',
    '%',
    '%zz',
    '%2F',
    '__proto__',
    'constructor',
    'null',
    '[]',
    '{}',
    '\uD800',
    '😀',
    'a:b',
    ':',
    '\r\n',
    '<script>',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer({ min: 257, max: 5_000 }).map((n) => 'x'.repeat(n)),
);

/** Values of the wrong type for almost any field. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, Number.MAX_SAFE_INTEGER, -0, 1e308, [], {}, [null], { a: 1 }),
  hostileString,
  fc.integer(),
  fc.double(),
  jsonValue(3),
);

/** A JSON document nested `depth` levels (arrays, objects or both), as a value. Iterative. */
export function nestedValue(depth: number, kind: 'array' | 'object' | 'mixed' = 'array'): unknown {
  let value: unknown = kind === 'object' ? {} : [];
  for (let i = 1; i < depth; i++)
    value = kind === 'array' || (kind === 'mixed' && i % 2 === 0) ? [value] : { k: value };
  return value;
}

/** The same as JSON text (the socket.io-client encoder and JSON.stringify overflow on it). */
export function nestedText(depth: number, kind: 'array' | 'object' | 'mixed' = 'array'): string {
  if (kind === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
  if (kind === 'object') return `${'{"k":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
  let open = '';
  let close = '';
  for (let i = depth - 1; i >= 1; i--) {
    if (i % 2 === 0) {
      open += '[';
      close = `]${close}`;
    } else {
      open += '{"k":';
      close = `}${close}`;
    }
  }
  return `${open}[]${close}`;
}

const depthKind = fc.constantFrom('array', 'object', 'mixed') as fc.Arbitrary<'array' | 'object' | 'mixed'>;

/** Documents just around the depth limit, small enough for socket.io-client and JSON.stringify. */
export const nearLimitDocument: fc.Arbitrary<{ depth: number; value: unknown }> = fc
  .tuple(fc.integer({ min: JSON_MAX_DEPTH - 3, max: JSON_MAX_DEPTH + 40 }), depthKind)
  .map(([depth, kind]) => ({ depth, value: nestedValue(depth, kind) }));

/**
 * JSON text beyond the limit, up to `max` levels (recursive code — JSON.stringify, structuredClone
 * — overflows the stack at a few thousand), for raw frames, raw HTTP bodies and RPC answers.
 */
export const deepJsonTextUpTo = (max: number): fc.Arbitrary<string> =>
  fc
    .tuple(fc.oneof(fc.integer({ min: JSON_MAX_DEPTH + 1, max: 2_000 }), fc.integer({ min: 2_000, max })), depthKind)
    .map(([depth, kind]) => nestedText(depth, kind));
export const deepJsonText: fc.Arbitrary<string> = deepJsonTextUpTo(30_000);

/** A document for a field that takes one: mostly fine, sometimes at or over the depth limit. */
export const documentValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: jsonValue(4) },
  { weight: 1, arbitrary: nearLimitDocument.map((d) => d.value) },
);

export type Fields = Record<string, fc.Arbitrary<unknown>>;

/**
 * Records built from `fields` (each key an arbitrary for a valid value): valid ones, ones with one
 * field replaced by a wrong value or removed, and ones with extra keys.
 */
export function validIsh(fields: Fields): fc.Arbitrary<Record<string, unknown>> {
  const valid = fc.record(fields);
  const keys = Object.keys(fields);
  if (keys.length === 0) return valid;
  const broken = fc
    .tuple(valid, fc.constantFrom(...keys), wrongValue, fc.boolean())
    .map(([record, key, value, remove]) => {
      const copy: Record<string, unknown> = { ...record };
      if (remove) delete copy[key];
      else copy[key] = value;
      return copy;
    });
  const extra = fc
    .tuple(valid, fc.dictionary(hostileString, wrongValue, { maxKeys: 3 }))
    .map(([record, more]) => ({ ...more, ...record }));
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 4, arbitrary: broken }, { weight: 1, arbitrary: extra });
}

/** Anything at all as a payload (including non-objects). */
export const junkPayload: fc.Arbitrary<unknown> = fc.oneof(wrongValue, fc.anything({ maxDepth: 3 }));
