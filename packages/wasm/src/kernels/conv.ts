import {
  type Conv2dAttrs,
  type FusedActivation,
  type KernelConfig,
  outputShape,
  type TensorInfo,
} from '@gpunet/tensor';
import type { WasmBackend } from '../backend.js';
import { asWasm } from './common.js';
import { gemm } from './gemm.js';
import { threadRanges } from './ranges.js';
import { winogradApplies, winogradConv, winogradFilter } from './winograd.js';

/**
 * Convolution as GEMM over im2col: for image n and group g, the unfolded input cols
 * [C/g * kH * kW, outH * outW] turns y_g = W_g cols, dcols = W_gᵀ dy_g (folded back by col2im)
 * and dW_g += dy_g colsᵀ into matrix products.
 */
interface Geometry {
  groupIn: number;
  groupOut: number;
  /** Rows of cols: C/g * kH * kW. */
  patch: number;
  /** Columns of cols: outH * outW. */
  positions: number;
  inPlane: number;
}

function geometry(a: Conv2dAttrs): Geometry {
  const groupIn = a.inChannels / a.groups;
  return {
    groupIn,
    groupOut: a.outChannels / a.groups,
    patch: groupIn * a.kernelHeight * a.kernelWidth,
    positions: a.outHeight * a.outWidth,
    inPlane: a.inHeight * a.inWidth,
  };
}

function im2colArgs(a: Conv2dAttrs, channels: number): number[] {
  return [
    channels,
    a.inHeight,
    a.inWidth,
    a.kernelHeight,
    a.kernelWidth,
    a.strideHeight,
    a.strideWidth,
    a.padTop,
    a.padLeft,
    a.dilationHeight,
    a.dilationWidth,
    a.outHeight,
    a.outWidth,
  ];
}

/** Allocates the cols scratch for one image and group, returning its offset and a release function. */
function colsScratch(wasm: WasmBackend, g: Geometry): [number, () => void] {
  const bytes = g.patch * g.positions * 4;
  const offset = wasm.heap.alloc(bytes);
  return [offset, () => wasm.heap.release(offset, bytes)];
}

/** The geometry arguments the Wasm conv functions take after n0, n1. */
function convArgs(a: Conv2dAttrs): number[] {
  return [
    a.inChannels,
    a.inHeight,
    a.inWidth,
    a.outChannels,
    a.groups,
    a.kernelHeight,
    a.kernelWidth,
    a.strideHeight,
    a.strideWidth,
    a.padTop,
    a.padLeft,
    a.dilationHeight,
    a.dilationWidth,
    a.outHeight,
    a.outWidth,
  ];
}

/**
 * Splits the batch by images over the threads (`threadRanges`): thread t runs `fn` on images
 * [n0, n1) with its own cols and packing scratch (and `trailing` after the geometry: the forward
 * pass's epilogue). Used when there are at least as many images as
 * threads; a smaller batch splits each GEMM by columns instead.
 */
function splitByImages(
  wasm: WasmBackend,
  a: Conv2dAttrs,
  fn: 'convForward' | 'convBackpropInput' | 'convBackpropFilter',
  pointers: (thread: number) => [number, number, number],
  trailing: readonly number[] = [],
): void {
  const g = geometry(a);
  const ranges = threadRanges(a.batch, wasm.pool.size);
  const colsBytes = g.patch * g.positions * 4;
  const cols = ranges.map(() => wasm.heap.alloc(colsBytes));
  const args = ranges.map(([n0, n1], t) => [
    ...pointers(t),
    cols[t],
    wasm.scratch[t],
    n0,
    n1,
    ...convArgs(a),
    ...trailing,
  ]);
  wasm.pool.run(fn, args);
  for (const c of cols) wasm.heap.release(c, colsBytes);
}

const byImages = (wasm: WasmBackend, a: Conv2dAttrs) =>
  a.batch >= wasm.pool.size && wasm.pool.size > 1;

/**
 * What a convolution does to each output plane after computing it, while it is still in cache
 * (the Wasm functions' `flags`: bit 0 adds the bias, bit 1 applies ReLU; 0 does nothing).
 */
