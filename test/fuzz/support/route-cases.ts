// Fuzz cases for every HTTP route of the hub: one entry per `METHOD /path` (the suite fails when
// the hub has a route that is not here, or this table names one the hub no longer has). Each entry
// says how the route authenticates, what its path parameters are, and the zod schemas of its query
// and body — the generated input is checked against those same schemas to know whether the hub
// must refuse it (4xx).
import fc from 'fast-check';
import type { z } from 'zod';
import {
  CliMessagesQuerySchema,
  CreateMachineBodySchema,
  CreateSessionBodySchema,
} from '../../../src/protocol/cli-rest.js';
import { EventsQuerySchema, VisibilityBodySchema } from '../../../src/protocol/sse.js';
import {
  ApproveBodySchema,
  AuthBodySchema,
  DenyBodySchema,
  DirectoryQuerySchema,
  FilePathQuerySchema,
  FileSearchQuerySchema,
  GitDiffNumstatQuerySchema,
  ListDirectoryBodySchema,
  MessagesQuerySchema,
  ModelBodySchema,
  PathsExistsBodySchema,
  PermissionModeBodySchema,
  QueuedStateBodySchema,
  RenameBodySchema,
  ResumeBodySchema,
  SendMessageBodySchema,
  SessionListQuerySchema,
  SpawnBodySchema,
  UploadBodySchema,
  UploadDeleteBodySchema,
} from '../../../src/protocol/web-rest.js';
import {
  deepJsonText,
  documentValue,
  hostileString,
  jsonValue,
  validIsh,
  wrongValue,
  type Fields,
} from './arbitraries.js';
import { FRESH, MID, SID } from './event-cases.js';

export type RouteAuth = 'jwt' | 'cli' | 'none';
/** What a path parameter stands for (`session`/`machine`: the tenant's own id is one choice). */
export type ParamKind = 'session' | 'machine' | 'request' | 'message' | 'any' | 'rest';

export interface RouteSpec {
  auth: RouteAuth;
  params?: Record<string, ParamKind>;
  query?: { schema: z.ZodType; fields: Fields };
  body?: { schema: z.ZodType; fields: Fields /** what an absent/non-JSON body counts as */; nullAs?: unknown };
  /** Answers that are not JSON on success (metrics text, SSE stream, image bytes). */
  nonJson?: 'sse' | 'binary';
}

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const str = (max = 20) => fc.string({ maxLength: max });
const numText = fc.oneof(
  fc.integer({ min: -5, max: 600 }).map(String),
  fc.constantFrom('abc', '1.5', '', '1e3', 'NaN'),
);
const mode = fc.constantFrom('default', 'acceptEdits', 'plan', 'yolo', 'bypassPermissions', 'nonsense');
const session = { id: 'session' } as const;
const machine = { id: 'machine' } as const;

const metadata = fc.oneof(fc.record({ path: str(), host: str() }), documentValue);

