// Runs the wasm backend in headless Chromium (a page without cross-origin isolation, so one
// thread and a plain memory) and checks a grouped convolution and a matmul against the reference
// backend in the same page. Needs Chromium (Debian: apt-get install chromium; or CHROMIUM=/path).
// Not run by pnpm test. Run: pnpm --filter @gpunet/wasm build && node scripts/check-browser.mjs
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dir = await mkdtemp(join(tmpdir(), 'gpunet-wasm-browser-'));
const page = `import { Generator, conv2d, matmul, randn, setBackend } from '@gpunet/tensor';
import '@gpunet/wasm';
const result = { messages: [] };
const warn = console.warn;
console.warn = (...args) => { result.messages.push(args.join(' ')); warn(...args); };
try {
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
} catch (error) {
  result.error = String((error && error.stack) || error);
}
await fetch('/result', { method: 'POST', body: JSON.stringify(result) });
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

let resolveResult;
const resultPromise = new Promise((r) => {
  resolveResult = r;
});
const server = createServer(async (req, res) => {
  if (req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += chunk;
    res.end('ok');
    resolveResult(JSON.parse(body));
    return;
  }
  const { readFile } = await import('node:fs/promises');
  const name = req.url === '/' ? 'index.html' : req.url.slice(1);
  try {
    const body = await readFile(join(dir, name));
    res.writeHead(200, { 'content-type': name.endsWith('.js') ? 'text/javascript' : 'text/html' });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const chromium = spawn(
  process.env.CHROMIUM ?? 'chromium',
  [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--user-data-dir=${join(dir, 'profile')}`,
    `http://127.0.0.1:${server.address().port}/`,
  ],
  { stdio: 'ignore' },
);
const timeout = setTimeout(() => resolveResult({ error: 'timed out after 60 s' }), 60_000);
const result = await resultPromise;
clearTimeout(timeout);
const exited = new Promise((r) => chromium.once('exit', r));
chromium.kill();
await exited;
server.close();
await rm(dir, { recursive: true, force: true });
if (result.error || !(result.maxDiff < 1e-4)) {
  console.error('wasm browser check FAILED:', JSON.stringify(result));
  process.exit(1);
}
console.log(
  `wasm browser check passed: max difference ${result.maxDiff} over ${result.sizes.join(' + ')} values; ${result.messages.join('; ') || 'no warnings'}`,
);
process.exit(0);