interface Epilogue {
  /** Heap offset of the `[outChannels]` bias; ignored without flag bit 0. */
  bias: number;
  flags: number;
}

const NO_EPILOGUE: Epilogue = { bias: 0, flags: 0 };

/** y = epilogue(conv2d(x, w)): the Conv2d and FusedConv2d kernels. */
function forward(
  wasm: WasmBackend,
  x: TensorInfo,
  w: TensorInfo,
  a: Conv2dAttrs,
  epilogue: Epilogue,
): TensorInfo {
  const g = geometry(a);
  const out = wasm.allocate(outputShape('Conv2d', [x.shape, w.shape], a));
  const [xOffset, wOffset, yOffset] = [
    wasm.offset(x.dataId),
    wasm.offset(w.dataId),
    wasm.offset(out.dataId),
  ];
  if (winogradApplies(a, 'forward')) {
    winogradConv(wasm, a, 'forward', xOffset, w.dataId, yOffset, epilogue);
    return out;
  }
  const { bias, flags } = epilogue;
  if (byImages(wasm, a)) {
    splitByImages(wasm, a, 'convForward', () => [xOffset, wOffset, yOffset], [bias, flags]);
    return out;
  }
  const [cols, release] = colsScratch(wasm, g);
  for (let n = 0; n < a.batch; n++) {
    for (let group = 0; group < a.groups; group++) {
      const xImage = xOffset + (n * a.inChannels + group * g.groupIn) * g.inPlane * 4;
      wasm.heap.kernels.im2col(xImage, ...im2colArgs(a, g.groupIn), cols);
      gemm(
        wasm,
        g.groupOut,
        g.positions,
        g.patch,
        { offset: wOffset + group * g.groupOut * g.patch * 4, row: g.patch, col: 1 },
        { offset: cols, row: g.positions, col: 1 },
        yOffset + (n * a.outChannels + group * g.groupOut) * g.positions * 4,
        g.positions,
        false,
      );
    }
    if (flags !== 0) {
      // The GEMMs split this image by columns; the epilogue splits it by channels.
      const image = yOffset + n * a.outChannels * g.positions * 4;
      wasm.pool.run(
        'biasActivation',
        threadRanges(a.outChannels, wasm.pool.size).map(([c0, c1]) => [
          image,
          bias,
          c0,
          c1,
          g.positions,
          flags,
        ]),
      );
    }
  }
  release();
  return out;
}

export const conv2dKernel: KernelConfig<'Conv2d'> = {
  kernelName: 'Conv2d',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [x, w], attrs: a, backend }) =>
    forward(asWasm(backend), x, w, a, NO_EPILOGUE),
};

const ACTIVATION_FLAGS: Record<FusedActivation, number> = { linear: 0, relu: 2 };

/**
 * activation(conv2d(x, w) + bias) in one kernel: every path (Winograd's output transform, and
 * each image's GEMM output on the im2col path) adds the bias and applies the ReLU to an output
 * plane right after writing it, while it is in cache, instead of two more passes over y.
 */
export const fusedConv2dKernel: KernelConfig<'FusedConv2d'> = {
  kernelName: 'FusedConv2d',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [x, w, bias], attrs: a, backend }) => {
    const wasm = asWasm(backend);
    return forward(wasm, x, w, a, {
      bias: wasm.offset(bias.dataId),
      flags: 1 | ACTIVATION_FLAGS[a.activation],
    });
  },
};

