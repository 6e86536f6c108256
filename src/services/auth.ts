// Access tokens, the namespace registry's tokens, hub secrets and web JWTs.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Engine } from '../engine/engine.js';
import type { NamespaceRecord } from '../engine/types.js';
import { DEFAULT_NAMESPACE, parseAccessToken } from '../protocol/access-token.js';
import type { Logger } from '../ops/logger.js';
import type { Clock } from './clock.js';

const JWT_LIFETIME = '4h';
const JwtPayloadSchema = z.object({ uid: z.number(), ns: z.string(), gen: z.number().int().optional() });
type JwtPayload = z.infer<typeof JwtPayloadSchema>;
/**
 * Verified-signature cache size. A browser sends the same JWT with every request; checking its
 * HMAC each time (jose → WebCrypto, an async job per request) was the largest single cost of an
 * RPC-backed REST call in the load tests. Bounded: the oldest entry goes first.
 */
const VERIFIED_JWT_CACHE_SIZE = 4_096;

export type TokenCheck = { ok: true; namespace: string } | { ok: false };
export type JwtCheck =
  | { ok: true; namespace: string; userId: number }
  | { ok: false; error: 'Invalid token' | 'Invalid token payload' };

/** Coordination secret holding the generated hub-wide CLI_API_TOKEN (also set by hapi-hub import). */
export const HUB_TOKEN_SECRET = 'cli-api-token';

export interface AuthSettings {
  cliApiToken: string | undefined;
  jwtSecret: string | undefined;
  globalTokenEnabled: boolean;
  /** closed: the hub-wide token opens registered namespaces only (HAPI_NAMESPACE_REGISTRATION). */
  namespaceRegistration?: 'open' | 'closed';
}

/**
 * Namespace names whose refusal under closed registration was logged already. A client retrying
 * with its token (the HAPI CLI reconnects forever) must not fill the log; a hostile one naming a
 * new namespace each time must not fill memory — past the bound, one line says logging stopped.
 */
const REFUSED_NAMESPACE_LOG_LIMIT = 1_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time string equality that does not leak the length through early exit. */
function constantTimeEquals(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}

export class AuthService {
  private cliApiToken = '';
  private jwtKey = new Uint8Array();
  /** token → payload (+ exp) whose signature checked out under `jwtKey`. */
  private readonly verifiedJwts = new Map<string, { payload: JwtPayload; expMs: number | null }>();
  private ownerId = 0;
  /** True when this process created the hub-wide token (so start-up prints it once). */
  generatedCliApiToken = false;
  private readonly refusedNamespacesLogged = new Set<string>();

  constructor(
    private readonly engine: Engine,
    private readonly settings: AuthSettings,
    private readonly clock: Clock,
    private readonly log?: Logger,
  ) {}

  /** Loads (or creates, once cluster-wide) the hub secrets from the engine. */
  async init(): Promise<void> {
    if (this.settings.cliApiToken) {
      this.cliApiToken = this.settings.cliApiToken;
    } else {
      const candidate = generateToken();
      this.cliApiToken = await this.engine.coordination.getOrSetSecret(HUB_TOKEN_SECRET, candidate);
      this.generatedCliApiToken = this.cliApiToken === candidate;
    }
    const secret =
      this.settings.jwtSecret ??
      (await this.engine.coordination.getOrSetSecret('jwt-secret', randomBytes(32).toString('base64')));
    this.jwtKey = new TextEncoder().encode(secret);
    this.verifiedJwts.clear();
    const owner = await this.engine.coordination.getOrSetSecret(
      'owner-id',
      String(1 + randomBytes(6).readUIntBE(0, 6)),
    );
    this.ownerId = Number(owner);
    await this.engine.namespaces.register(DEFAULT_NAMESPACE, this.clock());
  }

  get hubToken(): string {
    return this.cliApiToken;
  }

  get userId(): number {
    return this.ownerId;
  }

  /** Verifies `base[:namespace]` against the hub-wide token or the namespace's own token. */
  async verifyAccessToken(raw: unknown): Promise<TokenCheck> {
    const parsed = parseAccessToken(raw);
    if (!parsed) return { ok: false };
    const { base, namespace } = parsed;
    const record = await this.engine.namespaces.get(namespace);
    if (record?.revoked) return { ok: false };
    const globalAllowed = this.settings.globalTokenEnabled || namespace === DEFAULT_NAMESPACE;
    if (globalAllowed && constantTimeEquals(base, this.cliApiToken)) {
      if (record) return { ok: true, namespace };
      // Closed registration: the answer is the bad-token one, so a client learns nothing about
      // which namespaces exist; the operator learns from the log which name was asked for.
      if (this.settings.namespaceRegistration === 'closed') {
        this.logRefusedNamespace(namespace);
        return { ok: false };
      }
      await this.engine.namespaces.register(namespace, this.clock());
      return { ok: true, namespace };
    }
    if (record?.tokenHash && constantTimeEquals(hashToken(base), record.tokenHash)) {
      return { ok: true, namespace };
    }
    return { ok: false };
  }

