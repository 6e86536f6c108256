// RPC-wrapped session file/git operations (docs/protocol.md#files-and-git): the CLI's answer is passed through;
// a transport failure becomes `{success:false, error}` (HTTP 200), as upstream's runRpc does.
import { EngineUnavailableError } from '../../services/errors.js';
import { UPLOAD_MAX_BYTES, estimateBase64Bytes } from '../../protocol/web-rest.js';
import type { RpcGateway } from '../../services/rpc-gateway.js';
import { RpcBadAnswerError } from '../../services/errors.js';
import { errorMessage, fail, ok, rpcTransportReply, type WebReply } from './reply.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type RpcFailure = { success: false; error: string };

export type GeneratedImage =
  | { kind: 'not-modified'; etag: string }
  | { kind: 'missing'; error: string }
  | { kind: 'bytes'; etag: string; bytes: Buffer; mimeType: string; disposition: string };

/** Cache headers of generated images: their ids are immutable content fingerprints. */
export const GENERATED_IMAGE_CACHE_CONTROL = 'private, max-age=31536000, immutable';

function isWildcardSearch(query: string): boolean {
  return query.includes('*') || query.includes('?');
}

function wildcardToRegExp(pattern: string): RegExp {
  const source = [...pattern]
    .map((c) => (c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i');
}

/** Upstream matchesSearchQuery: case-insensitive substring, or `*` / `?` wildcards. */
export function matchesSearchQuery(value: string, query: string): boolean {
  const q = query.trim();
  if (!q) return true;
  return isWildcardSearch(q) ? wildcardToRegExp(q).test(value) : value.toLowerCase().includes(q.toLowerCase());
}

/** Upstream toSearchGlob: ripgrep glob for the prefilter, glob syntax in the query escaped. */
export function toSearchGlob(query: string): string {
  const q = query.trim();
  const pattern = isWildcardSearch(q) ? q : `*${q}*`;
  return [...pattern].map((c, i) => ('\\[]{}'.includes(c) || (i === 0 && c === '!') ? `\\${c}` : c)).join('');
}

function isWindowsPath(path: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\');
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => {
    const trimmed = candidate.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === bare;
  });
}

export class SessionFiles {
  constructor(private readonly rpc: RpcGateway) {}

  /** Upstream runRpc: every failure but a storage outage becomes `{success:false, error}`. */
  private async run(call: () => Promise<unknown>): Promise<unknown> {
    try {
      return await call();
    } catch (error) {
      // A refused answer is the CLI's fault, not a failed call: 502 rather than a 200 that hides it.
      if (error instanceof EngineUnavailableError || error instanceof RpcBadAnswerError) throw error;
      return { success: false, error: errorMessage(error) } satisfies RpcFailure;
    }
  }

  gitStatus(namespace: string, sid: string, cwd: string): Promise<unknown> {
    return this.run(() => this.rpc.gitStatus(namespace, sid, cwd));
  }

  gitDiffNumstat(namespace: string, sid: string, cwd: string, staged: boolean | undefined): Promise<unknown> {
    return this.run(() => this.rpc.gitDiffNumstat(namespace, sid, cwd, staged));
  }

  gitDiffFile(
    namespace: string,
    sid: string,
    cwd: string,
    filePath: string,
    staged: boolean | undefined,
  ): Promise<unknown> {
    return this.run(() => this.rpc.gitDiffFile(namespace, sid, cwd, filePath, staged));
  }

  readFile(namespace: string, sid: string, path: string): Promise<unknown> {
    return this.run(() => this.rpc.readFile(namespace, sid, path));
  }

  listDirectory(namespace: string, sid: string, path: string): Promise<unknown> {
    return this.run(() => this.rpc.listDirectory(namespace, sid, path));
  }

  /** GET …/files: ripgrep `--files` (optionally prefiltered), then statFiles for size/mtime. */
  async searchFiles(
    namespace: string,
    sid: string,
    cwd: string,
    rawQuery: string | undefined,
    limit: number,
  ): Promise<unknown> {
    const windows = isWindowsPath(cwd);
    const normalise = (path: string) => (windows ? path.replaceAll('\\', '/') : path);
    const query = normalise(rawQuery?.trim() ?? '');
    const args = ['--files'];
    if (query && !isWildcardSearch(query)) args.push('--iglob', toSearchGlob(query));
    const listed = await this.run(() => this.rpc.ripgrep(namespace, sid, args, cwd, { query, limit }));
    if (!isRecord(listed) || listed.success !== true) {
      const error = isRecord(listed) && typeof listed.error === 'string' ? listed.error : 'Failed to list files';
      return { success: false, error };
    }
    const stdout = typeof listed.stdout === 'string' ? listed.stdout : '';
    const paths = stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .map(normalise)
      .filter((path) => !query || matchesSearchQuery(path, query))
      .slice(0, limit);
    const stats = await this.run(() => this.rpc.statFiles(namespace, sid, paths));
    const byPath = new Map<string, { size?: unknown; modified?: unknown }>();
    if (isRecord(stats) && stats.success === true && Array.isArray(stats.entries)) {
      for (const entry of stats.entries)
        if (isRecord(entry) && typeof entry.path === 'string') byPath.set(entry.path, entry);
    }
    const files = paths.map((fullPath) => {
      const parts = fullPath.split('/');
      const meta = byPath.get(fullPath);
      return {
        fileName: parts[parts.length - 1] || fullPath,
        filePath: parts.slice(0, -1).join('/'),
        fullPath,
        fileType: 'file' as const,
        ...(typeof meta?.size === 'number' ? { size: meta.size } : {}),
        ...(typeof meta?.modified === 'number' ? { modified: meta.modified } : {}),
      };
    });
    return { success: true, files };
  }

  /** GET …/generated-images/:imageId — a matching If-None-Match is answered without the CLI. */
  async generatedImage(
    namespace: string,
    sid: string,
    imageId: string,
    ifNoneMatch: string | undefined,
  ): Promise<GeneratedImage> {
    const etag = `"${imageId}"`;
    if (etagMatches(ifNoneMatch, etag)) return { kind: 'not-modified', etag };
    const result = await this.run(() => this.rpc.readGeneratedImage(namespace, sid, imageId));
    if (
      !isRecord(result) ||
      result.success !== true ||
      typeof result.content !== 'string' ||
      result.content.length === 0
    ) {
      const error = isRecord(result) && typeof result.error === 'string' ? result.error : 'Generated image not found';
      return { kind: 'missing', error };
    }
    const declaredType = typeof result.mimeType === 'string' ? result.mimeType : undefined;
    const mimeType = declaredType ?? 'application/octet-stream';
    const inline = declaredType === undefined || /^(image|video|audio)\//.test(mimeType);
    const fileName = typeof result.fileName === 'string' ? result.fileName : 'generated-media';
    return {
      kind: 'bytes',
      etag,
      bytes: Buffer.from(result.content, 'base64'),
      mimeType,
      disposition: `${inline ? 'inline' : 'attachment'}; filename="${encodeURIComponent(fileName)}"`,
    };
  }

  /**
   * POST …/upload. A transport failure answers 503/504 `{success:false, error, code}` (upstream:
   * a JSON 500); the CLI's own answer is passed through.
   */
  async upload(
    namespace: string,
    sid: string,
    file: { filename: string; content: string; mimeType: string },
  ): Promise<WebReply> {
    if (estimateBase64Bytes(file.content) > UPLOAD_MAX_BYTES) {
      return { status: 413, body: { success: false, error: 'File too large (max 50MB)' } };
    }
    try {
      return this.passThrough(await this.rpc.uploadFile(namespace, sid, file));
    } catch (error) {
      return rpcTransportReply(error, { success: false });
    }
  }

  /** POST …/upload/delete. */
  async deleteUpload(namespace: string, sid: string, path: string): Promise<WebReply> {
    try {
      return this.passThrough(await this.rpc.deleteUpload(namespace, sid, path));
    } catch (error) {
      return rpcTransportReply(error, { success: false });
    }
  }

  private passThrough(result: unknown): WebReply {
    return isRecord(result)
      ? ok(result)
      : fail(502, 'Unexpected reply from the CLI', { success: false, code: 'rpc_bad_answer' });
  }

  /**
   * GET …/slash-commands: the CLI's list merged with the names in `metadata.slashCommands`
   * (CLI entries win); the metadata list alone when the CLI cannot answer.
   */
  async slashCommands(
    namespace: string,
    sid: string,
    flavor: string,
    metadata: Record<string, unknown> | null,
  ): Promise<unknown> {
    const fromMetadata = (Array.isArray(metadata?.slashCommands) ? metadata.slashCommands : [])
      .map((entry: unknown) =>
        typeof entry === 'string' ? entry : isRecord(entry) && typeof entry.name === 'string' ? entry.name : null,
      )
      .filter((name): name is string => name !== null && name.length > 0)
      .map((name) => ({ name, source: 'builtin' as const }));
    const result = await this.run(() => this.rpc.listSlashCommands(namespace, sid, flavor));
    if (isRecord(result) && result.success === true && Array.isArray(result.commands)) {
      const known = new Set(result.commands.map((c: unknown) => (isRecord(c) ? c.name : undefined)));
      return { ...result, commands: [...result.commands, ...fromMetadata.filter((c) => !known.has(c.name))] };
    }
    if (fromMetadata.length > 0) return { success: true, commands: fromMetadata };
    return result;
  }

  /** GET …/skills. */
  skills(namespace: string, sid: string, flavor: string): Promise<unknown> {
    return this.run(() => this.rpc.listSkills(namespace, sid, flavor));
  }
}
