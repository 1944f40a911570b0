import type { KernelConfig } from '../../backend.js';
import { sizeOf } from '../../internal/shape.js';
import { type AdaptivePool2dAttrs, outputShape, type Pool2dAttrs } from '../../kernel-names.js';
import { asReference } from './backend.js';

/**
 * Visits each output cell of a pooling with the flat input indices of its window (taps inside
 * the image only) and its average divisor, following PyTorch's avg_pool2d and max_pool2d.
 */
function forEachWindow(
  a: Pool2dAttrs,
  visit: (yi: number, taps: number[], divisor: number) => void,
): void {
  const taps: number[] = [];
  for (let plane = 0; plane < a.batch * a.channels; plane++) {
    for (let oh = 0; oh < a.outHeight; oh++) {
      for (let ow = 0; ow < a.outWidth; ow++) {
        taps.length = 0;
        const h0 = oh * a.strideHeight - a.padTop;
        const w0 = ow * a.strideWidth - a.padLeft;
        for (let kh = 0; kh < a.kernelHeight; kh++) {
          const ih = h0 + kh * a.dilationHeight;
          if (ih < 0 || ih >= a.inHeight) continue;
          for (let kw = 0; kw < a.kernelWidth; kw++) {
            const iw = w0 + kw * a.dilationWidth;
            if (iw >= 0 && iw < a.inWidth) taps.push((plane * a.inHeight + ih) * a.inWidth + iw);
          }
        }
        // The padded window is clipped to the padded input (PyTorch's pool_size)...
        const hEnd = Math.min(h0 + a.kernelHeight, a.inHeight + a.padTop);
        const wEnd = Math.min(w0 + a.kernelWidth, a.inWidth + a.padLeft);
        const paddedCount = (hEnd - h0) * (wEnd - w0);
        // ...and the divisor is that, or the taps inside the image, or the override.
        const divisor = a.divisorOverride ?? (a.countIncludePad ? paddedCount : taps.length);
        visit((plane * a.outHeight + oh) * a.outWidth + ow, taps, divisor);
      }
    }
  }
}

/** Index of the first maximum among the taps (NaN counts as the maximum, as in PyTorch). */
function argMaxTap(values: ArrayLike<number>, taps: readonly number[]): number {
  let best = taps[0];
  for (const t of taps) {
    if (values[t] > values[best] || (Number.isNaN(values[t]) && !Number.isNaN(values[best])))
      best = t;
  }
  return best;
}

export const maxPool2dKernel: KernelConfig<'MaxPool2d'> = {
  kernelName: 'MaxPool2d',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) => {
    const ref = asReference(backend);
    const xv = ref.values(x.dataId);
    const y = new Float32Array(sizeOf(outputShape('MaxPool2d', [x.shape], a)));
    forEachWindow(a, (yi, taps) => {
      y[yi] = taps.length > 0 ? xv[argMaxTap(xv, taps)] : Number.NEGATIVE_INFINITY;
    });
    return ref.output(y, outputShape('MaxPool2d', [x.shape], a));
  },
};

export const maxPool2dGradKernel: KernelConfig<'MaxPool2dGrad'> = {
  kernelName: 'MaxPool2dGrad',
  backendName: 'reference',
  kernelFunc: ({ inputs: [dy, x], attrs: a, backend }) => {
    const ref = asReference(backend);
    const xv = ref.values(x.dataId);
    const dyv = ref.values(dy.dataId);
    const dx = new Float64Array(xv.length);
    forEachWindow(a, (yi, taps) => {
      if (taps.length > 0) dx[argMaxTap(xv, taps)] += dyv[yi];
    });
    return ref.output(dx, outputShape('MaxPool2dGrad', [dy.shape, x.shape], a));
  },
};

export const avgPool2dKernel: KernelConfig<'AvgPool2d'> = {
  kernelName: 'AvgPool2d',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) => {
    const ref = asReference(backend);
    const xv = ref.values(x.dataId);
    const y = new Float32Array(sizeOf(outputShape('AvgPool2d', [x.shape], a)));
    forEachWindow(a, (yi, taps, divisor) => {
      let acc = 0;
      for (const t of taps) acc += xv[t];
      y[yi] = acc / divisor;
    });
    return ref.output(y, outputShape('AvgPool2d', [x.shape], a));
  },
};

export const avgPool2dGradKernel: KernelConfig<'AvgPool2dGrad'> = {
  kernelName: 'AvgPool2dGrad',
  backendName: 'reference',
  kernelFunc: ({ inputs: [dy], attrs: a, backend }) => {
    const ref = asReference(backend);
    const dyv = ref.values(dy.dataId);
    const dx = new Float64Array(sizeOf(outputShape('AvgPool2dGrad', [dy.shape], a)));
    forEachWindow(a, (yi, taps, divisor) => {
      for (const t of taps) dx[t] += dyv[yi] / divisor;
    });
    return ref.output(dx, outputShape('AvgPool2dGrad', [dy.shape], a));
  },
};

/** Visits each adaptive-pooling output cell with the flat indices of its window. */
function forEachAdaptiveWindow(
  a: AdaptivePool2dAttrs,
  visit: (yi: number, taps: number[]) => void,
): void {
  const taps: number[] = [];
  for (let plane = 0; plane < a.batch * a.channels; plane++) {
    for (let oh = 0; oh < a.outHeight; oh++) {
      const h0 = Math.floor((oh * a.inHeight) / a.outHeight);
      const h1 = Math.ceil(((oh + 1) * a.inHeight) / a.outHeight);
      for (let ow = 0; ow < a.outWidth; ow++) {
        const w0 = Math.floor((ow * a.inWidth) / a.outWidth);
        const w1 = Math.ceil(((ow + 1) * a.inWidth) / a.outWidth);
        taps.length = 0;
        for (let ih = h0; ih < h1; ih++)
          for (let iw = w0; iw < w1; iw++) taps.push((plane * a.inHeight + ih) * a.inWidth + iw);
        visit((plane * a.outHeight + oh) * a.outWidth + ow, taps);
      }
    }
  }
}

export const adaptiveAvgPool2dKernel: KernelConfig<'AdaptiveAvgPool2d'> = {
  kernelName: 'AdaptiveAvgPool2d',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) => {
    const ref = asReference(backend);
    const xv = ref.values(x.dataId);
    const y = new Float32Array(sizeOf(outputShape('AdaptiveAvgPool2d', [x.shape], a)));
    forEachAdaptiveWindow(a, (yi, taps) => {
      let acc = 0;
      for (const t of taps) acc += xv[t];
      y[yi] = acc / taps.length;
    });
    return ref.output(y, [a.batch, a.channels, a.outHeight, a.outWidth]);
  },
};

export const adaptiveAvgPool2dGradKernel: KernelConfig<'AdaptiveAvgPool2dGrad'> = {
  kernelName: 'AdaptiveAvgPool2dGrad',
  backendName: 'reference',
  kernelFunc: ({ inputs: [dy], attrs: a, backend }) => {
    const ref = asReference(backend);
    const dyv = ref.values(dy.dataId);
    const dx = new Float64Array(sizeOf(outputShape('AdaptiveAvgPool2dGrad', [dy.shape], a)));
    forEachAdaptiveWindow(a, (yi, taps) => {
      for (const t of taps) dx[t] += dyv[yi] / taps.length;
    });
    return ref.output(dx, outputShape('AdaptiveAvgPool2dGrad', [dy.shape], a));
  },
};
