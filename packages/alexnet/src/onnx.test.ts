import { readFile } from 'node:fs/promises';
import { readOnnx, readSafetensors } from '@gpunet/layers';
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

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);

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
    "paper as Caffe's reference model at 224 px (ceil-mode pooling, LRN k 1)",
    {
      variant: 'paper',
      channels: [16, 32, 48, 48, 32],
      hidden: 64,
      numClasses: 10,
      inputSize: 224,
      ceilMode: true,
      lrn: { size: 5, alpha: 1e-4, beta: 0.75, k: 1 },
    },
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
        inputSize: o.inputSize,
        ceilMode: o.ceilMode,
      });
      if (o.variant !== 'torchvision') {
        expect(back.options.lrn.k).toBe(o.lrn.k);
        expect(back.options.lrn.alpha).toBeCloseTo(o.lrn.alpha, 10);
      }
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

describe('alexnetFromOnnx', () => {
  it("imports Caffe's AlexNet as the model zoo lays it out (fixture from torch.onnx.export) with PyTorch's logits within 1e-4", async () => {
    const graph = readOnnx(new Uint8Array(await readFile(fixture('caffe_alexnet_small.onnx'))));
    // LRN before pooling (Caffe's order), ceil-mode pools, a Reshape before fc6, a final Softmax.
    expect(graph.layers.map((l) => l.spec.op)).toEqual([...VARIANTS[0][2], 'Softmax']);
    expect(graph.inputShape).toEqual([-1, 3, 227, 227]);
    expect(graph.opset).toBe(12);
    const model = alexnetFromOnnx(graph);
    expect(model.options).toMatchObject({
      variant: 'paper',
      inputSize: 227,
      channels: [16, 32, 48, 48, 32],
      hidden: 64,
      numClasses: 10,
      ceilMode: true,
    });
    // Caffe's LRN constants, read from the graph (the paper's are k 2, alpha 5e-4).
    expect(model.options.lrn.k).toBe(1);
    expect(model.options.lrn.alpha).toBeCloseTo(1e-4, 10);
    const io = readSafetensors(
      new Uint8Array(await readFile(fixture('caffe_alexnet_small_io.safetensors'))),
    );
    const x = io.tensors.get('x') as Tensor;
    const expected = (await (io.tensors.get('logits') as Tensor).data()) as Float32Array;
    expect(relativeError(await logits(model, x), expected)).toBeLessThan(1e-4);
    for (const t of [...io.tensors.values(), ...graph.initializers.values()]) t.dispose();
    disposeModel(model);
    // A 227-pixel forward pass: 1-2 s alone, over the 5 s default beside the other tests in CI.
  }, 60_000);

  it('refuses a graph that does not map, naming the first node that does not', async () => {
    const graph = readOnnx(new Uint8Array(await readFile(fixture('caffe_alexnet_small.onnx'))));
    // conv3 (the 9th node) with stride 2 instead of 1.
    const conv3 = graph.layers[8];
    if (conv3.spec.op !== 'Conv') throw new Error('fixture layout changed');
    conv3.spec.strides = [2, 2];
    expect(() => alexnetFromOnnx(graph)).toThrow(
      /^onnx: node '(.+)' is Conv \[48, 32, 3, 3\] strides \[2,2\] pads \[1,1,1,1\] dilations \[1,1\] group 1, but the model's features.8 \(Conv2d\) is Conv \[48, 32, 3, 3\] strides \[1,1\]/,
    );
    for (const t of graph.initializers.values()) t.dispose();
  });
});
