import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, serveBundle } from '@gpunet/dev-chromium';
import { markdownTable } from './layers-common.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** The TF.js backend each gpu.js browser mode is measured against. */
export const BROWSER_PEER = { webgl2: 'webgl', webgl: 'webgl', webgpu: 'webgpu' };

/**
 * Runs the layer benchmark for each of `modes` in one headless Chromium and returns
 * `{ rows, chromium, failures }`: the rows of every page (a page past `pageTimeoutS` keeps what it
 * measured), the browser's version, and a line per page that failed or timed out.
 */
export async function runInChromium({
  modes,
  batches,
  repeats,
  slowMs,
  budgetMs,
  layers = null,
  passes = null,
  pageTimeoutS = 600,
  log = (line) => process.stderr.write(`${line}\n`),
}) {
  const browser = await launchChromium();
  const { server, pageUrl } = await serveBundle(
    join(here, 'browser-layers-entry.mjs'),
    'gpunet kernels bench',
  );

  const rows = [];
  const failures = [];
  try {
    for (const mode of modes) {
      const peer = BROWSER_PEER[mode];
      if (!peer) throw new Error(`no browser mode '${mode}': use webgl2, webgl or webgpu`);
      log(`${mode} (gpu.js) and TF.js ${peer} in Chromium...`);
      const page = await browser.newPage();
      page.on('console', (m) => log(`  ${m.text()}`));
      page.on('pageerror', (e) => log(`  [${mode}] page error: ${e.message}`));
      await page.goto(pageUrl);
      await page.evaluate(
        (settings) => {
          globalThis.GPUNET_BENCH = settings;
        },
        // Never the warm-up as the measurement here: a GPU backend's first call uploads too.
        { mode, peer, batches, repeats, slowMs, budgetMs, layers, passes, warmupOnlyMs: 1e12 },
      );
      await page.addScriptTag({ url: '/bench.js', type: 'module' });
      let r;
      try {
        await page.waitForFunction(() => globalThis.gpunetBench?.isDone === true, null, {
          timeout: pageTimeoutS * 1000,
          polling: 500,
        });
        r = await page.evaluate(() => globalThis.gpunetBench);
      } catch {
        r = (await page.evaluate(() => globalThis.gpunetBench).catch(() => null)) ?? { rows: [] };
        failures.push(
          `${mode}: the page ran past ${pageTimeoutS} s; the cells after the last row were not measured`,
        );
      }
      if (r.error) failures.push(`${mode}: ${r.error}`);
      rows.push(...r.rows);
      await page.close();
    }
    return { rows, chromium: await browser.version(), failures };
  } finally {
    await browser.close();
    server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const modes = process.argv.slice(2).length ? process.argv.slice(2) : ['webgl2', 'webgpu'];
  const r = await runInChromium({ modes, batches: [1, 16], repeats: 3 });
  console.log([`Chromium ${r.chromium}`, ...r.failures, '', ...markdownTable(r.rows)].join('\n'));
  process.exit(0);
}
