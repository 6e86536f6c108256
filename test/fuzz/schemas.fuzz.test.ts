// Property-based checks of the inbound zod schemas and the document limits, without a hub:
// every schema answers (success or a ZodError) for any input — deep, huge, wrong-typed — without
// throwing; the iterative depth/size walk agrees with a recursive reference; the JSON-text depth
// scan agrees with JSON.parse.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as cliRest from '../../src/protocol/cli-rest.js';
import {
  DOCUMENT_MAX_BYTES,
  JSON_MAX_DEPTH,
  documentRefusal,
  inspectJsonDocument,
  jsonDocument,
  jsonTextTooDeep,
  rpcAnswerProblem,
  type DocumentKind,
} from '../../src/protocol/json-document.js';
import * as socketEvents from '../../src/protocol/socket-events.js';
import * as sse from '../../src/protocol/sse.js';
import * as webRest from '../../src/protocol/web-rest.js';
import { nestedText, nestedValue, wrongValue } from './support/arbitraries.js';
import { checkProperty, reportFuzzCounts } from './support/fuzz-run.js';

afterAll(() => reportFuzzCounts('schemas'));

/** Every inbound schema (what clients send); the outbound ones describe what the hub writes. */
const INBOUND: Record<string, z.ZodType> = {
  ...Object.fromEntries(
    Object.entries(socketEvents).filter(
      ([name, value]) =>
        name.endsWith('EventSchema') && typeof value === 'object' && value !== null && 'safeParse' in value,
    ) as [string, z.ZodType][],
  ),
  HandshakeAuthSchema: socketEvents.HandshakeAuthSchema,
  ...Object.fromEntries(Object.entries(cliRest).filter(([name]) => name.endsWith('Schema')) as [string, z.ZodType][]),
  ...Object.fromEntries(Object.entries(sse).filter(([name]) => name.endsWith('Schema')) as [string, z.ZodType][]),
  ...Object.fromEntries(
    Object.entries(webRest).filter(
      ([name, value]) => name.endsWith('Schema') && typeof value === 'object' && value !== null && 'safeParse' in value,
    ) as [string, z.ZodType][],
  ),
};

/** Recursive reference depth (fine for the small values generated here). */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((max, child) => Math.max(max, depthOf(child)), 0);
}

function nonEmptyObjects(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (Array.isArray(value)) return value.reduce<number>((n, child) => n + nonEmptyObjects(child), 0);
  const entries = Object.values(value);
  return (entries.length > 0 ? 1 : 0) + entries.reduce<number>((n, child) => n + nonEmptyObjects(child), 0);
}

/** JSON values whose strings need no escaping, so the walk's byte count can be checked exactly. */
const plainJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false),
    fc.integer(),
    fc.stringMatching(/^[a-z0-9 ]{0,12}$/),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Deep values (built once; generating 20,000 levels per case would dominate the run). */
const DEEP_VALUES = [200, 1_000, 5_000, 20_000].flatMap((depth) =>
  (['array', 'object', 'mixed'] as const).map((kind) => nestedValue(depth, kind)),
);
const hostileInput: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.anything({ maxDepth: 4 }) },
  { weight: 2, arbitrary: wrongValue },
  { weight: 1, arbitrary: fc.constantFrom(...DEEP_VALUES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...DEEP_VALUES).map((deep) => ({
      sid: 's',
      machineId: 'm',
      expectedVersion: 1,
      time: 1,
      metadata: deep,
      agentState: deep,
      runnerState: deep,
      message: deep,
      health: deep,
      tag: 't',
      id: 'x',
    })),
  },
);

