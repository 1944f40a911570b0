import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('browser entry', () => {
  it.each([['browser.ts'], ['browser/worker.ts']])(
    '%s bundles for the browser without any Node module, sharp or worker_threads',
    async (entry) => {
      const result = await build({
        entryPoints: [new URL(`./${entry}`, import.meta.url).pathname],
        bundle: true,
        write: false,
        platform: 'browser',
        format: 'esm',
        metafile: true,
        external: ['@gpunet/tensor'],
        logLevel: 'silent',
      });
      const imports = Object.values(result.metafile.outputs).flatMap((o) =>
        o.imports.map((i) => i.path),
      );
      expect([...new Set(imports)]).toEqual(['@gpunet/tensor']);
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs.filter((p) => p.includes('/node/'))).toEqual([]);
      const code = result.outputFiles[0].text;
      for (const word of ['node:', 'sharp', 'worker_threads']) expect(code).not.toContain(word);
    },
  );
});
