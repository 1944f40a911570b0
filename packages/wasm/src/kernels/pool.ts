import {
  type AdaptivePool2dAttrs,
  type KernelConfig,
  outputShape,
  type Pool2dAttrs,
} from '@gpunet/tensor';
import type { WasmBackend } from '../backend.js';
import { asWasm } from './common.js';
import { threadRanges } from './ranges.js';

function windowArgs(a: Pool2dAttrs): number[] {
  return [
    a.batch * a.channels,
    a.inHeight,
    a.inWidth,
    a.outHeight,
    a.outWidth,
    a.kernelHeight,
    a.kernelWidth,
    a.strideHeight,
    a.strideWidth,
    a.padTop,
    a.padLeft,
  ];
}

/** A pooling's output and input shapes, as the registry declares them (any pooling's attrs). */
const outShape = (a: AdaptivePool2dAttrs) => outputShape('AdaptiveAvgPool2d', [], a);
const inShape = (a: AdaptivePool2dAttrs) => outputShape('AdaptiveAvgPool2dGrad', [], a);

/**
 * Whether a pooling takes the separable paths (no padding, no dilation), and of those the
 * stride-2 SIMD one (a window 2 or 3 columns wide at column stride 2: AlexNet's 3x3/2, 2x2/2).
 */
function poolPath(a: Pool2dAttrs): 'stride2' | 'separable' | 'general' {
  if (a.padTop !== 0 || a.padLeft !== 0 || a.dilationHeight !== 1 || a.dilationWidth !== 1)
    return 'general';
  if (a.strideWidth === 2 && (a.kernelWidth === 2 || a.kernelWidth === 3)) return 'stride2';
  return 'separable';
}

/**
 * Input elements a thread should have before a pooling pass is split: waking a worker costs tens
 * of microseconds, and AlexNet's pooling at batch 1 (96 x 55 x 55 = 290,400 inputs and less)
 * measured slower on 2 threads than on 1 (0.5-0.6x, `bench:layers`).
 */
const POOL_MIN_ELEMENTS_PER_THREAD = 1 << 19;

/** Ranges of planes (image, channel) for the threads, at least POOL_MIN_ELEMENTS_PER_THREAD inputs each. */
function poolPlaneRanges(wasm: WasmBackend, a: Pool2dAttrs): [number, number][] {
  const plane = a.inHeight * a.inWidth;
  return threadRanges(a.batch * a.channels, wasm.pool.size, {
    minPerThread: Math.max(16, Math.ceil(POOL_MIN_ELEMENTS_PER_THREAD / plane)),
  });
}

export const maxPool2dKernel: KernelConfig<'MaxPool2d'> = {
  kernelName: 'MaxPool2d',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) => {
    const wasm = asWasm(backend);
    const out = wasm.allocate(outShape(a));
    const [, ...window] = windowArgs(a);
    const [xOffset, yOffset] = [wasm.offset(x.dataId), wasm.offset(out.dataId)];
    const inPlane = a.inHeight * a.inWidth * 4;
    const outPlane = a.outHeight * a.outWidth * 4;
    // Threads take disjoint ranges of planes (image, channel), enough work each to pay for waking.
    const planeRanges = poolPlaneRanges(wasm, a);
    // The window's sizes up to the row stride (the stride-2 and separable paths take no padding).
    const geometry = window.slice(0, 7);
    const path = poolPath(a);
    if (path === 'stride2') {
      const args = planeRanges.map(([p0, p1]) => [
        xOffset + p0 * inPlane,
        p1 - p0,
        ...geometry,
        yOffset + p0 * outPlane,
      ]);
      wasm.pool.run('maxPoolStride2', args);
      return out;
    }
    if (path === 'separable') {
      // Each thread gets a row of scratch for the vertical maxima.
      const rowBytes = a.inWidth * 4;
      const rows = planeRanges.map(() => wasm.heap.alloc(rowBytes));
      const args = planeRanges.map(([p0, p1], t) => [
        xOffset + p0 * inPlane,
        p1 - p0,
        ...window.slice(0, 8),
        yOffset + p0 * outPlane,
        rows[t],
      ]);
      wasm.pool.run('maxPoolSeparable', args);
      for (const row of rows) wasm.heap.release(row, rowBytes);
      return out;
    }
    const args = planeRanges.map(([p0, p1]) => [
      xOffset + p0 * inPlane,
      p1 - p0,
      ...window,
      a.dilationHeight,
      a.dilationWidth,
      yOffset + p0 * outPlane,
    ]);
    wasm.pool.run('maxPool', args);
    return out;
  },
};

export const maxPool2dGradKernel: KernelConfig<'MaxPool2dGrad'> = {
  kernelName: 'MaxPool2dGrad',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [dy, x], attrs: a, backend }) => {
    const wasm = asWasm(backend);
    const out = wasm.allocate(inShape(a));
    const [, ...window] = windowArgs(a);
    const [dyOffset, xOffset, dxOffset] = [
      wasm.offset(dy.dataId),
      wasm.offset(x.dataId),
      wasm.offset(out.dataId),
    ];
    const inPlane = a.inHeight * a.inWidth * 4;
    const outPlane = a.outHeight * a.outWidth * 4;
    // Threads take disjoint ranges of planes; each zero-fills and writes its own part of dx.
    const planeRanges = poolPlaneRanges(wasm, a);
    if (poolPath(a) === 'stride2') {
      const args = planeRanges.map(([p0, p1]) => [
        dyOffset + p0 * outPlane,
        xOffset + p0 * inPlane,
        p1 - p0,
        a.inHeight,
        a.inWidth,
        a.outHeight,
        a.outWidth,
        a.kernelHeight,
        a.kernelWidth,
        a.strideHeight,
        dxOffset + p0 * inPlane,
      ]);
      wasm.pool.run('maxPoolGradStride2', args);
      return out;
    }
    const args = planeRanges.map(([p0, p1]) => [
      dyOffset + p0 * outPlane,
      xOffset + p0 * inPlane,
      p1 - p0,
      ...window,
      a.dilationHeight,
      a.dilationWidth,
      dxOffset + p0 * inPlane,
    ]);
    wasm.pool.run('maxPoolGrad', args);
    return out;
  },
};