export const ROUTES: Record<string, RouteSpec> = {
  'GET /health': { auth: 'none' },
  'GET /ready': { auth: 'none' },

  'POST /cli/sessions': {
    auth: 'cli',
    body: {
      schema: CreateSessionBodySchema,
      fields: {
        tag: fc.oneof(
          str(8).map((s) => `fuzz-${s}`),
          hostileString,
        ),
        metadata,
        agentState: opt(documentValue),
        id: opt(fc.oneof(fc.uuid(), fc.constant(FRESH), fc.constant(SID))),
        model: opt(str()),
        machine: opt(fc.record({ id: fc.oneof(fc.constant(MID), str(10)), metadata: documentValue })),
      },
    },
  },
  'GET /cli/sessions/:id': { auth: 'cli', params: session },
  'GET /cli/sessions/:id/messages': {
    auth: 'cli',
    params: session,
    query: { schema: CliMessagesQuerySchema, fields: { afterSeq: numText, limit: opt(numText) } },
  },
  'POST /cli/machines': {
    auth: 'cli',
    body: {
      schema: CreateMachineBodySchema,
      fields: {
        id: fc.oneof(fc.constant(MID), fc.constant(FRESH), str(10), hostileString),
        metadata: documentValue,
        runnerState: opt(documentValue),
      },
    },
  },
  'GET /cli/machines/:id': { auth: 'cli', params: machine },
  'ALL /cli/{*rest}': { auth: 'cli', params: { rest: 'rest' } },

  'POST /api/auth': {
    auth: 'none',
    body: { schema: AuthBodySchema, fields: { accessToken: fc.oneof(fc.constant('\u0001TOKEN'), str()) } },
  },
  'GET /api/events': {
    auth: 'jwt',
    nonJson: 'sse',
    query: {
      schema: EventsQuerySchema,
      fields: {
        all: opt(fc.constantFrom('true', '1', 'no')),
        sessionId: opt(fc.constantFrom(SID, FRESH)),
        machineId: opt(fc.constantFrom(MID, FRESH)),
        visibility: opt(fc.constantFrom('visible', 'hidden', 'x')),
        lastEventId: opt(str()),
      },
    },
  },
  'POST /api/visibility': {
    auth: 'jwt',
    body: {
      schema: VisibilityBodySchema,
      fields: { subscriptionId: fc.oneof(fc.uuid(), str()), visibility: fc.constantFrom('visible', 'hidden', 'x') },
    },
  },

  'GET /api/sessions': {
    auth: 'jwt',
    query: {
      schema: SessionListQuerySchema,
      fields: { limit: opt(numText), order: opt(fc.constantFrom('updatedAt', 'x')) },
    },
  },
  'GET /api/sessions/:id': { auth: 'jwt', params: session },
  'PATCH /api/sessions/:id': {
    auth: 'jwt',
    params: session,
    body: { schema: RenameBodySchema, fields: { name: fc.oneof(str(30), hostileString) } },
  },
  'DELETE /api/sessions/:id': { auth: 'jwt', params: session },
  'POST /api/sessions/:id/abort': { auth: 'jwt', params: session },
  'POST /api/sessions/:id/archive': { auth: 'jwt', params: session },
  'POST /api/sessions/:id/resume': {
    auth: 'jwt',
    params: session,
    body: { schema: ResumeBodySchema, fields: { permissionMode: opt(mode) }, nullAs: {} },
  },
  'POST /api/sessions/:id/reopen': { auth: 'jwt', params: session },

  'GET /api/sessions/:id/messages': {
    auth: 'jwt',
    params: session,
    query: {
      schema: MessagesQuerySchema,
      fields: {
        limit: opt(numText),
        beforeSeq: opt(numText),
        beforeAt: opt(numText),
        afterSeq: opt(numText),
        afterAt: opt(numText),
        untilSeq: opt(numText),
        untilAt: opt(numText),
        epoch: opt(numText),
      },
    },
  },
  'POST /api/sessions/:id/messages': {
    auth: 'jwt',
    params: session,
    body: {
      schema: SendMessageBodySchema,
      fields: {
        text: fc.oneof(str(40), fc.constant('')),
        localId: opt(str(10)),
        scheduledAt: opt(fc.option(fc.integer({ min: 1 }), { nil: null })),
        deliveryMode: opt(fc.constantFrom('queue', 'steer')),
      },
    },
  },
  'POST /api/sessions/:id/messages/queued-state': {
    auth: 'jwt',
    params: session,
    body: {
      schema: QueuedStateBodySchema,
      fields: { localIds: fc.array(fc.oneof(str(10), fc.constant('fuzz-alice-local')), { maxLength: 5 }) },
    },
  },
  'DELETE /api/sessions/:id/messages/:messageId': { auth: 'jwt', params: { id: 'session', messageId: 'message' } },

  'POST /api/sessions/:id/permissions/:requestId/approve': {
    auth: 'jwt',
    params: { id: 'session', requestId: 'request' },
    body: {
      schema: ApproveBodySchema,
      fields: {
        mode: opt(mode),
        allowTools: opt(fc.array(str(8), { maxLength: 3 })),
        decision: opt(fc.constantFrom('approved', 'denied', 'abort', 'x')),
        answers: opt(fc.dictionary(str(5), fc.array(str(5), { maxLength: 2 }), { maxKeys: 2 })),
      },
      nullAs: {},
    },
  },
  'POST /api/sessions/:id/permissions/:requestId/deny': {
    auth: 'jwt',
    params: { id: 'session', requestId: 'request' },
    body: {
      schema: DenyBodySchema,
      fields: { decision: opt(fc.constantFrom('approved', 'denied', 'abort', 'x')) },
      nullAs: {},
    },
  },
  'POST /api/sessions/:id/permission-mode': {
    auth: 'jwt',
    params: session,
    body: { schema: PermissionModeBodySchema, fields: { mode } },
  },
  'POST /api/sessions/:id/model': {
    auth: 'jwt',
    params: session,
    body: {
      schema: ModelBodySchema,
      fields: { model: fc.oneof(str(20), fc.constant(null), fc.record({ provider: str(5), modelId: str(5) })) },
    },
  },

  'GET /api/sessions/:id/git-status': { auth: 'jwt', params: session },
  'GET /api/sessions/:id/git-diff-numstat': {
    auth: 'jwt',
    params: session,
    query: { schema: GitDiffNumstatQuerySchema, fields: { staged: opt(fc.constantFrom('true', 'false', 'x')) } },
  },
  'GET /api/sessions/:id/git-diff-file': {
    auth: 'jwt',
    params: session,
    query: {
      schema: FilePathQuerySchema,
      fields: { path: fc.oneof(str(20), hostileString), staged: opt(fc.constantFrom('true', 'false')) },
    },
  },
  'GET /api/sessions/:id/file': {
    auth: 'jwt',
    params: session,
    query: { schema: FilePathQuerySchema, fields: { path: fc.oneof(str(20), hostileString) } },
  },
  'GET /api/sessions/:id/directory': {
    auth: 'jwt',
    params: session,
    query: { schema: DirectoryQuerySchema, fields: { path: opt(str(20)) } },
  },
  'GET /api/sessions/:id/files': {
    auth: 'jwt',
    params: session,
    query: { schema: FileSearchQuerySchema, fields: { query: opt(str(10)), limit: opt(numText) } },
  },
  'GET /api/sessions/:id/generated-images/:imageId': {
    auth: 'jwt',
    params: { id: 'session', imageId: 'any' },
    nonJson: 'binary',
  },
  'GET /api/sessions/:id/slash-commands': { auth: 'jwt', params: session },
  'GET /api/sessions/:id/skills': { auth: 'jwt', params: session },
  'POST /api/sessions/:id/upload': {
    auth: 'jwt',
    params: session,
    body: {
      schema: UploadBodySchema,
      fields: {
        filename: fc.oneof(str(12), hostileString),
        content: fc.base64String({ maxLength: 64 }),
        mimeType: fc.constantFrom('text/plain', 'image/png', ''),
      },
    },
  },
  'POST /api/sessions/:id/upload/delete': {
    auth: 'jwt',
    params: session,
    body: { schema: UploadDeleteBodySchema, fields: { path: fc.oneof(str(20), hostileString) } },
  },

  'GET /api/machines': { auth: 'jwt' },
  'POST /api/machines/:id/spawn': {
    auth: 'jwt',
    params: machine,
    body: {
      schema: SpawnBodySchema,
      fields: {
        directory: fc.oneof(str(20), fc.constant('/tmp')),
        agent: opt(fc.constantFrom('claude', 'codex', 'nope')),
        model: opt(str(8)),
        yolo: opt(fc.boolean()),
        sessionType: opt(fc.constantFrom('simple', 'worktree')),
      },
    },
  },
  'POST /api/machines/:id/list-directory': {
    auth: 'jwt',
    params: machine,
    body: {
      schema: ListDirectoryBodySchema,
      fields: { path: fc.oneof(str(20), hostileString), includeHidden: opt(fc.boolean()) },
    },
  },
  'POST /api/machines/:id/paths/exists': {
    auth: 'jwt',
    params: machine,
    body: { schema: PathsExistsBodySchema, fields: { paths: fc.array(str(12), { maxLength: 4 }) } },
  },

  // Web app routes (scratchlist, hub settings, export, peripherals, upstream's not-configured
  // features): ids and credentials fuzzed, bodies as junk or none (their schemas are checked by
  // test/web-plane/web-app-routes tests).
  'DELETE /api/push/subscribe': { auth: 'jwt' },
  'DELETE /api/sessions/:id/scratchlist/:entryId': { auth: 'jwt', params: { id: 'session', entryId: 'any' } },
  'DELETE /api/sessions/:id/scratchlist/attachments/:attachmentId': {
    auth: 'jwt',
    params: { id: 'session', attachmentId: 'any' },
  },
  'GET /api/codex/sessions': { auth: 'jwt' },
  'GET /api/codex/status': { auth: 'jwt' },
  'GET /api/hub-settings': { auth: 'jwt' },
  'PATCH /api/machines/:id': { auth: 'jwt', params: { id: 'machine' } },
  'POST /api/machines/:id/restart-runner': { auth: 'jwt', params: { id: 'machine' } },
  'GET /api/machines/:id/agent-availability': { auth: 'jwt', params: { id: 'machine' } },
  'GET /api/machines/:id/agy-models': { auth: 'jwt', params: { id: 'machine' } },
  'GET /api/machines/:id/codex-models': { auth: 'jwt', params: { id: 'machine' } },
  'GET /api/machines/:id/copilot-models': { auth: 'jwt', params: { id: 'machine' } },
  'GET /api/machines/:id/cursor-models': { auth: 'jwt', params: { id: 'machine' } },
  'GET /api/machines/:id/grok-models': { auth: 'jwt', params: { id: 'machine' } },
  'GET /api/machines/:id/opencode-models': { auth: 'jwt', params: { id: 'machine' } },
  'GET /api/machines/:id/pi-models': { auth: 'jwt', params: { id: 'machine' } },
  'GET /api/machines/:id/opencode-model-variants': { auth: 'jwt', params: { id: 'machine' } },
  'GET /api/pi/sessions': { auth: 'jwt' },
  'GET /api/push/vapid-public-key': { auth: 'jwt' },
  'GET /api/sessions/:id/codex-models': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/copilot-models': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/cursor-chat-store': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/cursor-models': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/export': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/grok-models': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/grok-reasoning-effort-options': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/opencode-models': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/opencode-reasoning-effort-options': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/pi-models': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/scratchlist': { auth: 'jwt', params: { id: 'session' } },
  'GET /api/sessions/:id/scratchlist/attachments/:attachmentId': {
    auth: 'jwt',
    params: { id: 'session', attachmentId: 'any' },
  },
  'GET /api/storage/sqlite': { auth: 'jwt' },
  'GET /api/usage/summary': { auth: 'jwt' },
  'GET /api/voice/backend': { auth: 'jwt' },
  'GET /api/voice/transcription/credentials': { auth: 'jwt' },
  'GET /api/voice/transcription/providers': { auth: 'jwt' },
  'GET /api/voice/voices': { auth: 'jwt' },
  'PATCH /api/sessions/:id/summary': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/codex/archive-session': { auth: 'jwt' },
  'POST /api/codex/merge-duplicate-sessions': { auth: 'jwt' },
  'POST /api/codex/restart-desktop': { auth: 'jwt' },
  'POST /api/codex/sync-session': { auth: 'jwt' },
  'POST /api/pi/import-sessions': { auth: 'jwt' },
  'POST /api/sessions/:id/clear': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/codex/plan/implement': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/collaboration-mode': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/copilot-agent-mode': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/push/subscribe': { auth: 'jwt' },
  'POST /api/sessions/:id/effort': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/fork': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/messages/:messageId/retry': { auth: 'jwt', params: { id: 'session', messageId: 'message' } },
  'POST /api/sessions/:id/messages/:messageId/steer': { auth: 'jwt', params: { id: 'session', messageId: 'message' } },
  'POST /api/sessions/:id/model-reasoning-effort': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/migrate-to-acp': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/rewind': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/scratchlist': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/scratchlist/upload': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/service-tier': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/switch': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/sessions/:id/title-suggestion': { auth: 'jwt', params: { id: 'session' } },
  'POST /api/voice/gemini-token': { auth: 'jwt' },
  'POST /api/voice/qwen-token': { auth: 'jwt' },
  'POST /api/voice/telemetry': { auth: 'jwt' },
  'POST /api/voice/token': { auth: 'jwt' },
  'POST /api/voice/transcription': { auth: 'jwt' },
  'POST /api/voice/transcription/realtime-token': { auth: 'jwt' },
  'PUT /api/hub-settings': { auth: 'jwt' },
  'PUT /api/sessions/:id/pin': { auth: 'jwt', params: { id: 'session' } },
  'PUT /api/sessions/:id/scratchlist/:entryId': { auth: 'jwt', params: { id: 'session', entryId: 'any' } },
  'PUT /api/voice/transcription/credentials': { auth: 'jwt' },
};

