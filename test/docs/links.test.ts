// The docs in docs/ are what comments cite: every `docs/<file>.md#<anchor>` in the repository must
// name a heading that exists, and no comment may cite documents that are not in the repository.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const DOCS = ['protocol.md', 'design.md', 'decisions.md'] as const;
const SCANNED_DIRS = ['src', 'test', 'tools', 'scripts', 'docs'];
const SCANNED_FILES = ['README.md', 'BENCHMARKS.md'];
const TEXT_FILE = /\.(ts|mjs|js|lua|md|cfg|yaml|yml|json)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.cache', 'results']);
/** Bounds the walk: the repository has a few hundred files. */
const MAX_FILES = 5_000;

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const withoutFences = markdown.replace(/```[\s\S]*?```/g, '');
  return new Set([...withoutFences.matchAll(/^#+\s+(.+)$/gm)].map((match) => anchorOf(match[1] ?? '')));
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (out.length >= MAX_FILES) return;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIPPED_DIRS.has(name)) walk(path, out);
    } else if (TEXT_FILE.test(name)) {
      out.push(path);
    }
  }
}

function scannedFiles(): string[] {
  const files: string[] = SCANNED_FILES.map((name) => join(root, name));
  for (const dir of SCANNED_DIRS) walk(join(root, dir), files);
  return files;
}

describe('docs/ cross-references', () => {
  const anchors = new Map(DOCS.map((doc) => [doc, anchorsOf(readFileSync(join(root, 'docs', doc), 'utf8'))]));

  it('every docs/<file>.md#<anchor> names an existing heading', () => {
    const broken: string[] = [];
    let links = 0;
    for (const file of scannedFiles()) {
      const text = readFileSync(file, 'utf8');
      const inDocs = relative(root, file).startsWith('docs');
      // `docs/x.md#a` anywhere; inside docs/ also the relative form `(x.md#a)`.
      const pattern = inDocs
        ? /(?:docs\/)?(protocol|design|decisions)\.md#([\w-]+)/g
        : /docs\/(protocol|design|decisions)\.md#([\w-]+)/g;
      for (const match of text.matchAll(pattern)) {
        links += 1;
        const doc = `${match[1]}.md` as (typeof DOCS)[number];
        if (!anchors.get(doc)?.has(match[2] ?? '')) broken.push(`${relative(root, file)}: ${match[0]}`);
      }
      if (inDocs) {
        const own = anchors.get(relative(join(root, 'docs'), file) as (typeof DOCS)[number]);
        for (const match of text.matchAll(/\]\(#([\w-]+)\)/g)) {
          links += 1;
          if (own && !own.has(match[1] ?? '')) broken.push(`${relative(root, file)}: #${match[1]}`);
        }
      }
    }
    expect(links).toBeGreaterThan(50);
    expect(broken).toEqual([]);
  });

  it('no file cites documents outside the repository (contract, upstream digests, architecture note)', () => {
    const self = relative(root, import.meta.filename);
    const outside = new RegExp(['SPEC §', 'reference §', 'WEB §', 'CLI §', 'ARCHITECTURE\\.md'].join('|'));
    const citing = scannedFiles()
      .filter((file) => relative(root, file) !== self && !relative(root, file).startsWith('docs'))
      .filter((file) => outside.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    expect(citing).toEqual([]);
  });
});
