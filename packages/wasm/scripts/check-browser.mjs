// Runs the wasm backend in headless Chromium and checks a grouped convolution and a matmul against
// the reference backend in the same page, twice: a page without cross-origin isolation (one
// thread, a plain memory, a warning) and a crossOriginIsolated one (COOP/COEP headers: Web Workers
// on a shared memory), where the results must also equal a one-thread backend's bit for bit and
// the kernels must have been split over the workers. Needs Debian's chromium at /usr/bin/chromium
// (or CHROMIUM_PATH), driven through @gpunet/dev-chromium; no browser is downloaded.
// Run: pnpm --filter @gpunet/wasm check:browser
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, listenOnLocalhost, pageResult } from '@gpunet/dev-chromium';
import { build } from 'esbuild';

const dir = await mkdtemp(join(tmpdir(), 'gpunet-wasm-browser-'));
const page = `import { Generator, conv2d, matmul, randn, registerBackend, setBackend } from '@gpunet/tensor';
import { WasmBackend } from '@gpunet/wasm';
const result = { messages: [] };
const warn = console.warn;
console.warn = (...args) => { result.messages.push(args.join(' ')); warn(...args); };
try {
  result.isolated = globalThis.crossOriginIsolated === true;
  await setBackend('reference');
  const g = new Generator(5);
  const x = randn([2, 4, 13, 11], { generator: g });
  const w = randn([6, 2, 3, 3], { generator: g });
  const a = randn([3, 40, 30], { generator: g });
  const b = randn([3, 30, 20], { generator: g });
  const expected = [conv2d(x, w, { groups: 2, padding: 1, stride: 2 }).dataSync(), matmul(a, b).dataSync()];
  await setBackend('wasm');
  const [xw, ww, aw, bw] = await Promise.all([x, w, a, b].map((t) => t.to('wasm')));
  const actual = [conv2d(xw, ww, { groups: 2, padding: 1, stride: 2 }).dataSync(), matmul(aw, bw).dataSync()];
  result.maxDiff = Math.max(...expected.map((e, i) => Math.max(...e.map((v, j) => Math.abs(v - actual[i][j])))));
  result.sizes = expected.map((e) => e.length);
  const { pool } = await import('@gpunet/tensor').then((m) => m.getBackend());
  result.threads = pool.size;
  if (pool.size > 1) {
    result.workersReady = await pool.whenReady();
    // Bigger shapes, so the work is split: batch 4 convolution (by images) and a 256 matmul.
    const x4 = randn([4, 8, 24, 24], { generator: g });
    const w4 = randn([16, 8, 3, 3], { generator: g });
    const a2 = randn([256, 256], { generator: g });
    const before = pool.parallelRuns;
    const threaded = [conv2d(x4, w4, { padding: 1 }).dataSync(), matmul(a2, a2).dataSync()];
    result.parallelRuns = pool.parallelRuns - before;
    registerBackend('wasm-1', () => WasmBackend.createSync({ threads: 1 }), -9);
    await setBackend('wasm-1');
    const one = [x4, w4, a2].map((t) => t.to('wasm-1'));
    const [x1, w1, a1] = await Promise.all(one);
    const single = [conv2d(x1, w1, { padding: 1 }).dataSync(), matmul(a1, a1).dataSync()];
    result.threadedEqualsSingle = threaded.every((t, i) => t.length === single[i].length && t.every((v, j) => Object.is(v, single[i][j])));
  }
} catch (error) {
  result.error = String((error && error.stack) || error);
}
globalThis.gpunetResult = result;
`;
// Resolved from this package, as an app depending on @gpunet/tensor and @gpunet/wasm would.
const packageRoot = fileURLToPath(new URL('..', import.meta.url));
await build({
  stdin: { contents: page, resolveDir: packageRoot, sourcefile: 'page.js' },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  outfile: join(dir, 'bundle.js'),
  logLevel: 'error',
});
await writeFile(
  join(dir, 'index.html'),
  '<!doctype html><script type="module" src="bundle.js"></script>',
);

const server = createServer(async (req, res) => {
  const { readFile } = await import('node:fs/promises');
  // /isolated/... is served with the headers that make a page crossOriginIsolated.
  const isolated = req.url.startsWith('/isolated/');
  const path = isolated ? req.url.slice('/isolated'.length) : req.url;
  const name = path === '/' ? 'index.html' : path.slice(1);
  try {
    const body = await readFile(join(dir, name));
    res.writeHead(200, {
      'content-type': name.endsWith('.js') ? 'text/javascript' : 'text/html',
      ...(isolated
        ? {
            'cross-origin-opener-policy': 'same-origin',
            'cross-origin-embedder-policy': 'require-corp',
          }
        : {}),
    });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
const origin = await listenOnLocalhost(server);
const browser = await launchChromium();

const plain = await pageResult(browser, `${origin}/`);
const isolated = await pageResult(browser, `${origin}/isolated/`);
await browser.close();
server.close();
await rm(dir, { recursive: true, force: true, maxRetries: 5 });
const failures = [];
for (const [name, result] of [
  ['plain page', plain],
  ['crossOriginIsolated page', isolated],
]) {
  if (result.error || !(result.maxDiff < 1e-4)) failures.push(`${name}: ${JSON.stringify(result)}`);
}
if (plain.isolated || plain.threads !== 1)
  failures.push(`plain page: expected one thread, got ${JSON.stringify(plain)}`);
if (
  !isolated.isolated ||
  !(isolated.threads > 1) ||
  !isolated.workersReady ||
  !(isolated.parallelRuns > 0) ||
  !isolated.threadedEqualsSingle
)
  failures.push(
    `crossOriginIsolated page: expected Web Workers that ran and matched one thread, got ${JSON.stringify(isolated)}`,
  );
if (failures.length > 0) {
  console.error(`wasm browser check FAILED:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(
  `wasm browser check passed: plain page, 1 thread, max difference ${plain.maxDiff} over ${plain.sizes.join(' + ')} values (${plain.messages.join('; ') || 'no warnings'}); ` +
    `crossOriginIsolated page, ${isolated.threads} threads (Web Workers), max difference ${isolated.maxDiff}, ${isolated.parallelRuns} kernel calls split over workers, equal to one thread bit for bit`,
);
process.exit(0);
