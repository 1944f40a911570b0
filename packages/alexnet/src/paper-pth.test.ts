import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { readPth } from '@gpunet/layers';
import { noGrad, setBackend, tensor } from '@gpunet/tensor';
import '@gpunet/wasm';
import { describe, expect, it } from 'vitest';
import { alexnet } from './index.js';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);

/** The fixture's input: x[0, c, h, w] = sin(0.05 h (c + 1)) cos(0.07 w + c), float64 then float32. */
function fixtureInput() {
  const x = new Float32Array(3 * 227 * 227);
  for (let c = 0; c < 3; c++)
    for (let h = 0; h < 227; h++)
      for (let w = 0; w < 227; w++)
        x[(c * 227 + h) * 227 + w] = Math.sin(0.05 * h * (c + 1)) * Math.cos(0.07 * w + c);
  return tensor(x, [1, 3, 227, 227]);
}

describe('the full paper AlexNet from a PyTorch checkpoint', () => {
  it('a 60,965,224-parameter .pth written by PyTorch gives its logits within 1e-3 on the wasm backend', async () => {
    // fixtures/make_paper_fixture.py: the paper's network in PyTorch, every tensor a scaled
    // periodic pattern (so the 244 MB file gzips to 1.5 MB), logits of std 1.
    await setBackend('wasm');
    const bytes = gunzipSync(await readFile(fixture('paper_pattern.pth.gz')));
    const expected = JSON.parse(await readFile(fixture('paper_pattern_io.json'), 'utf8')) as {
      logits: number[];
    };
    const weights = readPth(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const model = alexnet({ variant: 'paper', init: 'pytorch' });
    const result = model.loadStateDict(weights.tensors);
    for (const t of weights.tensors.values()) t.dispose();
    expect(result.loaded).toHaveLength(16);
    expect(model.parameters().reduce((n, p) => n + p.size, 0)).toBe(60_965_224);
    model.eval();
    const x = fixtureInput();
    const logits = noGrad(() => model.forward(x));
    const got = Array.from(await logits.data());
    expect(logits.shape).toEqual([1, 1000]);
    let worst = 0;
    for (let i = 0; i < 1000; i++) worst = Math.max(worst, Math.abs(got[i]! - expected.logits[i]!));
    expect(worst).toBeLessThan(1e-3);
    // Not a constant output: the logits spread (std 1 by construction) and the argmax agrees.
    const argmax = (v: number[]) => v.indexOf(Math.max(...v));
    expect(argmax(got)).toBe(argmax(expected.logits));
    console.log(
      `paper AlexNet from .pth on wasm: max |logit - PyTorch| = ${worst.toExponential(2)}`,
    );
    x.dispose();
    logits.dispose();
    for (const p of model.parameters()) p.dispose();
  }, 120_000);
});
