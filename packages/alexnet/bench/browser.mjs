import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, serveBundle } from '@gpunet/dev-chromium';
import { writeBenchSection } from './doc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1].split(',') : fallback;
};
const quick = process.argv.includes('--quick');
const modes = option('--modes', ['webgl2', 'webgpu']);
const variants = option(
  '--variant',
  option('--variants', quick ? ['paper'] : ['paper', 'torchvision']),
);
// --budget-s: the batch-16 cells of a side run only when its one image took at most this long
// (default 1 s); --page-timeout-s: the time limit of each page (also GPUNET_PAGE_TIMEOUT_S).
const BUDGET_S = Number(option('--budget-s', ['1'])[0]);
const PAGE_TIMEOUT_S = Number(
  option('--page-timeout-s', [process.env.GPUNET_PAGE_TIMEOUT_S ?? (quick ? 180 : 300)])[0],
);
for (const [flag, value] of [
  ['--budget-s', BUDGET_S],
  ['--page-timeout-s', PAGE_TIMEOUT_S],
]) {
  if (!(value > 0)) throw new Error(`${flag}: expected a positive number of seconds`);
}
// --cells: which cells to measure, of b1, b16 and train (default all): `--cells train` times the
// batch-16 training step of both sides alone, so that it fits a page's time on SwiftShader.
const CELLS = option('--cells', ['b1', 'b16', 'train']);
for (const c of CELLS) {
  if (!['b1', 'b16', 'train'].includes(c))
    throw new Error(`--cells: expected some of b1, b16, train, got '${c}'`);
}
// --section NAME: write the section "... beside TF.js (NAME)" instead of the main one, so that a
// run of some cells leaves the main table in place.
const SECTION = option('--section', [null])[0];
const loadStart = loadavg()[0];

const browser = await launchChromium();
// A page on http://127.0.0.1 (a secure context: WebGPU needs one) serving the bundle as a module.
const { server, pageUrl } = await serveBundle(
  join(here, 'browser-entry.mjs'),
  'gpunet AlexNet bench',
);
const userAgent = await browser.version();

const rows = [];
const checks = [];
/** A page's partial cells with the unmeasured ones marked as over the time limit. */
const withOver = (cells, over) => ({
  ...cells,
  ...Object.fromEntries(CELLS.map((c) => [c, cells?.[c] ?? over])),
});
/** How many calls each measured cell timed, after its warm-up. */
const timedCalls = [];
const noteTimed = (who, cells) => {
  const counts = Object.entries(cells?.timed ?? {}).map(([c, n]) => `${c} ${n}`);
  if (counts.length > 0) timedCalls.push(`${who}: ${counts.join(', ')}`);
};
for (const variant of variants) {
  for (const mode of modes) {
    process.stderr.write(`${variant} on ${mode} (gpu.js) and TF.js in Chromium...\n`);
    const page = await browser.newPage();
    page.on('console', (m) => process.stderr.write(`  [${mode}] ${m.text()}\n`));
    page.on('pageerror', (e) => process.stderr.write(`  [${mode}] page error: ${e.message}\n`));
    await page.goto(pageUrl);
    await page.evaluate(
      ([m, v, w, b, c]) => {
        globalThis.GPUNET_MODE = m;
        globalThis.GPUNET_VARIANT = v;
        globalThis.GPUNET_WINDOW_MS = w;
        globalThis.GPUNET_BUDGET_S = b;
        globalThis.GPUNET_CELLS = c;
      },
      [mode, variant, quick ? 300 : 1500, BUDGET_S, CELLS],
    );
    await page.addScriptTag({ url: '/bench.js', type: 'module' });
    let r;
    try {
      await page.waitForFunction(() => globalThis.gpunetBench?.isDone === true, null, {
        timeout: PAGE_TIMEOUT_S * 1000,
        polling: 500,
      });
      r = await page.evaluate(() => globalThis.gpunetBench);
    } catch {
      r = (await page.evaluate(() => globalThis.gpunetBench).catch(() => null)) ?? {};
      r.timedOut = true;
    }
    await page.close();
    const peer = mode === 'webgpu' ? 'TF.js webgpu' : 'TF.js webgl';
    const over = `> budget (page past ${PAGE_TIMEOUT_S} s)`;
    rows.push({
      variant,
      name: `${mode} (gpu.js)`,
      cells: r.timedOut && !r.error ? withOver(r.ours, over) : (r.ours ?? null),
      note: r.error ? `fails: ${r.error}` : over,
      peer: r.theirsError ? `${peer}: fails: ${r.theirsError}` : peer,
      peerCells: r.timedOut ? withOver(r.theirs, over) : (r.theirs ?? null),
    });
    noteTimed(`${variant} gpunet ${mode}`, r.ours);
    noteTimed(`${peer}`, r.theirs);
    if (r.check) checks.push(r.check);
  }
}
await browser.close();
server.close();

const fmt = (v) =>
  typeof v === 'number' ? v.toFixed(2) : v === null || v === undefined ? 'n/a' : v;
const ratio = (a, b) =>
  typeof a === 'number' && typeof b === 'number' ? (a / b).toFixed(2) : 'n/a';
const lines = [
  '| variant | gpunet mode | inference b1 | inference b16 | train b16 | TF.js peer | its b1 | its b16 | its train b16 | gpunet / TF.js (b1, b16, train) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
for (const r of rows) {
  const p = r.peerCells;
  const c = r.cells ?? { b1: `n/a: ${r.note}`, b16: '', train: '' };
  lines.push(
    `| ${r.variant} | ${r.name} | ${fmt(c.b1)} | ${fmt(c.b16)} | ${fmt(c.train)} | ${r.peer} | ${fmt(p?.b1)} | ${fmt(p?.b16)} | ${fmt(p?.train)} | ${p ? `${ratio(c.b1, p.b1)}, ${ratio(c.b16, p.b16)}, ${ratio(c.train, p.train)}` : 'n/a'} |`,
  );
}
const cores = availableParallelism();
const loadEnd = loadavg()[0];
const notes = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, Chromium ${userAgent} (SwiftShader: WebGL and WebGPU on the CPU), Node ${process.version}, with \`pnpm --filter @gpunet/alexnet bench:browser -- ${process.argv
    .slice(2)
    .filter((a) => a !== '--')
    .join(' ')}\`.`,
  `Load average (1 min) at the start and end: ${loadStart.toFixed(2)} and ${loadEnd.toFixed(2)}${Math.max(loadStart, loadEnd) > cores * 0.75 ? ' (other work shared the CPU: low and noisy numbers)' : ' (a quiet machine)'}.`,
  `Images per second. "> budget": one image took over ${BUDGET_S} s, so the batch-16 cells were not run (or the page ran past ${PAGE_TIMEOUT_S} s); "n/a": not measured in this run (cells measured: ${CELLS.join(', ')}).`,
  `Each cell: one untimed warm-up call, then timed calls for ${quick ? 0.3 : 1.5} s, at least one. Timed calls per cell: ${timedCalls.length ? timedCalls.join('; ') : 'none measured'}.`,
  `The same network on both sides: ${checks.length ? checks.join('; ') : 'no pair ran to the check'}.`,
];
console.log([...notes, '', ...lines].join('\n'));

if (process.argv.includes('--write'))
  writeBenchSection(
    `## @gpunet/alexnet: AlexNet in headless Chromium, beside TF.js${SECTION ? ` (${SECTION})` : ''}`,
    notes,
    lines,
  );
process.exit(0);
