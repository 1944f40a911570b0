#!/usr/bin/env node
/**
 * Runs the conformance suite in headless Chromium (SwiftShader) for each browser mode named on
 * the command line (default: webgl2 webgl). Bundles test/browser/entry.ts with esbuild, loads it
 * into a blank page, and exits non-zero if a mode cannot start or any case fails: a mode that
 * cannot start FAILS the run, it is never skipped.
 *
 *   node test/browser/run.mjs webgl2 webgl
 *   GPUNET_CASES=conv,matmul node test/browser/run.mjs webgpu   (only the cases whose name
 *                                                               contains one of these words)
 *
 * Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH); no browser is downloaded.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, listenOnLocalhost } from '@gpunet/dev-chromium';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const modes =
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['webgl2', 'webgl', 'webgpu'];
const bundle = join(mkdtempSync(join(tmpdir(), 'gpunet-browser-')), 'suite.js');

await build({
  entryPoints: [join(here, 'entry.ts')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'chrome120',
  outfile: bundle,
  logLevel: 'warning',
});

const browser = await launchChromium();

// A page on http://127.0.0.1 rather than about:blank: WebGPU (navigator.gpu) exists only in a
// secure context, and localhost is one.
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/html' });
  response.end('<!doctype html><title>gpunet conformance</title>');
});
const pageUrl = `${await listenOnLocalhost(server)}/`;

let isFailed = false;
for (const mode of modes) {
  const started = Date.now();
  const page = await browser.newPage();
  page.on('console', (message) => console.log(`  [${mode}] ${message.text()}`));
  page.on('pageerror', (error) => console.log(`  [${mode}] page error: ${error.message}`));
  await page.goto(pageUrl);
  await page.evaluate(
    ({ m, cases }) => {
      globalThis.GPUNET_MODE = m;
      globalThis.GPUNET_CASES = cases;
    },
    { m: mode, cases: process.env.GPUNET_CASES?.split(',').filter(Boolean) ?? null },
  );
  await page.addScriptTag({ path: bundle });
  // A mode's whole suite: about 4 minutes for webgpu on SwiftShader on 2 idle cores, and over
  // 9 on 2 cores shared with other test runs (the CI machine), so 25 minutes before giving up.
  await page.waitForFunction(() => globalThis.gpunetResults?.isDone === true, null, {
    timeout: 1_500_000,
    polling: 500,
  });
  const results = await page.evaluate(() => globalThis.gpunetResults);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (results.startError) {
    console.log(`${mode}: FAILED to start: ${results.startError}`);
    isFailed = true;
  } else {
    const failed = results.cases.filter((c) => !c.isPassed);
    console.log(
      `${mode}: ${results.cases.length - failed.length} of ${results.cases.length} cases passed in ${seconds} s`,
    );
    if (failed.length > 0 || results.cases.length === 0) isFailed = true;
  }
  await page.close();
}
await browser.close();
server.close();
process.exit(isFailed ? 1 : 0);
