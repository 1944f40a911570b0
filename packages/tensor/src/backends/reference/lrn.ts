import type { KernelConfig } from '../../backend.js';
import type { LrnAttrs } from '../../kernel-names.js';
import { asReference } from './backend.js';

/**
 * The LRN denominator base for every element: `s = k + alpha / size * sum x[j]^2` over the
 * channel window `c - floor(size/2) .. c + floor((size-1)/2)`, clipped to the channels.
 */
function scales(xv: ArrayLike<number>, shape: readonly number[], a: LrnAttrs): Float64Array {
  const [batch, channels, height, width] = shape;
  const plane = height * width;
  const s = new Float64Array(xv.length);
  const before = Math.floor(a.size / 2);
  const after = Math.floor((a.size - 1) / 2);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < plane; p++) {
        let acc = 0;
        for (let j = Math.max(0, c - before); j <= Math.min(channels - 1, c + after); j++) {
          const v = xv[(n * channels + j) * plane + p];
          acc += v * v;
        }
        s[(n * channels + c) * plane + p] = a.k + (a.alpha / a.size) * acc;
      }
    }
  }
  return s;
}

export const lrnKernel: KernelConfig<'LRN'> = {
  kernelName: 'LRN',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) => {
    const ref = asReference(backend);
    const xv = ref.values(x.dataId);
    const s = scales(xv, x.shape, a);
    const y = new Float32Array(xv.length);
    for (let i = 0; i < xv.length; i++) y[i] = xv[i] * s[i] ** -a.beta;
    return ref.output(y, x.shape);
  },
};

/**
 * dx[i] = dy[i] s[i]^-beta - (2 alpha beta / size) x[i] sum_c dy[c] x[c] s[c]^(-beta-1),
 * the sum over the channels c whose window contains i: c in i - floor((size-1)/2) .. i + floor(size/2).
 */
export const lrnGradKernel: KernelConfig<'LRNGrad'> = {
  kernelName: 'LRNGrad',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x, dy], attrs: a, backend }) => {
    const ref = asReference(backend);
    const xv = ref.values(x.dataId);
    const dyv = ref.values(dy.dataId);
    const s = scales(xv, x.shape, a);
    const [batch, channels, height, width] = x.shape;
    const plane = height * width;
    const before = Math.floor(a.size / 2);
    const after = Math.floor((a.size - 1) / 2);
    const dx = new Float64Array(xv.length);
    for (let n = 0; n < batch; n++) {
      for (let i = 0; i < channels; i++) {
        for (let p = 0; p < plane; p++) {
          const ii = (n * channels + i) * plane + p;
          let acc = 0;
          for (let c = Math.max(0, i - after); c <= Math.min(channels - 1, i + before); c++) {
            const ci = (n * channels + c) * plane + p;
            acc += dyv[ci] * xv[ci] * s[ci] ** (-a.beta - 1);
          }
          dx[ii] = dyv[ii] * s[ii] ** -a.beta - ((2 * a.alpha * a.beta) / a.size) * xv[ii] * acc;
        }
      }
    }
    return ref.output(dx, x.shape);
  },
};