/** How a case presents its body on the wire. */
export type BodyCase =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  /** Text sent verbatim (malformed JSON, 100,000-deep JSON, empty). */
  | { kind: 'text'; text: string; contentType: string };

export interface RouteCase {
  route: string;
  /** Param name → placeholder or literal. */
  params: Record<string, string>;
  /** Raw (not yet encoded) path segments for `{*rest}`; `rawPath` is sent without encoding. */
  rawPath: boolean;
  query: Record<string, string | string[]>;
  body: BodyCase;
  /** 'ok' = the tenant's credentials; others must answer 401 (auth routes). */
  credentials: 'ok' | 'missing' | 'garbage' | 'other-scheme';
  /** What the fake CLIs answer to RPCs during this case. */
  rpcAnswer: unknown;
  method?: string;
}

const idChoice = (kind: ParamKind): fc.Arbitrary<string> => {
  switch (kind) {
    case 'session':
      return fc.oneof(
        { weight: 6, arbitrary: fc.constant(SID) },
        { weight: 2, arbitrary: fc.constant(FRESH) },
        { weight: 1, arbitrary: fc.constant(MID) },
        { weight: 1, arbitrary: hostileString.filter((s) => s.length > 0) },
      );
    case 'machine':
      return fc.oneof(
        { weight: 6, arbitrary: fc.constant(MID) },
        { weight: 2, arbitrary: fc.constant(FRESH) },
        { weight: 1, arbitrary: fc.constant(SID) },
        { weight: 1, arbitrary: hostileString.filter((s) => s.length > 0) },
      );
    case 'request':
      return fc.oneof(
        fc.constant('req1'),
        str(10).filter((s) => s.length > 0),
      );
    case 'message':
      return fc.oneof(
        fc.constant('fuzz-alice-local'),
        fc.uuid(),
        str(10).filter((s) => s.length > 0),
      );
    case 'rest':
      // Dot segments and empty segments are left out: they move the request off the /cli prefix.
      return fc
        .array(
          fc
            .oneof(str(8), fc.constantFrom('sessions', 'machines', '%2e%2e', 'x'))
            .filter((part) => part !== '' && part !== '.' && part !== '..'),
          { minLength: 1, maxLength: 4 },
        )
        .map((parts) => parts.join('/'));
    default:
      return fc.oneof(
        str(10).filter((s) => s.length > 0),
        fc.uuid(),
      );
  }
};

