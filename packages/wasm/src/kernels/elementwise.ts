import {
  type BinaryKernelName,
  broadcastShapes,
  type KernelConfig,
  type KernelFunc,
  referenceKernels,
  sizeOf,
  stridesOf,
} from '@gpunet/tensor';
import { asWasm } from './common.js';
import { threadRanges } from './ranges.js';

/** Opcodes of the Wasm `binary` kernel. */
const OPCODES: Partial<Record<BinaryKernelName, number>> = {
  Add: 0,
  Sub: 1,
  Mul: 2,
  Div: 3,
  Maximum: 4,
  Minimum: 5,
};

function reference(kernelName: string): KernelFunc {
  const kernel = referenceKernels.find((k) => k.kernelName === kernelName);
  if (!kernel) throw new Error(`internal: no reference kernel ${kernelName}`);
  return kernel.kernelFunc as KernelFunc;
}

/** Strides of `shape` read as `outShape` (rank 4, left-padded): 0 along broadcast dims. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const lead = outShape.length - shape.length;
  const strides = stridesOf(shape);
  return outShape.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : strides[i - lead]));
}

/** Below this many elements an elementwise kernel runs on the calling thread alone. */
const PARALLEL_MIN_ELEMENTS = 1 << 16;

/** float32 arithmetic on up to 4 dims runs as SIMD Wasm; int32 and higher ranks use the reference loop. */
export const binaryKernels: KernelConfig[] = (Object.keys(OPCODES) as BinaryKernelName[]).map(
  (kernelName) => {
    const fallback = reference(kernelName);
    const kernelFunc: KernelFunc = (args) => {
      const [a, b] = args.inputs;
      const shape = broadcastShapes(kernelName, a.shape, b.shape);
      if (a.dtype !== 'float32' || shape.length > 4) return fallback(args);
      const wasm = asWasm(args.backend);
      const out = wasm.allocate(shape);
      if (sizeOf(shape) === 0) return out;
      const padded = [...new Array(4 - shape.length).fill(1), ...shape];
      const aStrides = broadcastStrides(a.shape, padded);
      const bStrides = broadcastStrides(b.shape, padded);
      const [aOffset, bOffset, outOffset] = [a, b, out].map((t) => wasm.offset(t.dataId));
      // Split over the threads along the outermost dim of more than one (of the first two):
      // each thread gets its slice's pointers and a narrowed extent.
      const dim = padded[0] > 1 ? 0 : 1;
      const n = sizeOf(shape);
      const threads = n < PARALLEL_MIN_ELEMENTS ? 1 : wasm.pool.size;
      const inner = dim === 0 ? padded[1] * padded[2] * padded[3] : padded[2] * padded[3];
      wasm.pool.run(
        'binary',
        threadRanges(padded[dim], threads).map(([start, end]) => {
          const extent = [...padded];
          extent[dim] = end - start;
          return [
            OPCODES[kernelName] ?? 0,
            aOffset + start * aStrides[dim] * 4,
            ...aStrides,
            bOffset + start * bStrides[dim] * 4,
            ...bStrides,
            outOffset + start * inner * 4,
            ...extent,
          ];
        }),
      );
      return out;
    };
    return { kernelName, backendName: 'wasm', kernelFunc } as KernelConfig;
  },
);

/** relu and its gradient mask as SIMD Wasm. */
export const rectifyKernels: KernelConfig[] = (['Relu', 'Step'] as const).map((kernelName, op) => ({
  kernelName,
  backendName: 'wasm',
  kernelFunc: ({ inputs: [x], backend }) => {
    const wasm = asWasm(backend);
    const out = wasm.allocate(x.shape);
    const n = sizeOf(x.shape);
    const [from, to] = [wasm.offset(x.dataId), wasm.offset(out.dataId)];
    const threads = n < PARALLEL_MIN_ELEMENTS ? 1 : wasm.pool.size;
    wasm.pool.run(
      'rectify',
      threadRanges(n, threads, { multiple: 4 }).map(([start, end]) => [
        op,
        from + start * 4,
        to + start * 4,
        end - start,
      ]),
    );
    return out;
  },
})) as KernelConfig[];

