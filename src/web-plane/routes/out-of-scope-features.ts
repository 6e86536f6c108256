// Features this hub does not provide — voice, Web Push, usage accounting, Codex/Pi history import,
// SQLite storage stats — answered with upstream 0.30.7's own shapes for "not configured / empty /
// no machine", so the web app degrades exactly as against an upstream hub with those features off
// (docs/protocol.md#features-this-hub-does-not-provide). Owner-only routes keep upstream's 403
// for namespaces other than `default`.
import type { ApiContext, ApiRouter, WebDeps } from './common.js';
import { readBody, sendError } from './common.js';

const OWNER_NAMESPACE = 'default';
const DAY_MS = 24 * 3600 * 1000;

function ownerOnly(ctx: ApiContext, error: string): boolean {
  if (ctx.state.namespace === OWNER_NAMESPACE) return true;
  sendError(ctx, 403, error);
  return false;
}

const unconfigured = { configured: false, source: 'none', hint: null, editable: false };

/** What upstream's credential listing shows when no provider key is set (read-only here). */
function providerCredentials(): Record<string, unknown> {
  return {
    openai: unconfigured,
    elevenlabs: unconfigured,
    deepgram: unconfigured,
    groq: unconfigured,
    openaiCompatible: {
      configured: false,
      source: 'none',
      baseUrl: null,
      model: null,
      baseUrlEditable: false,
      modelEditable: false,
      apiKey: unconfigured,
    },
    voiceBackends: { elevenlabs: unconfigured, geminiLive: unconfigured, qwenRealtime: unconfigured },
  };
}

function usageSummary(range: unknown, now: number): Record<string, unknown> {
  const from = range === 'all' ? null : now - (range === '30d' ? 30 : 7) * DAY_MS;
  return {
    range: { from, to: now },
    totals: {
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheCreationTokens: 0,
      totalTokens: 0,
      uncachedTokens: 0,
      requests: 0,
      sessions: 0,
    },
    daily: [],
    byAgent: [],
    byModel: [],
    updatedAt: now,
  };
}

export function registerOutOfScopeRoutes(router: ApiRouter, deps: WebDeps): void {
  const now = () => deps.services.deps.clock();

  // Voice: no backend, no voices, no transcription providers.
  router.get('/api/voice/backend', (ctx) => {
    ctx.body = { backend: null, backends: [] };
  });
  router.get('/api/voice/voices', (ctx) => {
    ctx.body = { voices: [] };
  });
  router.get('/api/voice/transcription/providers', (ctx) => {
    ctx.body = { providers: [] };
  });
  router.get('/api/voice/transcription/credentials', (ctx) => {
    if (ownerOnly(ctx, 'Provider credentials are only available to the hub owner')) ctx.body = providerCredentials();
  });
  router.put('/api/voice/transcription/credentials', async (ctx) => {
    await readBody(ctx, deps);
    if (ownerOnly(ctx, 'Provider credentials are only available to the hub owner'))
      sendError(ctx, 503, 'Voice providers are not available on this hub', { code: 'voice_unavailable' });
  });
  router.post('/api/voice/token', async (ctx) => {
    await readBody(ctx, deps);
    sendError(ctx, 400, 'ElevenLabs API key not configured', { allowed: false });
  });
  router.post('/api/voice/gemini-token', async (ctx) => {
    await readBody(ctx, deps);
    sendError(ctx, 400, 'Gemini API key not configured (set GEMINI_API_KEY or GOOGLE_API_KEY)', { allowed: false });
  });
  router.post('/api/voice/qwen-token', async (ctx) => {
    await readBody(ctx, deps);
    sendError(ctx, 400, 'DashScope API key not configured (set DASHSCOPE_API_KEY or QWEN_API_KEY)', { allowed: false });
  });
  router.post('/api/voice/transcription/realtime-token', async (ctx) => {
    await readBody(ctx, deps);
    sendError(ctx, 400, 'Invalid realtime transcription provider');
  });
  router.post('/api/voice/transcription', async (ctx) => {
    await readBody(ctx, deps);
    sendError(ctx, 503, 'Voice transcription is not available on this hub', { code: 'voice_unavailable' });
  });
  router.post('/api/voice/telemetry', async (ctx) => {
    await readBody(ctx, deps);
    ctx.body = { ok: true };
  });

  // Web Push: no VAPID keys, so no subscriptions (a subscription that never fires would mislead).
  router.get('/api/push/vapid-public-key', (ctx) => {
    sendError(ctx, 503, 'Push notifications are not available on this hub', { code: 'push_unavailable' });
  });
  const noPush = async (ctx: ApiContext) => {
    await readBody(ctx, deps);
    sendError(ctx, 503, 'Push notifications are not available on this hub', { code: 'push_unavailable' });
  };
  router.post('/api/push/subscribe', noPush);
  router.delete('/api/push/subscribe', noPush);

  // Usage accounting: nothing recorded, so the empty summary.
  router.get('/api/usage/summary', (ctx) => {
    if (ownerOnly(ctx, 'Usage summary is only available to the hub owner'))
      ctx.body = usageSummary(ctx.query.range, now());
  });

  // Storage: there is no SQLite file; the engine holds the data.
  router.get('/api/storage/sqlite', (ctx) => {
    if (!ownerOnly(ctx, 'Storage usage is only available to the hub owner')) return;
    ctx.body = {
      path: `(none: ${deps.services.deps.engine.kind} engine)`,
      databaseBytes: 0,
      walBytes: 0,
      shmBytes: 0,
      totalBytes: 0,
    };
  });

  // Codex Desktop / Pi history import: never a machine to import from.
  router.get('/api/codex/status', (ctx) => {
    if (ctx.state.namespace !== OWNER_NAMESPACE) {
      sendError(ctx, 403, 'Codex transcript import is not available outside the default namespace', { success: false });
      return;
    }
    ctx.body = { success: true, codexDesktopRunning: false, codexClientAvailable: false };
  });
  router.get('/api/codex/sessions', (ctx) => {
    sendError(ctx, 503, 'No online machine available for Codex history import', { success: false, sessions: [] });
  });
  router.get('/api/pi/sessions', (ctx) => {
    sendError(ctx, 503, 'No online machine available for Pi history import', { success: false, sessions: [] });
  });
  for (const path of [
    '/api/codex/archive-session',
    '/api/codex/merge-duplicate-sessions',
    '/api/codex/restart-desktop',
    '/api/codex/sync-session',
  ]) {
    router.post(path, async (ctx) => {
      await readBody(ctx, deps);
      sendError(ctx, 503, 'No online machine available for Codex history import', { success: false });
    });
  }
  router.post('/api/pi/import-sessions', async (ctx) => {
    await readBody(ctx, deps);
    sendError(ctx, 503, 'No online machine available for Pi history import', { success: false, results: [] });
  });
}
