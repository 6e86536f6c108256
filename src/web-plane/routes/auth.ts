// POST /api/auth: access token → web JWT (docs/protocol.md#auth-route). Unauthenticated (jwt-auth skips it).
import { AuthBodySchema } from '../../protocol/web-rest.js';
import { readBody, sendError, type ApiRouter, type WebDeps } from './common.js';

export function registerAuthRoutes(router: ApiRouter, deps: WebDeps): void {
  router.post('/api/auth', async (ctx) => {
    const parsed = AuthBodySchema.safeParse(await readBody(ctx, deps));
    if (!parsed.success) return sendError(ctx, 400, 'Invalid body', { issues: parsed.error.issues });
    if (!('accessToken' in parsed.data)) {
      // Telegram sign-in is out of scope; upstream answers 503 when Telegram is not configured.
      return sendError(ctx, 503, 'Telegram authentication is not configured');
    }
    const check = await deps.services.auth.verifyAccessToken(parsed.data.accessToken);
    if (!check.ok) return sendError(ctx, 401, 'Invalid access token');
    const token = await deps.services.auth.issueJwt(check.namespace);
    ctx.body = { token, user: { id: deps.services.auth.userId, firstName: 'Web User' } };
  });
}
