import type { KernelConfig } from '../../backend.js';
import { sizeOf, stridesOf } from '../../internal/shape.js';
import { outputShape } from '../../kernel-names.js';
import type { DType } from '../../types.js';
import { asReference } from './backend.js';
import { broadcastIndices } from './elementwise.js';

function allocate(dtype: DType, size: number): Float32Array | Int32Array {
  return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

/** Calls `visit(outIndex, coords)` for every element of `shape`, in row-major order. */
function forEachIndex(
  shape: readonly number[],
  visit: (index: number, coords: number[]) => void,
): void {
  const size = sizeOf(shape);
  const coords = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < size; i++) {
    visit(i, coords);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coords[d] < shape[d]) break;
      coords[d] = 0;
    }
  }
}

export const transposeKernel: KernelConfig<'Transpose'> = {
  kernelName: 'Transpose',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: { perm }, backend }) => {
    const ref = asReference(backend);
    const values = ref.values(x.dataId);
    const outShape = outputShape('Transpose', [x.shape], { perm });
    const inStrides = stridesOf(x.shape);
    const out = allocate(x.dtype, values.length);
    forEachIndex(outShape, (i, coords) => {
      let src = 0;
      for (let d = 0; d < perm.length; d++) src += coords[d] * inStrides[perm[d]];
      out[i] = values[src];
    });
    return ref.output(out, outShape, x.dtype);
  },
};

export const sliceKernel: KernelConfig<'Slice'> = {
  kernelName: 'Slice',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: { begin, size }, backend }) => {
    const ref = asReference(backend);
    const values = ref.values(x.dataId);
    const inStrides = stridesOf(x.shape);
    const out = allocate(x.dtype, sizeOf(size));
    forEachIndex(size, (i, coords) => {
      let src = 0;
      for (let d = 0; d < size.length; d++) src += (coords[d] + begin[d]) * inStrides[d];
      out[i] = values[src];
    });
    return ref.output(out, size, x.dtype);
  },
};

export const concatKernel: KernelConfig<'Concat'> = {
  kernelName: 'Concat',
  backendName: 'reference',
  kernelFunc: ({ inputs, attrs: { dim }, backend }) => {
    const ref = asReference(backend);
    const first = inputs[0];
    const outShape = outputShape(
      'Concat',
      inputs.map((t) => t.shape),
      { dim },
    );
    const outer = sizeOf(first.shape.slice(0, dim));
    const inner = sizeOf(first.shape.slice(dim + 1));
    const out = allocate(first.dtype, sizeOf(outShape));
    let offset = 0;
    for (const t of inputs) {
      const values = ref.values(t.dataId);
      const block = t.shape[dim] * inner;
      for (let o = 0; o < outer; o++) {
        out.set(values.subarray(o * block, (o + 1) * block), o * outShape[dim] * inner + offset);
      }
      offset += block;
    }
    return ref.output(out, outShape, first.dtype);
  },
};

export const padKernel: KernelConfig<'Pad'> = {
  kernelName: 'Pad',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: { paddings, value }, backend }) => {
    const ref = asReference(backend);
    const values = ref.values(x.dataId);
    const outShape = outputShape('Pad', [x.shape], { paddings, value });
    const outStrides = stridesOf(outShape);
    const out = allocate(x.dtype, sizeOf(outShape)).fill(value);
    forEachIndex(x.shape, (i, coords) => {
      let dst = 0;
      for (let d = 0; d < coords.length; d++) dst += (coords[d] + paddings[d][0]) * outStrides[d];
      out[dst] = values[i];
    });
    return ref.output(out, outShape, x.dtype);
  },
};

export const flipKernel: KernelConfig<'Flip'> = {
  kernelName: 'Flip',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: { dims }, backend }) => {
    const ref = asReference(backend);
    const values = ref.values(x.dataId);
    const inStrides = stridesOf(x.shape);
    const flipped = x.shape.map((_, d) => dims.includes(d));
    const out = allocate(x.dtype, values.length);
    forEachIndex(x.shape, (i, coords) => {
      let src = 0;
      for (let d = 0; d < coords.length; d++)
        src += (flipped[d] ? x.shape[d] - 1 - coords[d] : coords[d]) * inStrides[d];
      out[i] = values[src];
    });
    return ref.output(out, x.shape, x.dtype);
  },
};

export const broadcastToKernel: KernelConfig<'BroadcastTo'> = {
  kernelName: 'BroadcastTo',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: { shape }, backend }) => {
    const ref = asReference(backend);
    const values = ref.values(x.dataId);
    const indices = broadcastIndices(x.shape, shape);
    const out = allocate(x.dtype, indices.length);
    for (let i = 0; i < indices.length; i++) out[i] = values[indices[i]];
    return ref.output(out, shape, x.dtype);
  },
};
