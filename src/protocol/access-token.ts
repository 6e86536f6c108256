// Upstream access-token grammar: `base` or `base:namespace`, split at the last ':'.
import { z } from 'zod';

export const DEFAULT_NAMESPACE = 'default';

/**
 * Namespace names end up inside Redis key hash tags (`hapi:{<ns>}:…`), so they are limited to a
 * conservative character set; anything else is treated as an invalid token.
 */
export const NamespaceNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.@-]{1,128}$/, 'namespace must be 1-128 characters of A-Z a-z 0-9 _ . @ -');

export interface ParsedAccessToken {
  base: string;
  namespace: string;
}

export function parseAccessToken(raw: unknown): ParsedAccessToken | null {
  if (typeof raw !== 'string') return null;
  const token = raw.trim();
  if (token.length === 0) return null;
  const cut = token.lastIndexOf(':');
  if (cut === -1) return { base: token, namespace: DEFAULT_NAMESPACE };
  const base = token.slice(0, cut);
  const namespace = token.slice(cut + 1);
  if (base.length === 0 || namespace.length === 0) return null;
  if (base.trim() !== base || namespace.trim() !== namespace) return null;
  if (!NamespaceNameSchema.safeParse(namespace).success) return null;
  return { base, namespace };
}
