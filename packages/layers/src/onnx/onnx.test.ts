import { Generator, noGrad, randn, type Tensor } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  LocalResponseNorm,
  MaxPool2d,
  ReLU,
  Sequential,
  Softmax,
} from '../index.js';
import { Module } from '../module.js';
import { exportOnnx } from './export.js';
import { loadOnnx } from './load.js';
import { type OnnxTypes, onnx } from './proto.js';
import { readOnnx } from './read.js';

const generator = () => new Generator(1);

/** A small chain with every exported layer kind. */
function tinyNet(): Sequential {
  const g = generator();
  return new Sequential(
    new Conv2d(3, 8, 3, { padding: 1, generator: g }),
    new ReLU(),
    new LocalResponseNorm(3, { alpha: 0.1, beta: 0.75, k: 2 }),
    new MaxPool2d(3, { stride: 2, ceilMode: true }),
    new Conv2d(8, 8, 3, { padding: 1, groups: 2, generator: g }),
    new ReLU(),
    new AdaptiveAvgPool2d(2),
    new Flatten(),
    new Dropout(0.5),
    new Linear(32, 5, { generator: g }),
  );
}

function dispose(model: Module): void {
  for (const p of model.parameters()) p.dispose();
}

// Plain objects with int64 fields as numbers (protobufjs hands out Longs otherwise).
const decode = (bytes: Uint8Array) =>
  onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), {
    longs: Number,
    defaults: true,
  }) as OnnxTypes.ModelProto;
const encode = (model: OnnxTypes.IModelProto) =>
  onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();

async function values(t: Tensor): Promise<number[]> {
  return [...((await t.data()) as Float32Array)];
}

describe('exportOnnx', () => {
  it('writes one node per layer in call order with its attributes, and the weights as initializers', async () => {
    const model = tinyNet();
    const bytes = await exportOnnx(model, { inputShape: [1, 3, 9, 9], metadata: { note: 'x' } });
    const proto = decode(bytes);
    expect(proto.opsetImport[0]?.version).toBe(13);
    expect(proto.metadataProps.map((p) => [p.key, p.value])).toEqual([['note', 'x']]);
    const nodes = proto.graph?.node ?? [];
    // 9x9 -> pool 3/2 ceil -> 4x4 -> adaptive 2 = AveragePool 2/2; Dropout left out.
    expect(nodes.map((n) => n.opType)).toEqual([
      'Conv',
      'Relu',
      'LRN',
      'MaxPool',
      'Conv',
      'Relu',
      'AveragePool',
      'Flatten',
      'Gemm',
    ]);
    expect(nodes.map((n) => n.name)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '9']);
    const attr = (i: number, name: string) => nodes[i]?.attribute?.find((a) => a.name === name);
    expect(attr(4, 'group')?.i).toBe(2);
    expect(attr(0, 'pads')?.ints).toEqual([1, 1, 1, 1]);
    expect(attr(2, 'alpha')?.f).toBeCloseTo(0.1, 7);
    expect(attr(2, 'bias')?.f).toBe(2);
    expect(attr(3, 'ceil_mode')?.i).toBe(1);
    expect(attr(6, 'kernel_shape')?.ints).toEqual([2, 2]);
    expect(attr(8, 'transB')?.i).toBe(1);
    expect(nodes[0]?.input).toEqual(['input', '0.weight', '0.bias']);
    expect(nodes[8]?.output).toEqual(['output']);
    const inits = proto.graph?.initializer ?? [];
    expect(inits.map((t) => t.name)).toEqual([...model.stateDict().keys()]);
    expect(inits[0]?.dims).toEqual([8, 3, 3, 3]);
    const first = new Float32Array(new Uint8Array(inits[0]?.rawData ?? []).buffer);
    expect([...first]).toEqual(await values(model.stateDict().get('0.weight') as Tensor));
    dispose(model);
  });

  it('refuses a layer without an ONNX mapping, naming its path', async () => {
    class Odd extends Module {
      forward(x: Tensor): Tensor {
        return x.mul(2);
      }
    }
    const model = new Sequential(new ReLU(), new Odd());
    await expect(exportOnnx(model, { inputShape: [1, 3, 4, 4] })).rejects.toThrow(
      /exportOnnx: 1 \(Odd\): no ONNX mapping/,
    );
  });

  it('refuses a forward that computes between its layers', async () => {
    class Skip extends Module {
      a = new ReLU();
      b = new ReLU();
      forward(x: Tensor): Tensor {
        return this.b.forward(this.a.forward(x).add(1));
      }
    }
    await expect(exportOnnx(new Skip(), { inputShape: [1, 2] })).rejects.toThrow(
      /b is not fed the output of a/,
    );
  });
});

