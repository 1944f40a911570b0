#!/usr/bin/env node
/**
 * The package's `test`: the Node modes (vitest, under `xvfb-run -a` for headlessgl) and then the
 * browser modes (test/browser/run.mjs), always both, so that a failure in one does not hide the
 * other's results. Exits non-zero if either failed, and says which.
 *
 *   node test/run.mjs [--node cpu,webasm,headlessgl,webgpu] [--browser webgl2,webgl,webgpu]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    node: { type: 'string', default: 'cpu,webasm,headlessgl,webgpu' },
    browser: { type: 'string', default: 'webgl2,webgl,webgpu' },
  },
});

/** Runs a command in the package, its output shown as it comes; true if it exited with 0. */
function run(command, args, env = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  if (result.error) console.error(`${command}: ${result.error.message}`);
  return result.status === 0;
}

const failed = [];
if (values.node) {
  const vitest = ['vitest', 'run'];
  // headlessgl needs an X display: a virtual one where there is none.
  const isNodePassed = process.env.DISPLAY
    ? run('pnpm', ['exec', ...vitest], { GPUNET_MODES: values.node })
    : run('xvfb-run', ['-a', 'pnpm', 'exec', ...vitest], { GPUNET_MODES: values.node });
  if (!isNodePassed) failed.push(`Node modes (${values.node})`);
}
if (values.browser) {
  const modes = values.browser.split(',').filter(Boolean);
  if (!run('node', ['test/browser/run.mjs', ...modes]))
    failed.push(`browser modes (${values.browser})`);
}
if (failed.length > 0) {
  console.error(`@gpunet/kernels test: FAILED: ${failed.join('; ')}`);
  process.exit(1);
}
console.log('@gpunet/kernels test: Node and browser modes passed');
