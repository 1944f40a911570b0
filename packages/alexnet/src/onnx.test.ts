import { readOnnx } from '@gpunet/layers';
import { Generator, noGrad, randn, type Tensor } from '@gpunet/tensor';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  type AlexNet,
  type AlexNetOptions,
  alexnet,
  alexnetFromOnnx,
  exportAlexNetOnnx,
} from './index.js';

function disposeModel(model: AlexNet): void {
  for (const p of model.parameters()) p.dispose();
}

/** Largest |a - b| over the largest |b|: the error relative to the logit scale. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

async function logits(model: AlexNet, x: Tensor): Promise<Float32Array> {
  const y = noGrad(() => model.forward(x));
  const data = (await y.data()) as Float32Array;
  y.dispose();
  return data;
}

async function runOrt(bytes: Uint8Array, x: Tensor): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const input = new ort.Tensor('float32', (await x.data()) as Float32Array, [...x.shape]);
  const out = await session.run({ input });
  await session.release();
  return out.logits.data as Float32Array;
}

// Small widths keep the test fast; the input sizes are each variant's real one.
const VARIANTS: [string, AlexNetOptions, string[]][] = [
  [
    'paper',
    { variant: 'paper', channels: [16, 32, 48, 48, 32], hidden: 64, numClasses: 10 },
    ['Conv', 'Relu', 'LRN', 'MaxPool', 'Conv', 'Relu', 'LRN', 'MaxPool', 'Conv', 'Relu']
      .concat(['Conv', 'Relu', 'Conv', 'Relu', 'MaxPool', 'Flatten'])
      .concat(['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']),
  ],
  [
    'torchvision',
    { variant: 'torchvision', channels: [16, 48, 96, 64, 64], hidden: 64, numClasses: 10 },
    ['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'Conv', 'Relu'].concat([
      'Conv',
      'Relu',
      'MaxPool',
      'Flatten',
      'Gemm',
      'Relu',
      'Gemm',
      'Relu',
      'Gemm',
    ]),
  ],
  [
    'mini',
    { variant: 'mini' },
    ['Conv', 'Relu', 'LRN', 'MaxPool', 'Conv', 'Relu', 'LRN', 'MaxPool', 'Conv', 'Relu']
      .concat(['Conv', 'Relu', 'Conv', 'Relu', 'MaxPool', 'Flatten'])
      .concat(['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']),
  ],
];

describe('exportAlexNetOnnx', () => {
  for (const [name, options, ops] of VARIANTS) {
    it(`${name}: onnxruntime gives gpunet's logits within 1e-4, with the expected op list`, async () => {
      const model = alexnet({ ...options, init: 'kaiming', seed: 3 }).eval();
      const o = model.options;
      const x = randn([2, o.inChannels, o.inputSize, o.inputSize], {
        generator: new Generator(7),
      });
      const bytes = await exportAlexNetOnnx(model);
      const graph = readOnnx(bytes);
      expect(graph.layers.map((l) => l.spec.op)).toEqual(ops);
      expect(graph.opset).toBe(13);
      expect([...graph.initializers.keys()]).toEqual([...model.stateDict().keys()]);
      const expected = await logits(model, x);
      const got = await runOrt(bytes, x);
      expect(got.length).toBe(2 * o.numClasses);
      expect(relativeError(got, expected)).toBeLessThan(1e-4);

      // And back: the imported model computes the same logits.
      const back = alexnetFromOnnx(graph);
      expect(back.options).toMatchObject({
        variant: o.variant,
        channels: o.channels,
        hidden: o.hidden,
      });
      expect(relativeError(await logits(back, x), expected)).toBeLessThan(1e-6);
      for (const t of graph.initializers.values()) t.dispose();
      disposeModel(back);
      disposeModel(model);
      x.dispose();
    }, 60_000);
  }

  it('exports the full-size paper model: 60,965,224 parameters as initializers of the state-dict shapes', async () => {
    const model = alexnet({ variant: 'paper', init: 'pytorch' });
    const bytes = await exportAlexNetOnnx(model);
    expect(bytes.byteLength).toBeGreaterThan(60_965_224 * 4);
    const graph = readOnnx(bytes);
    expect(graph.inputShape).toEqual([-1, 3, 227, 227]);
    expect(graph.layers.map((l) => l.spec.op)).toEqual(VARIANTS[0][2]);
    expect(graph.layers.map((l) => l.outputShape.slice(1).join('x'))).toEqual(
      ['96x55x55', '96x55x55', '96x55x55', '96x27x27', '256x27x27', '256x27x27', '256x27x27']
        .concat(['256x13x13', '384x13x13', '384x13x13', '384x13x13', '384x13x13', '256x13x13'])
        .concat(['256x13x13', '256x6x6', '9216', '4096', '4096', '4096', '4096', '1000']),
    );
    const shapes = [...graph.initializers].map(([k, t]) => [k, t.shape]);
    expect(shapes).toEqual([...model.stateDict()].map(([k, t]) => [k, t.shape]));
    let total = 0;
    for (const t of graph.initializers.values()) {
      total += t.size;
      t.dispose();
    }
    expect(total).toBe(60_965_224);
    disposeModel(model);
  }, 120_000);
});