export const avgPool2dKernel: KernelConfig<'AvgPool2d'> = {
  kernelName: 'AvgPool2d',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) => {
    const wasm = asWasm(backend);
    const out = wasm.allocate(outShape(a));
    wasm.heap.kernels.avgPool(
      wasm.offset(x.dataId),
      ...windowArgs(a),
      a.countIncludePad ? 1 : 0,
      a.divisorOverride ?? 0,
      wasm.offset(out.dataId),
    );
    return out;
  },
};

export const avgPool2dGradKernel: KernelConfig<'AvgPool2dGrad'> = {
  kernelName: 'AvgPool2dGrad',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [dy], attrs: a, backend }) => {
    const wasm = asWasm(backend);
    const out = wasm.allocate(inShape(a));
    wasm.view(out.dataId).fill(0);
    wasm.heap.kernels.avgPoolGrad(
      wasm.offset(dy.dataId),
      ...windowArgs(a),
      a.countIncludePad ? 1 : 0,
      a.divisorOverride ?? 0,
      wasm.offset(out.dataId),
    );
    return out;
  },
};

/**
 * How LRN and its gradient share work among threads: by images when there are at least as many
 * as threads, otherwise by ranges of spatial positions (each at least 256, a multiple of 4) of
 * every image, so that batch 1 uses every core. Each range is [n0, n1) x [q0, q1).
 */
function lrnRanges(n: number, hw: number, threads: number): [number, number, number, number][] {
  if (n >= threads) return threadRanges(n, threads).map(([n0, n1]) => [n0, n1, 0, hw]);
  return threadRanges(hw, threads, { minPerThread: 256, multiple: 4 }).map(([q0, q1]) => [
    0,
    n,
    q0,
    q1,
  ]);
}

export const lrnKernel: KernelConfig<'LRN'> = {
  kernelName: 'LRN',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) => {
    const wasm = asWasm(backend);
    const out = wasm.allocate(x.shape);
    const [n, c, h, w] = x.shape;
    const hw = h * w;
    const image = c * hw * 4;
    const [xOffset, yOffset] = [wasm.offset(x.dataId), wasm.offset(out.dataId)];
    if (hw < 4) {
      // Fewer positions than SIMD lanes: image by image, one image of scratch, on this thread.
      const s = wasm.heap.alloc(image);
      wasm.heap.kernels.lrnImages(xOffset, n, c, hw, a.size, a.alpha, a.beta, a.k, s, yOffset);
      wasm.heap.release(s, image);
      return out;
    }
    // One pass in tiles of positions; each thread's scratch is a ring of `size` channel rows of
    // one tile, whatever the batch and image size.
    const ringBytes = wasm.heap.kernels.lrnScratchFloats(a.size) * 4;
    const parts = lrnRanges(n, hw, wasm.pool.size);
    const rings = parts.map(() => wasm.heap.alloc(ringBytes));
    const args = parts.map(([n0, n1, q0, q1], t) => [
      xOffset + n0 * image,
      n1 - n0,
      c,
      hw,
      q0,
      q1,
      a.size,
      a.alpha,
      a.beta,
      a.k,
      rings[t],
      yOffset + n0 * image,
    ]);
    wasm.pool.run('lrnTiles', args);
    for (const ring of rings) wasm.heap.release(ring, ringBytes);
    return out;
  },
};

export const lrnGradKernel: KernelConfig<'LRNGrad'> = {
  kernelName: 'LRNGrad',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [x, dy], attrs: a, backend }) => {
    const wasm = asWasm(backend);
    const out = wasm.allocate(x.shape);
    const [n, c, h, w] = x.shape;
    const hw = h * w;
    const image = c * hw * 4;
    const [xOffset, dyOffset, dxOffset] = [
      wasm.offset(x.dataId),
      wasm.offset(dy.dataId),
      wasm.offset(out.dataId),
    ];
    if (hw < 4) {
      // Image by image on this thread, with two images of scratch (scales and terms).
      const s = wasm.heap.alloc(2 * image);
      wasm.heap.kernels.lrnGradImages(
        xOffset,
        dyOffset,
        n,
        c,
        hw,
        a.size,
        a.alpha,
        a.beta,
        a.k,
        s,
        s + image,
        dxOffset,
      );
      wasm.heap.release(s, 2 * image);
      return out;
    }
    // One pass in tiles of positions, as the forward; the scratch holds three rings.
    const ringBytes = wasm.heap.kernels.lrnGradScratchFloats(a.size) * 4;
    const parts = lrnRanges(n, hw, wasm.pool.size);
    const rings = parts.map(() => wasm.heap.alloc(ringBytes));
    const args = parts.map(([n0, n1, q0, q1], t) => [
      xOffset + n0 * image,
      dyOffset + n0 * image,
      n1 - n0,
      c,
      hw,
      q0,
      q1,
      a.size,
      a.alpha,
      a.beta,
      a.k,
      rings[t],
      dxOffset + n0 * image,
    ]);
    wasm.pool.run('lrnGradTiles', args);
    for (const ring of rings) wasm.heap.release(ring, ringBytes);
    return out;
  },
};
