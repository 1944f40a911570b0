/**
 * Headless Chromium for gpunet's browser tests and benchmarks, written once: Debian's chromium
 * (or CHROMIUM_PATH) driven by playwright-core, nothing downloaded, with the flags of the design
 * brief: WebGL through ANGLE on SwiftShader and WebGPU on SwiftShader's Vulkan (so every
 * browser mode runs on a machine without a GPU), and no network side traffic.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

/** WebGL and WebGPU on SwiftShader. */
export const SWIFTSHADER_FLAGS = [
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
];

/** No sandbox (CI runs as root), and no background traffic to the network. */
export const QUIET_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches headless Chromium with SWIFTSHADER_FLAGS and QUIET_FLAGS (plus `args`). */
export function launchChromium({ args = [] } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...SWIFTSHADER_FLAGS, ...QUIET_FLAGS, ...args],
  });
}

/**
 * Starts `server` (a node:http server) on a free port of 127.0.0.1 and resolves with its origin,
 * `http://127.0.0.1:<port>`. Pages are served there rather than opened as about:blank because
 * WebGPU (navigator.gpu) and cross-origin isolation exist only in a secure context, and
 * localhost is one.
 */
export async function listenOnLocalhost(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${server.address().port}`;
}

/**
 * Opens `url` in a new page of `browser` and resolves with the value the page stores in
 * `globalThis.gpunetResult` (as JSON), or with `{ error }` when the page throws an uncaught
 * error first or `timeout` ms pass. The page is closed either way.
 */
export async function pageResult(browser, url, timeout = 180_000) {
  const page = await browser.newPage();
  try {
    const failed = new Promise((resolve) =>
      page.once('pageerror', (error) => resolve({ error: `page error: ${error.stack ?? error}` })),
    );
    const done = page
      .waitForFunction(() => globalThis.gpunetResult !== undefined, null, { timeout, polling: 200 })
      .then(() => page.evaluate(() => globalThis.gpunetResult))
      .catch((error) => ({ error: `no result from the page: ${error.message}` }));
    await page.goto(url);
    return await Promise.race([done, failed]);
  } finally {
    await page.close();
  }
}

/**
 * Bundles `entry` for the browser (an ES module; the packages' Node-only imports are never
 * reached in a page and stay external) and serves it as `/bench.js` beside an empty page titled
 * `title`, on 127.0.0.1. Resolves with the server and the page's URL; load the script in the
 * page with `page.addScriptTag({ url: '/bench.js', type: 'module' })`.
 */
export async function serveBundle(entry, title) {
  const outfile = join(mkdtempSync(join(tmpdir(), 'gpunet-page-')), 'bench.js');
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outfile,
    logLevel: 'warning',
    external: ['node:*', 'fs', 'path', 'os', 'worker_threads', 'url', 'module', 'crypto', 'zlib'],
  });
  const code = readFileSync(outfile, 'utf8');
  const server = createServer((request, response) => {
    if (request.url === '/bench.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(code);
    } else {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`<!doctype html><title>${title}</title>`);
    }
  });
  return { server, pageUrl: `${await listenOnLocalhost(server)}/` };
}