  private logRefusedNamespace(namespace: string): void {
    const logged = this.refusedNamespacesLogged;
    if (logged.has(namespace) || logged.size > REFUSED_NAMESPACE_LOG_LIMIT) return;
    logged.add(namespace);
    if (logged.size > REFUSED_NAMESPACE_LOG_LIMIT) {
      this.log?.warn(
        { limit: REFUSED_NAMESPACE_LOG_LIMIT },
        'closed registration: too many distinct unknown namespaces refused; no longer logging them',
      );
      return;
    }
    this.log?.warn(
      { namespace },
      'closed registration: hub-wide token refused for an unknown namespace (create it with `hapi-hub ns create`); logged once per name',
    );
  }

  /** Seed-document token-less mode: the namespace must be registered and not revoked. */
  async namespaceStatus(namespace: string): Promise<'registered' | 'unknown' | 'revoked'> {
    const record = await this.engine.namespaces.get(namespace);
    if (!record) return 'unknown';
    return record.revoked ? 'revoked' : 'registered';
  }

  async issueJwt(namespace: string): Promise<string> {
    const record = await this.engine.namespaces.get(namespace);
    return new SignJWT({ uid: this.ownerId, ns: namespace, gen: record?.generation ?? 0 })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime(JWT_LIFETIME)
      .sign(this.jwtKey);
  }

  /**
   * Verifies a web JWT. Tokens carry the namespace's token generation at issue time; rotating or
   * revoking the namespace moves the generation and so invalidates them (checked on every
   * request against the shared registry — no cache, so no staleness).
   */
  async verifyJwt(token: string): Promise<JwtCheck> {
    const verified = await this.verifiedPayload(token);
    if (!verified.ok) return verified;
    const payload = verified.payload;
    // The generation is checked on every request (not cached): rotation/revocation act at once.
    const record = await this.engine.namespaces.get(payload.ns);
    if (!record || record.revoked || record.generation !== (payload.gen ?? 0)) {
      return { ok: false, error: 'Invalid token' };
    }
    return { ok: true, namespace: payload.ns, userId: payload.uid };
  }

  /**
   * Signature, algorithm and expiry of a JWT. A token string's signature under a fixed key never
   * changes, so a success is remembered; only the expiry, which depends on the time, is checked
   * again on a hit — against the wall clock, as jose itself does.
   */
  private async verifiedPayload(
    token: string,
  ): Promise<{ ok: true; payload: JwtPayload } | { ok: false; error: 'Invalid token' | 'Invalid token payload' }> {
    const cached = this.verifiedJwts.get(token);
    if (cached) {
      if (cached.expMs === null || Date.now() < cached.expMs) return { ok: true, payload: cached.payload };
      this.verifiedJwts.delete(token);
      return { ok: false, error: 'Invalid token' };
    }
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.jwtKey, { algorithms: ['HS256'] }));
    } catch {
      return { ok: false, error: 'Invalid token' };
    }
    const parsed = JwtPayloadSchema.safeParse(payload);
    if (!parsed.success) return { ok: false, error: 'Invalid token payload' };
    const exp = (payload as { exp?: unknown }).exp;
    if (this.verifiedJwts.size >= VERIFIED_JWT_CACHE_SIZE) {
      const oldest = this.verifiedJwts.keys().next();
      if (!oldest.done) this.verifiedJwts.delete(oldest.value);
    }
    this.verifiedJwts.set(token, { payload: parsed.data, expMs: typeof exp === 'number' ? exp * 1000 : null });
    return { ok: true, payload: parsed.data };
  }
}

/** Namespace administration (the `hapi-hub ns` command). Returns the new token once. */
export class NamespaceAdmin {
  constructor(
    private readonly engine: Engine,
    private readonly clock: Clock,
  ) {}

  async create(namespace: string): Promise<{ token: string; record: NamespaceRecord }> {
    const token = generateToken();
    const record = await this.engine.namespaces.setToken(namespace, hashToken(token), this.clock());
    return { token, record };
  }

  async rotate(namespace: string): Promise<{ token: string; record: NamespaceRecord } | null> {
    if (!(await this.engine.namespaces.get(namespace))) return null;
    return this.create(namespace);
  }

  revoke(namespace: string): Promise<NamespaceRecord | null> {
    return this.engine.namespaces.revoke(namespace);
  }

  list(): Promise<NamespaceRecord[]> {
    return this.engine.namespaces.list();
  }
}