describe('readOnnx and loadOnnx', () => {
  it('reads an export back and loads it into a fresh model that computes the same output', async () => {
    const source = tinyNet().eval();
    const bytes = await exportOnnx(source, { inputShape: [1, 3, 9, 9] });
    const graph = readOnnx(bytes);
    expect(graph.inputShape).toEqual([-1, 3, 9, 9]);
    expect(graph.layers.map((l) => l.outputShape)).toContainEqual([-1, 32]);
    const target = new Sequential(
      new Conv2d(3, 8, 3, { padding: 1 }),
      new ReLU(),
      new LocalResponseNorm(3, { alpha: 0.1, beta: 0.75, k: 2 }),
      new MaxPool2d(3, { stride: 2, ceilMode: true }),
      new Conv2d(8, 8, 3, { padding: 1, groups: 2 }),
      new ReLU(),
      new AdaptiveAvgPool2d(2),
      new Flatten(),
      new Linear(32, 5),
    ).eval();
    expect(loadOnnx(target, graph)).toEqual([
      '0.weight',
      '0.bias',
      '4.weight',
      '4.bias',
      '8.weight',
      '8.bias',
    ]);
    const x = randn([2, 3, 9, 9], { generator: generator() });
    const [a, b] = noGrad(() => [source.forward(x), target.forward(x)]);
    expect(await values(b)).toEqual(await values(a));
    for (const t of [x, a, b, ...graph.initializers.values()]) t.dispose();
    dispose(source);
    dispose(target);
  });

  it('names the first node that does not match the model (an LRN constant here)', async () => {
    const source = tinyNet();
    const graph = readOnnx(await exportOnnx(source, { inputShape: [1, 3, 9, 9] }));
    const target = tinyNet();
    (target.layers[2] as LocalResponseNorm).options.k = 1;
    expect(() => loadOnnx(target, graph)).toThrow(
      "onnx: node '2' is LRN size 3 alpha 0.10000000149011612 beta 0.75 bias 2, but the model's 2 (LocalResponseNorm) is LRN size 3 alpha 0.1 beta 0.75 bias 1",
    );
    for (const t of graph.initializers.values()) t.dispose();
    dispose(source);
    dispose(target);
  });

  it('drops a final Softmax (model zoo classifiers end in one) unless the model has it too', async () => {
    const source = new Sequential(
      new Flatten(),
      new Linear(12, 3, { generator: generator() }),
      new Softmax(),
    );
    const graph = readOnnx(await exportOnnx(source, { inputShape: [1, 3, 2, 2] }));
    expect(graph.layers.map((l) => l.spec.op)).toEqual(['Flatten', 'Gemm', 'Softmax']);
    const logits = new Sequential(new Flatten(), new Linear(12, 3));
    expect(loadOnnx(logits, graph)).toEqual(['1.weight', '1.bias']);
    expect(loadOnnx(source, graph)).toEqual(['1.weight', '1.bias']);
    for (const t of graph.initializers.values()) t.dispose();
    dispose(source);
    dispose(logits);
  });
});

describe('readOnnx on malformed files', () => {
  async function valid(): Promise<Uint8Array> {
    const model = tinyNet();
    const bytes = await exportOnnx(model, { inputShape: [1, 3, 9, 9] });
    dispose(model);
    return bytes;
  }

  it('a truncated file', async () => {
    const bytes = await valid();
    expect(() => readOnnx(bytes.subarray(0, bytes.byteLength - 100))).toThrow(
      /^onnx: not a readable ONNX protobuf \(.+\); truncated or not an \.onnx file\?$/,
    );
  });

  it('bytes that are not protobuf', () => {
    const text = new TextEncoder().encode('{"this": "is JSON, not ONNX"}\n');
    expect(() => readOnnx(text)).toThrow(/^onnx: not a readable ONNX protobuf/);
    expect(() => readOnnx(new Uint8Array(0))).toThrow(
      'onnx: the file has no graph with nodes (0 bytes); not an ONNX model?',
    );
  });

  it('an operator gpunet has no layer for', async () => {
    const proto = decode(await valid());
    const node = proto.graph?.node?.[1] as OnnxTypes.INodeProto;
    node.opType = 'BatchNormalization';
    expect(() => readOnnx(encode(proto))).toThrow(
      /^onnx: node '1' \(BatchNormalization\) has no gpunet layer \(supported: Conv, Relu, LRN/,
    );
  });

  it('an initializer whose shape does not fit the graph', async () => {
    const proto = decode(await valid());
    const weight = proto.graph?.initializer?.find(
      (t) => t.name === '4.weight',
    ) as OnnxTypes.ITensorProto;
    // [8, 4, 3, 3] -> [8, 8, 3, 3] (data doubled so only the shape is wrong).
    weight.dims = [8, 8, 3, 3];
    weight.rawData = new Uint8Array([...(weight.rawData ?? []), ...(weight.rawData ?? [])]);
    expect(() => readOnnx(encode(proto))).toThrow(
      "onnx: node '4' (Conv): weight '4.weight' [8, 8, 3, 3] with group 2 expects 16 input channels but the input [-1, 8, 4, 4] has 8",
    );
    weight.dims = [8, 4, 3, 4];
    expect(() => readOnnx(encode(proto))).toThrow(
      "onnx: initializer '4.weight' [8, 4, 3, 4] needs 1536 bytes of data but has 2304 (truncated?)",
    );
  });
});
