// Limits for opaque JSON documents (session metadata and agent state, machine metadata and runner
// state, message content, machine health, RPC answers). The hub stores, copies (structuredClone),
// merges and re-serialises these documents with recursive code, so a document nested a few
// thousand levels deep overflows the stack far away from where it came in. Every inbound document
// is therefore checked here, once, by an iterative walk that cannot overflow itself.
import { z } from 'zod';

/** Deepest nesting of arrays/objects accepted in any document (`{}` is depth 1). */
export const JSON_MAX_DEPTH = 128;

const MiB = 1024 * 1024;

/**
 * Largest document of each kind, in bytes of its compact JSON text (strings counted as UTF-8,
 * escapes not counted). Generous for what the real CLI sends; small enough that one client cannot
 * make the hub hold or copy hundreds of megabytes per write.
 */
export const DOCUMENT_MAX_BYTES = {
  metadata: 1 * MiB,
  agentState: 8 * MiB,
  runnerState: 1 * MiB,
  machineHealth: 64 * 1024,
  messageContent: 16 * MiB,
  /** RPC answers are already capped by the Socket.IO packet limit; this only bounds the walk. */
  rpcAnswer: 64 * MiB,
} as const;
export type DocumentKind = keyof typeof DOCUMENT_MAX_BYTES;

export type DocumentProblem = 'too-deep' | 'too-large' | 'not-json';

export interface DocumentLimits {
  maxDepth: number;
  maxBytes: number;
}

export function limitsFor(kind: DocumentKind): DocumentLimits {
  return { maxDepth: JSON_MAX_DEPTH, maxBytes: DOCUMENT_MAX_BYTES[kind] };
}

function isPlainContainer(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function scalarBytes(value: unknown): number | 'not-json' {
  switch (typeof value) {
    case 'string':
      return Buffer.byteLength(value, 'utf8') + 2;
    case 'number':
      return Number.isFinite(value) ? String(value).length : 'not-json';
    case 'boolean':
      return value ? 4 : 5;
    case 'undefined':
      // Only in-process values carry undefined; JSON drops it (object keys) or writes null (arrays).
      return 4;
    default:
      return value === null ? 4 : 'not-json';
  }
}

/**
 * The first limit `value` breaks, or null when it is a JSON value within `limits`. Iterative
 * (explicit stack), stops as soon as a limit is crossed, so its cost is bounded by `maxBytes`.
 * Binary (Buffers from Socket.IO attachments), functions, class instances and non-finite numbers
 * are 'not-json'.
 */
export function inspectJsonDocument(value: unknown, limits: DocumentLimits): DocumentProblem | null {
  let bytes = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; depth: number };
    const current = item.value;
    if (typeof current !== 'object' || current === null) {
      const size = scalarBytes(current);
      if (size === 'not-json') return 'not-json';
      bytes += size;
    } else {
      if (!isPlainContainer(current)) return 'not-json';
      const depth = item.depth + 1;
      if (depth > limits.maxDepth) return 'too-deep';
      bytes += 2;
      if (Array.isArray(current)) {
        bytes += Math.max(0, current.length - 1);
        for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i] as unknown, depth });
      } else {
        for (const [key, child] of Object.entries(current)) {
          bytes += Buffer.byteLength(key, 'utf8') + 4; // "key": and a comma
          stack.push({ value: child, depth });
        }
      }
    }
    if (bytes > limits.maxBytes) return 'too-large';
  }
  return null;
}

/**
 * Nesting depth check on JSON *text* without parsing it (RPC answers arrive as JSON strings):
 * counts brackets outside string literals. True when the text nests deeper than `maxDepth`.
 */
export function jsonTextTooDeep(text: string, maxDepth: number = JSON_MAX_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

const PROBLEM_MESSAGES: Record<DocumentProblem, (kind: DocumentKind) => string> = {
  'too-deep': (kind) => `${kind} nests deeper than ${JSON_MAX_DEPTH} levels`,
  'too-large': (kind) => `${kind} is larger than ${DOCUMENT_MAX_BYTES[kind]} bytes`,
  'not-json': (kind) => `${kind} is not a JSON value`,
};

/** Marker in a zod issue's params that says which document limit the input broke. */
interface DocumentIssueParams {
  documentProblem: DocumentProblem;
}

/**
 * An opaque JSON document of `kind` (any JSON value, undefined included — wrap in a refinement
 * where a value is required), refused when too deep, too large or not JSON.
 */
export function jsonDocument(kind: DocumentKind) {
  const limits = limitsFor(kind);
  return z.unknown().superRefine((value, ctx) => {
    const problem = inspectJsonDocument(value, limits);
    if (problem === null) return;
    const params: DocumentIssueParams = { documentProblem: problem };
    ctx.addIssue({ code: 'custom', message: PROBLEM_MESSAGES[problem](kind), params });
  });
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Message content as the CLI sends it: a JSON value, or a string the hub will try to parse as
 * JSON — so a string is checked as the document it will become (text that does not parse stays a
 * plain string, whatever brackets it holds).
 */
export function messageContentDocument() {
  const limits = limitsFor('messageContent');
  return z.unknown().superRefine((value, ctx) => {
    let problem = inspectJsonDocument(value, limits);
    if (problem === null && typeof value === 'string' && jsonTextTooDeep(value) && parsesAsJson(value))
      problem = 'too-deep';
    if (problem === null) return;
    const params: DocumentIssueParams = { documentProblem: problem };
    ctx.addIssue({ code: 'custom', message: PROBLEM_MESSAGES[problem]('messageContent'), params });
  });
}

/**
 * What is wrong with a CLI's RPC answer (null: nothing). Answers are usually JSON text that the
 * hub parses and re-serialises for the web caller, so text is checked as the value it becomes.
 */
export function rpcAnswerProblem(answer: unknown): DocumentProblem | null {
  const limits = limitsFor('rpcAnswer');
  if (typeof answer !== 'string') return inspectJsonDocument(answer, limits);
  return jsonTextTooDeep(answer, limits.maxDepth) && parsesAsJson(answer) ? 'too-deep' : null;
}

/** HTTP answer for a request refused because of a document limit (null: no document issue). */
export interface DocumentRefusal {
  status: 400 | 413;
  code: 'document_too_large' | 'document_too_deep' | 'document_not_json';
}

export function documentRefusal(issues: readonly z.core.$ZodIssue[]): DocumentRefusal | null {
  const problems = new Set<DocumentProblem>();
  for (const issue of issues) {
    const params = (issue as { params?: Partial<DocumentIssueParams> }).params;
    if (params?.documentProblem) problems.add(params.documentProblem);
  }
  if (problems.has('too-large')) return { status: 413, code: 'document_too_large' };
  if (problems.has('too-deep')) return { status: 400, code: 'document_too_deep' };
  if (problems.has('not-json')) return { status: 400, code: 'document_not_json' };
  return null;
}
