import {
  type AdaptivePool2dAttrs,
  type KernelConfig,
  outputShape,
  type Pool2dAttrs,
} from '@gpunet/tensor';
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
    // Threads take disjoint ranges of planes (image, channel).
    const planeRanges = threadRanges(a.batch * a.channels, wasm.pool.size, { minPerThread: 16 });
    if (a.padTop === 0 && a.padLeft === 0 && a.dilationHeight === 1 && a.dilationWidth === 1) {
      // Each thread gets a row of scratch for the separable path.
      const rowBytes = (a.inWidth + 4) * 4; // 4 floats of slack for the SIMD horizontal pass
      const rows = planeRanges.map(() => wasm.heap.alloc(rowBytes));
      const args = planeRanges.map(([p0, p1], t) => [
        xOffset + p0 * inPlane,
        p1 - p0,
        a.inHeight,
        a.inWidth,
        a.outHeight,
        a.outWidth,
        a.kernelHeight,
        a.kernelWidth,
        a.strideHeight,
        a.strideWidth,
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
    const args = threadRanges(a.batch * a.channels, wasm.pool.size, { minPerThread: 16 }).map(
      ([p0, p1]) => [
        dyOffset + p0 * outPlane,
        xOffset + p0 * inPlane,
        p1 - p0,
        ...window,
        a.dilationHeight,
        a.dilationWidth,
        dxOffset + p0 * inPlane,
      ],
    );
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

export const lrnKernel: KernelConfig<'LRN'> = {
  kernelName: 'LRN',
  backendName: 'wasm',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) => {
    const wasm = asWasm(backend);
    const out = wasm.allocate(x.shape);
    const [n, c, h, w] = x.shape;
    const image = c * h * w * 4;
    const [xOffset, yOffset] = [wasm.offset(x.dataId), wasm.offset(out.dataId)];
    // Threads take disjoint ranges of images (the channel window stays inside an image), each
    // with one image of scratch: the work buffer does not grow with the batch.
    const parts = threadRanges(n, wasm.pool.size);
    const scratch = parts.map(() => wasm.heap.alloc(image));
    const args = parts.map(([n0, n1], t) => [
      xOffset + n0 * image,
      n1 - n0,
      c,
      h * w,
      a.size,
      a.alpha,
      a.beta,
      a.k,
      scratch[t],
      yOffset + n0 * image,
    ]);
    wasm.pool.run('lrnImages', args);
    for (const s of scratch) wasm.heap.release(s, image);
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
    const image = c * h * w * 4;
    const [xOffset, dyOffset, dxOffset] = [
      wasm.offset(x.dataId),
      wasm.offset(dy.dataId),
      wasm.offset(out.dataId),
    ];
    // By images over the threads, each with two images of scratch (scales and terms).
    const parts = threadRanges(n, wasm.pool.size);
    const scratch = parts.map(() => wasm.heap.alloc(2 * image));
    const args = parts.map(([n0, n1], t) => [
      xOffset + n0 * image,
      dyOffset + n0 * image,
      n1 - n0,
      c,
      h * w,
      a.size,
      a.alpha,
      a.beta,
      a.k,
      scratch[t],
      scratch[t] + image,
      dxOffset + n0 * image,
    ]);
    wasm.pool.run('lrnGradImages', args);
    for (const s of scratch) wasm.heap.release(s, 2 * image);
    return out;
  },
};
