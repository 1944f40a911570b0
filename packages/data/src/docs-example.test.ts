import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

const docs = fileURLToPath(new URL('../../../docs/data.md', import.meta.url));
const index = fileURLToPath(new URL('./index.ts', import.meta.url));

describe('docs/data.md', () => {
  const example = fileURLToPath(new URL('./docs-example.generated.ts', import.meta.url));
  afterEach(() => rm(example, { force: true }));

  it('quick-start example runs and prints four [16, 3, 64, 64] batches per epoch', async () => {
    const markdown = await readFile(docs, 'utf8');
    const code = markdown.match(/## Quick start[\s\S]*?```js\n([\s\S]*?)```/)?.[1];
    expect(code).toBeDefined();
    // Run it against the source of this package instead of the published build.
    await writeFile(
      example,
      (code ?? '').replace("from '@gpunet/data'", `from ${JSON.stringify(index)}`),
    );
    const lines: unknown[][] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args);
    });
    try {
      await import(/* @vite-ignore */ example);
    } finally {
      log.mockRestore();
    }
    expect(lines[0]).toEqual([['disk', 'horizontal-bar', 'square', 'vertical-bar']]);
    expect(lines.slice(1)).toEqual([
      ...Array(4).fill([0, [16, 3, 64, 64], 'int32']),
      ...Array(4).fill([1, [16, 3, 64, 64], 'int32']),
    ]);
  });
});
