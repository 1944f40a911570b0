import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium, listenOnLocalhost, pageResult, serveBundle } from './index.mjs';

const servers = [];
afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

describe('listenOnLocalhost', () => {
  it('serves on a free port of 127.0.0.1 and resolves with its origin', async () => {
    const server = createServer((_, response) => response.end('hello'));
    servers.push(server);
    const origin = await listenOnLocalhost(server);
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(origin.split(':')[2])).toBe(server.address().port);
    expect(await (await fetch(`${origin}/any`)).text()).toBe('hello');
  });
});

describe('serveBundle and pageResult', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dev-chromium-'));
  const entry = (name, code) => {
    const path = join(dir, name);
    writeFileSync(path, code);
    return path;
  };

  it('bundles an entry (its imports inlined) as /bench.js beside a titled page', async () => {
    entry('part.mjs', 'export const half = 21;\n');
    const { server, pageUrl } = await serveBundle(
      entry(
        'main.mjs',
        "import { half } from './part.mjs';\nglobalThis.gpunetResult = { answer: half * 2 };\n",
      ),
      'A title',
    );
    servers.push(server);
    expect(pageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const script = await fetch(`${pageUrl}bench.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript');
    const code = await script.text();
    expect(code).toContain('21');
    expect(code).not.toContain('./part.mjs');
    expect(await (await fetch(pageUrl)).text()).toBe('<!doctype html><title>A title</title>');
  });

  it("pageResult resolves with the page's gpunetResult, or its uncaught error", async () => {
    const browser = await launchChromium();
    try {
      const ok = createServer((_, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(
          '<script>setTimeout(() => { globalThis.gpunetResult = { sum: 2 + 3 }; }, 50)</script>',
        );
      });
      const failing = createServer((_, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end("<script>throw new Error('broken page')</script>");
      });
      servers.push(ok, failing);
      expect(await pageResult(browser, `${await listenOnLocalhost(ok)}/`)).toEqual({ sum: 5 });
      const result = await pageResult(browser, `${await listenOnLocalhost(failing)}/`, 20_000);
      expect(result.error).toMatch(/page error: .*broken page/);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
