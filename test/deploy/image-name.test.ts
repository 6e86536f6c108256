// One image name and tag everywhere a person or a tool reads it: README, docker-compose.yml, the
// Dockerfile's usage comment, the chart, the kustomize overlays and the release workflow. The
// renderings themselves are checked by hub-invariants.ts (every pod runs …/hapi-hub-cluster:0.1.0).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { IMAGE_NAME, IMAGE_NAME_AND_TAG } from './image.js';
import { REPO_ROOT } from './k8s-tools.js';

const SOURCES = ['README.md', 'docker-compose.yml', 'deploy/Dockerfile', 'deploy/helm', 'k8s', '.github/workflows'];
/** Tags that stand for "the version being released", in the workflow and its comments. */
const PLACEHOLDER_TAGS = new Set(['<tag>', '<version>']);

function files(path: string): string[] {
  const absolute = join(REPO_ROOT, path);
  if (!statSync(absolute).isDirectory()) return [path];
  return readdirSync(absolute).flatMap((entry) => files(join(path, entry)));
}

describe(`the image is ${IMAGE_NAME_AND_TAG} everywhere`, () => {
  it('every name:tag reference in the docs, compose, chart, overlays and workflow uses the one tag', () => {
    const references: string[] = [];
    for (const file of SOURCES.flatMap(files)) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      for (const match of text.matchAll(new RegExp(`${IMAGE_NAME}:([^\\s"'\`|)}]+)`, 'g')))
        references.push(`${relative(REPO_ROOT, join(REPO_ROOT, file))}: ${match[0]}`);
    }
    expect(references.length).toBeGreaterThan(0);
    expect(
      references.filter(
        (r) =>
          !r.endsWith(`:${IMAGE_NAME_AND_TAG.split(':')[1]}`) && !PLACEHOLDER_TAGS.has(r.split(`${IMAGE_NAME}:`)[1]!),
      ),
    ).toEqual([]);
  });

  it("docker-compose.yml's hub image defaults to it", () => {
    const compose = parseYaml(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { image?: string }>;
    };
    const image = compose.services.hub?.image ?? '';
    // `${HAPI_IMAGE:-name:tag}`: the default after `:-`.
    expect(/^\$\{[A-Z_]+:-(.+)\}$/.exec(image)?.[1] ?? image).toBe(IMAGE_NAME_AND_TAG);
  });

  it('the kustomize base and the chart name the image without a registry (built and loaded locally), the tag in one place each', () => {
    const base = parseYaml(readFileSync(join(REPO_ROOT, 'k8s/base/kustomization.yaml'), 'utf8')) as {
      images: { name: string; newTag: string }[];
    };
    expect(base.images).toEqual([{ name: IMAGE_NAME, newTag: IMAGE_NAME_AND_TAG.split(':')[1] }]);
    const values = parseYaml(readFileSync(join(REPO_ROOT, 'deploy/helm/hapi-hub/values.yaml'), 'utf8')) as {
      image: { repository: string; tag: string };
    };
    expect(values.image).toMatchObject({ repository: IMAGE_NAME, tag: '' });
  });
});
