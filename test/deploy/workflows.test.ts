// .github/workflows: every workflow passes actionlint (it cannot run here), and the release
// workflow does what the README says — on a version tag, build deploy/Dockerfile and push
// ghcr.io/<owner>/hapi-hub-cluster:<version>, package the chart with its default image pointed
// there and push it as OCI — checked against the files it edits and reads.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { actionlint } from './actionlint.js';
import { IMAGE_NAME, IMAGE_TAG } from './image.js';
import { REPO_ROOT } from './k8s-tools.js';

const WORKFLOWS_DIR = '.github/workflows';
const RELEASE = `${WORKFLOWS_DIR}/release.yml`;

const workflowFiles = readdirSync(join(REPO_ROOT, WORKFLOWS_DIR)).filter((f) => /\.ya?ml$/.test(f));
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: { push?: { tags?: string[] } };
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

describe('GitHub Actions workflows', () => {
  it('there is at least the release workflow', () => {
    expect(workflowFiles).toContain('release.yml');
  });

  it.each(workflowFiles)(
    '%s passes actionlint',
    async (file) => {
      expect(await actionlint(read(`${WORKFLOWS_DIR}/${file}`), `${WORKFLOWS_DIR}/${file}`)).toEqual([]);
    },
    120_000,
  );

  it('actionlint is live: a misspelt action input and context property are errors', async () => {
    const broken = read(RELEASE)
      .replace('          push: true', '          pushh: true')
      .replace('${{ github.ref_name }}', '${{ github.ref_nam }}');
    const errors = await actionlint(broken, RELEASE);
    expect(errors.map((e) => e.kind).sort()).toEqual(['action', 'expression']);
    expect(errors.find((e) => e.kind === 'action')?.message).toContain(
      'input "pushh" is not defined in action "docker/build-push-action@v6"',
    );
  }, 120_000);
});

describe('release workflow', () => {
  const workflow = parseYaml(read(RELEASE)) as Workflow;
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const step = (uses: string) => steps.find((s) => s.uses?.startsWith(`${uses}@`));
  const runs = steps.map((s) => s.run ?? '').join('\n');

  it('runs on version tags only, read-only by default, packages: write only where it pushes', () => {
    expect(Object.keys(workflow.on)).toEqual(['push']);
    expect(workflow.on.push?.tags).toEqual(['v*.*.*']);
    expect(workflow.permissions).toEqual({ contents: 'read' });
    const writers = Object.entries(workflow.jobs)
      .filter(([, job]) => job.permissions?.packages === 'write')
      .map(([name]) => name);
    expect(writers.sort()).toEqual(['chart', 'image']);
  });

  it('tests before it pushes, and pushes the chart only after the image', () => {
    const needs = (name: string) => [workflow.jobs[name]?.needs ?? []].flat();
    expect(needs('image')).toContain('test');
    expect(needs('chart')).toContain('image');
  });

  it(`builds deploy/Dockerfile and pushes ghcr.io/<owner>/${IMAGE_NAME}:<version>`, () => {
    const build = step('docker/build-push-action');
    expect(build?.with).toMatchObject({ context: '.', file: 'deploy/Dockerfile', push: true });
    expect(read(build!.with!.file as string)).toMatch(/^FROM /m);
    expect(workflow.env?.IMAGE_NAME).toBe(IMAGE_NAME);
    expect(step('docker/metadata-action')?.with?.images).toBe(
      'ghcr.io/${{ needs.version.outputs.owner }}/${{ env.IMAGE_NAME }}',
    );
    expect(step('docker/login-action')?.with).toMatchObject({
      registry: 'ghcr.io',
      password: '${{ secrets.GITHUB_TOKEN }}',
    });
  });

  it('checks the tag against package.json and the chart, whose versions are the image tag', () => {
    const pkg = JSON.parse(read('package.json')) as { version: string };
    expect(pkg.version).toBe(IMAGE_TAG);
    expect(runs).toContain(`grep -qx "version: $version" "$CHART_DIR/Chart.yaml"`);
    expect(runs).toContain(`grep -qx "appVersion: \\"$version\\"" "$CHART_DIR/Chart.yaml"`);
    const chart = read(`${workflow.env?.CHART_DIR}/Chart.yaml`).split('\n');
    expect(chart).toContain(`version: ${IMAGE_TAG}`);
    expect(chart).toContain(`appVersion: "${IMAGE_TAG}"`);
  });

  it("points the packaged chart's default image at the pushed one (the sed matches values.yaml exactly once)", () => {
    const sed = /sed -i "s\|\^(.+?)\$\|/.exec(runs);
    expect(sed).not.toBeNull();
    const pattern = new RegExp(`^${sed![1]}$`);
    const matches = read(`${workflow.env?.CHART_DIR}/values.yaml`)
      .split('\n')
      .filter((line) => pattern.test(line));
    expect(matches).toEqual([`  repository: ${IMAGE_NAME}`]);
  });

  it('packages the chart and pushes it to oci://ghcr.io/<owner>/charts', () => {
    expect(runs).toContain('helm registry login ghcr.io --username "$ACTOR" --password-stdin');
    expect(runs).toContain(
      'helm package "$CHART_DIR" --version "$VERSION" --app-version "$VERSION" --destination dist-chart',
    );
    expect(runs).toContain('helm push "dist-chart/hapi-hub-$VERSION.tgz" "oci://ghcr.io/$OWNER/charts"');
  });
});