export const conv2dBackpropInputKernel: KernelConfig<'Conv2dBackpropInput'> = {
  kernelName: 'Conv2dBackpropInput',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [dy, w], attrs: a, backend }) => {
    const wasm = asWasm(backend);
    const g = geometry(a);
    const out = wasm.allocate(outputShape('Conv2dBackpropInput', [dy.shape, w.shape], a));
    const [dyOffset, wOffset, dxOffset] = [
      wasm.offset(dy.dataId),
      wasm.offset(w.dataId),
      wasm.offset(out.dataId),
    ];
    if (winogradApplies(a, 'data')) {
      // Writes every element of dx.
      winogradConv(wasm, a, 'data', dyOffset, w.dataId, dxOffset);
      return out;
    }
    // col2im adds into dx.
    wasm.view(out.dataId).fill(0);
    if (byImages(wasm, a)) {
      splitByImages(wasm, a, 'convBackpropInput', () => [dyOffset, wOffset, dxOffset]);
      return out;
    }
    const [cols, release] = colsScratch(wasm, g);
    for (let n = 0; n < a.batch; n++) {
      for (let group = 0; group < a.groups; group++) {
        // dcols [patch, positions] = W_gᵀ [patch, groupOut] x dy_g [groupOut, positions]
        gemm(
          wasm,
          g.patch,
          g.positions,
          g.groupOut,
          { offset: wOffset + group * g.groupOut * g.patch * 4, row: 1, col: g.patch },
          {
            offset: dyOffset + (n * a.outChannels + group * g.groupOut) * g.positions * 4,
            row: g.positions,
            col: 1,
          },
          cols,
          g.positions,
          false,
        );
        const dxImage = dxOffset + (n * a.inChannels + group * g.groupIn) * g.inPlane * 4;
        wasm.heap.kernels.col2im(cols, ...im2colArgs(a, g.groupIn), dxImage);
      }
    }
    release();
    return out;
  },
};

export const conv2dBackpropFilterKernel: KernelConfig<'Conv2dBackpropFilter'> = {
  kernelName: 'Conv2dBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [x, dy], attrs: a, backend }) => {
    const wasm = asWasm(backend);
    const g = geometry(a);
    const shape = outputShape('Conv2dBackpropFilter', [x.shape, dy.shape], a);
    const out = wasm.allocate(shape);
    const [xOffset, dyOffset, dwOffset] = [
      wasm.offset(x.dataId),
      wasm.offset(dy.dataId),
      wasm.offset(out.dataId),
    ];
    if (winogradApplies(a, 'filter')) {
      winogradFilter(wasm, a, xOffset, dyOffset, dwOffset);
      return out;
    }
    if (byImages(wasm, a)) {
      // Thread 0 writes dW itself; the others write partial sums that are added in afterwards.
      const bytes = a.outChannels * g.patch * 4;
      // One partial per range but the first: as many as splitByImages makes (a batch of 5 on 4
      // threads is 3 ranges of 2, 2 and 1 images), so none is summed unwritten.
      const threads = threadRanges(a.batch, wasm.pool.size).length;
      const partials = Array.from({ length: threads - 1 }, () => wasm.heap.alloc(bytes));
      splitByImages(wasm, a, 'convBackpropFilter', (t) => [
        xOffset,
        dyOffset,
        t === 0 ? dwOffset : partials[t - 1],
      ]);
      const total = wasm.view(out.dataId);
      for (const partial of partials) {
        const values = wasm.heap.f32(partial, total.length);
        for (let i = 0; i < total.length; i++) total[i] += values[i];
        wasm.heap.release(partial, bytes);
      }
      return out;
    }
    const [cols, release] = colsScratch(wasm, g);
    for (let n = 0; n < a.batch; n++) {
      for (let group = 0; group < a.groups; group++) {
        const xImage = xOffset + (n * a.inChannels + group * g.groupIn) * g.inPlane * 4;
        wasm.heap.kernels.im2col(xImage, ...im2colArgs(a, g.groupIn), cols);
        // dW_g [groupOut, patch] (+)= dy_g [groupOut, positions] x colsᵀ [positions, patch]
        gemm(
          wasm,
          g.groupOut,
          g.patch,
          g.positions,
          {
            offset: dyOffset + (n * a.outChannels + group * g.groupOut) * g.positions * 4,
            row: g.positions,
            col: 1,
          },
          { offset: cols, row: 1, col: g.positions },
          dwOffset + group * g.groupOut * g.patch * 4,
          g.patch,
          n > 0,
        );
      }
    }
    release();
    return out;
  },
};