describe('fuzz: document limits (no hub)', () => {
  it('the iterative depth walk agrees with a recursive reference', () => {
    checkProperty(
      'document depth',
      fc.tuple(plainJson, fc.integer({ min: 0, max: 6 })),
      ([value, maxDepth]) => {
        const problem = inspectJsonDocument(value, { maxDepth, maxBytes: Number.MAX_SAFE_INTEGER });
        expect(problem === 'too-deep').toBe(depthOf(value) > maxDepth);
        expect(problem === null || problem === 'too-deep').toBe(true);
      },
      3_000,
    );
  });

  it("the walk's byte count is the compact JSON size (+1 per non-empty object)", () => {
    checkProperty(
      'document bytes',
      fc.tuple(plainJson, fc.integer({ min: -3, max: 3 })),
      ([value, delta]) => {
        const size = Buffer.byteLength(JSON.stringify(value)) + nonEmptyObjects(value);
        const limit = Math.max(0, size + delta);
        const problem = inspectJsonDocument(value, { maxDepth: 1_000, maxBytes: limit });
        expect(problem === 'too-large').toBe(size > limit);
      },
      3_000,
    );
  });

  it('the JSON-text depth scan agrees with the parsed value (strings with brackets and escapes included)', () => {
    checkProperty(
      'json text depth',
      fc.tuple(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 8 })),
      ([value, maxDepth]) => {
        expect(jsonTextTooDeep(JSON.stringify(value), maxDepth)).toBe(depthOf(value) > maxDepth);
      },
      3_000,
    );
  });

  it(`documents are accepted up to ${JSON_MAX_DEPTH} levels and refused beyond, with the refusal mapped to 400/413`, () => {
    const kinds = Object.keys(DOCUMENT_MAX_BYTES) as DocumentKind[];
    checkProperty(
      'document schema depth',
      fc.tuple(
        fc.constantFrom(...kinds),
        fc.integer({ min: 1, max: JSON_MAX_DEPTH + 60 }),
        fc.constantFrom('array', 'object', 'mixed') as fc.Arbitrary<'array' | 'object' | 'mixed'>,
      ),
      ([kind, depth, shape]) => {
        const parsed = jsonDocument(kind).safeParse(nestedValue(depth, shape));
        expect(parsed.success).toBe(depth <= JSON_MAX_DEPTH);
        if (!parsed.success)
          expect(documentRefusal(parsed.error.issues)).toEqual({ status: 400, code: 'document_too_deep' });
        expect(rpcAnswerProblem(nestedText(depth, shape))).toBe(depth <= JSON_MAX_DEPTH ? null : 'too-deep');
      },
      1_500,
    );
  });

  it('binary, functions and non-finite numbers are not JSON documents', () => {
    checkProperty(
      'document not-json',
      fc.constantFrom<unknown>(
        Buffer.from('x'),
        new Uint8Array(2),
        () => 1,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        new Date(0),
        new Map(),
        1n,
      ),
      (value) => {
        expect(inspectJsonDocument({ a: [value] }, { maxDepth: 10, maxBytes: 1_000 })).toBe('not-json');
      },
      100,
    );
  });
});

describe('fuzz: inbound schemas (no hub)', () => {
  it('every inbound schema is listed', () => {
    expect(Object.keys(INBOUND).length).toBeGreaterThanOrEqual(30);
  });

  it('every inbound schema answers any input — deep, wrong-typed, huge — without throwing', () => {
    for (const [name, schema] of Object.entries(INBOUND)) {
      checkProperty(
        `schema ${name}`,
        hostileInput,
        (input) => {
          const result = schema.safeParse(input);
          expect(typeof result.success).toBe('boolean');
        },
        200,
      );
    }
  });

  it('schemas with documents refuse every document nested beyond the limit', () => {
    const deep = nestedValue(JSON_MAX_DEPTH + 1, 'mixed');
    const documentSchemas: [string, z.ZodType, (doc: unknown) => unknown][] = [
      ['CreateSessionBody.metadata', cliRest.CreateSessionBodySchema, (doc) => ({ tag: 't', metadata: doc })],
      [
        'CreateSessionBody.agentState',
        cliRest.CreateSessionBodySchema,
        (doc) => ({ tag: 't', metadata: {}, agentState: doc }),
      ],
      [
        'CreateSessionBody.machine.metadata',
        cliRest.CreateSessionBodySchema,
        (doc) => ({ tag: 't', metadata: {}, machine: { id: 'm', metadata: doc } }),
      ],
      ['CreateMachineBody.metadata', cliRest.CreateMachineBodySchema, (doc) => ({ id: 'm', metadata: doc })],
      [
        'CreateMachineBody.runnerState',
        cliRest.CreateMachineBodySchema,
        (doc) => ({ id: 'm', metadata: {}, runnerState: doc }),
      ],
      ['MessageEvent.message', socketEvents.MessageEventSchema, (doc) => ({ sid: 's', message: doc })],
      [
        'UpdateMetadataEvent',
        socketEvents.UpdateMetadataEventSchema,
        (doc) => ({ sid: 's', expectedVersion: 1, metadata: doc }),
      ],
      [
        'UpdateStateEvent',
        socketEvents.UpdateStateEventSchema,
        (doc) => ({ sid: 's', expectedVersion: 1, agentState: doc }),
      ],
      [
        'MachineAliveEvent.health',
        socketEvents.MachineAliveEventSchema,
        (doc) => ({ machineId: 'm', time: 1, health: doc }),
      ],
      [
        'MachineUpdateMetadataEvent',
        socketEvents.MachineUpdateMetadataEventSchema,
        (doc) => ({ machineId: 'm', expectedVersion: 1, metadata: doc }),
      ],
      [
        'MachineUpdateStateEvent',
        socketEvents.MachineUpdateStateEventSchema,
        (doc) => ({ machineId: 'm', expectedVersion: 1, runnerState: doc }),
      ],
    ];
    checkProperty(
      'documents in schemas',
      fc.tuple(fc.constantFrom(...documentSchemas), fc.constantFrom(deep, ...DEEP_VALUES)),
      ([[, schema, wrap], doc]) => {
        expect(schema.safeParse(wrap(doc)).success).toBe(false);
        expect(schema.safeParse(wrap({ ok: [1, { fine: true }] })).success || true).toBe(true);
      },
      1_000,
    );
  });
});
