// `hapi-hub ns create|list|rotate|revoke <name>` against the configured engine.
import type { HubConfig } from './config.js';
import { LIMITS_USAGE, runLimitsCommand } from './admin/limits-command.js';
import { createEngine } from './engine/index.js';
import { NamespaceNameSchema } from './protocol/access-token.js';
import { NamespaceAdmin } from './services/auth.js';
import { systemClock } from './services/clock.js';

const USAGE = ['usage: hapi-hub ns create|rotate|revoke <namespace> | hapi-hub ns list', ...LIMITS_USAGE].join('\n');

export async function runNamespaceCommand(
  config: HubConfig,
  args: string[],
  out: (line: string) => void,
): Promise<number> {
  const [action, name] = args;
  if (action === 'set-limits' || action === 'limits') return runLimits(config, action, name, args.slice(2), out);
  if (action !== 'list') {
    if (!['create', 'rotate', 'revoke'].includes(action ?? '') || name === undefined) {
      out(USAGE);
      return 2;
    }
    if (!isValidName(name, out)) return 2;
  }
  const engine = await createEngine(config);
  try {
    const admin = new NamespaceAdmin(engine, systemClock);
    if (action === 'list') {
      for (const ns of await admin.list()) {
        out(
          `${ns.name}\tcreated=${new Date(ns.createdAt).toISOString()}\ttoken=${ns.tokenHash ? 'yes' : 'no'}\trevoked=${ns.revoked}\tgeneration=${ns.generation}`,
        );
      }
      return 0;
    }
    const ns = name as string;
    if (action === 'revoke') {
      const record = await admin.revoke(ns);
      out(record ? `revoked ${ns}: its token and web sessions no longer work` : `unknown namespace: ${ns}`);
      return record ? 0 : 1;
    }
    const issued = action === 'create' ? await admin.create(ns) : await admin.rotate(ns);
    if (!issued) {
      out(`unknown namespace: ${ns}`);
      return 1;
    }
    out(`${action === 'create' ? 'created' : 'rotated'} ${ns}; its access token (shown once):`);
    out(`${issued.token}:${ns}`);
    return 0;
  } finally {
    await engine.close();
  }
}

/** Says why `name` is not a namespace name, if it is not. */
function isValidName(name: string, out: (line: string) => void): boolean {
  const valid = NamespaceNameSchema.safeParse(name);
  if (!valid.success) out(`invalid namespace name: ${valid.error.issues[0]?.message ?? 'invalid'}`);
  return valid.success;
}

async function runLimits(
  config: HubConfig,
  action: 'set-limits' | 'limits',
  name: string | undefined,
  args: string[],
  out: (line: string) => void,
): Promise<number> {
  if (name !== undefined && !isValidName(name, out)) return 2;
  const engine = await createEngine(config);
  try {
    return await runLimitsCommand(config, engine, action, name, args, out);
  } finally {
    await engine.close();
  }
}