/** RPC answers: valid-looking, arbitrary JSON, plain text, far too deep, and non-string values. */
export const rpcAnswer: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: jsonValue(3).map((v) => JSON.stringify(v)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      JSON.stringify({ success: true, content: 'aGk=' }),
      JSON.stringify({ applied: { permissionMode: 'plan' } }),
      JSON.stringify({ type: 'error', errorMessage: 'no' }),
      JSON.stringify({ error: 'Method not found' }),
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: deepJsonText },
  { weight: 1, arbitrary: jsonValue(3) },
);

const junkBodyText: fc.Arbitrary<BodyCase> = fc.oneof(
  fc
    .constantFrom('', '{', '{"a":', 'null', '[]', '"x"', '{}', 'not json', '\u0000', '{"__proto__":{"x":1}}')
    .map((text) => ({ kind: 'text' as const, text, contentType: 'application/json' })),
  deepJsonText.map((text) => ({ kind: 'text' as const, text, contentType: 'application/json' })),
  fc.string({ maxLength: 50 }).map((text) => ({ kind: 'text' as const, text, contentType: 'text/plain' })),
);

export function routeCase(route: string): fc.Arbitrary<RouteCase> {
  const spec = ROUTES[route];
  if (!spec) throw new Error(`no fuzz spec for route ${route}`);
  const paramNames = Object.keys(spec.params ?? {});
  const params = fc.record(
    Object.fromEntries(paramNames.map((name) => [name, idChoice(spec.params?.[name] ?? 'any')])) as Record<
      string,
      fc.Arbitrary<string>
    >,
  );
  const queryValue = (arb: fc.Arbitrary<unknown>) =>
    fc.oneof(
      { weight: 5, arbitrary: arb.map((v) => (v === undefined ? undefined : String(v))) },
      { weight: 1, arbitrary: fc.array(str(5), { minLength: 2, maxLength: 3 }) },
    );
  const query = spec.query
    ? fc
        .tuple(
          fc.record(Object.fromEntries(Object.entries(spec.query.fields).map(([k, arb]) => [k, queryValue(arb)]))),
          fc.dictionary(str(6), str(6), { maxKeys: 2 }),
        )
        .map(([known, extra]) => {
          const out: Record<string, string | string[]> = { ...extra };
          for (const [k, v] of Object.entries(known)) if (v !== undefined) out[k] = v as string | string[];
          return out;
        })
    : fc.dictionary(str(6), str(6), { maxKeys: 2 });
  const body: fc.Arbitrary<BodyCase> = spec.body
    ? fc.oneof(
        { weight: 6, arbitrary: validIsh(spec.body.fields).map((value) => ({ kind: 'json' as const, value })) },
        { weight: 1, arbitrary: wrongValue.map((value) => ({ kind: 'json' as const, value })) },
        { weight: 2, arbitrary: junkBodyText },
        { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
      )
    : fc.oneof(
        { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
        { weight: 1, arbitrary: junkBodyText },
      );
  const credentials = fc.oneof(
    { weight: 12, arbitrary: fc.constant('ok' as const) },
    { weight: 1, arbitrary: fc.constantFrom('missing' as const, 'garbage' as const, 'other-scheme' as const) },
  );
  const method = route.startsWith('ALL ')
    ? fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS')
    : fc.constant(undefined);
  return fc
    .record({ route: fc.constant(route), params, rawPath: fc.boolean(), query, body, credentials, rpcAnswer, method })
    .map((c) => (c.method === undefined ? { ...c, method: undefined } : c)) as fc.Arbitrary<RouteCase>;
}

/** Whether the route's schemas accept the case's query and body (if not, the hub must answer 4xx). */
export function inputIsValid(c: RouteCase, resolvedBody: unknown): boolean {
  const spec = ROUTES[c.route];
  if (!spec) return false;
  if (spec.query && !spec.query.schema.safeParse(c.query).success) return false;
  if (spec.body) {
    const input = resolvedBody ?? spec.body.nullAs ?? null;
    if (!spec.body.schema.safeParse(input).success) return false;
  }
  return true;
}