/** ReLU's gradient from its output (dy where y > 0, else 0) in one SIMD pass, over the threads. */
export const reluGradKernel: KernelConfig<'ReluGrad'> = {
  kernelName: 'ReluGrad',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [dy, y], backend }) => {
    const wasm = asWasm(backend);
    const out = wasm.allocate(dy.shape);
    const n = sizeOf(dy.shape);
    const [dyOffset, yOffset, outOffset] = [dy, y, out].map((t) => wasm.offset(t.dataId));
    const threads = n < PARALLEL_MIN_ELEMENTS ? 1 : wasm.pool.size;
    wasm.pool.run(
      'reluGrad',
      threadRanges(n, threads, { multiple: 4 }).map(([start, end]) => [
        dyOffset + start * 4,
        yOffset + start * 4,
        outOffset + start * 4,
        end - start,
      ]),
    );
    return out;
  },
};

/**
 * Sum over dims that leave the kept dims contiguous ([outer, kept, inner]) in Wasm; any other
 * reduction (and int32) uses the reference loop.
 */
export const sumKernel: KernelConfig<'Sum'> = {
  kernelName: 'Sum',
  backendName: 'wasm',
  kernelFunc: (args) => {
    const {
      inputs: [x],
      attrs: { dims },
    } = args;
    const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
    const contiguous = kept.every((d, i) => i === 0 || d === kept[i - 1] + 1);
    if (x.dtype !== 'float32' || !contiguous)
      return (reference('Sum') as KernelFunc<{ dims: number[] }>)(args);
    const wasm = asWasm(args.backend);
    const keptShape = kept.map((d) => x.shape[d]);
    const out = wasm.allocate(keptShape);
    const first = kept.length > 0 ? kept[0] : x.shape.length;
    const last = kept.length > 0 ? kept[kept.length - 1] : x.shape.length - 1;
    const keptCount = sizeOf(keptShape);
    const geometry = [
      wasm.offset(x.dataId),
      sizeOf(x.shape.slice(0, first)),
      keptCount,
      sizeOf(x.shape.slice(last + 1)),
      wasm.offset(out.dataId),
    ];
    // Threads take ranges of the kept elements (a bias gradient: of channels).
    const threads = sizeOf(x.shape) < PARALLEL_MIN_ELEMENTS ? 1 : wasm.pool.size;
    wasm.pool.run(
      'sumMiddle',
      threadRanges(keptCount, threads).map(([k0, k1]) => [...geometry, k0, k1]),
    );
    return out;
  },
};

/** `WeightedSum` of 1 to 3 float32 tensors in SIMD Wasm, split over the threads; more terms use the reference loop. */
export const weightedSumKernel: KernelConfig<'WeightedSum'> = {
  kernelName: 'WeightedSum',
  backendName: 'wasm',
  kernelFunc: (args) => {
    const {
      inputs,
      attrs: { weights },
    } = args;
    if (inputs.length > 3)
      return (reference('WeightedSum') as KernelFunc<{ weights: number[] }>)(args);
    const wasm = asWasm(args.backend);
    const out = wasm.allocate(inputs[0].shape);
    const n = sizeOf(inputs[0].shape);
    // Unused terms point at the first input (weight 0; never read past `terms`).
    const [x0, x1 = x0, x2 = x0] = inputs.map((x) => wasm.offset(x.dataId));
    const [w0, w1 = 0, w2 = 0] = weights;
    const threads = n < PARALLEL_MIN_ELEMENTS ? 1 : wasm.pool.size;
    wasm.pool.run(
      'weightedSum',
      threadRanges(n, threads, { multiple: 4 }).map(([start, end]) => [
        inputs.length,
        x0,
        w0,
        x1,
        w1,
        x2,
        w2,
        wasm.offset(out.dataId),
        start,
        end,
      ]),
    );
    return out;
  },
};
