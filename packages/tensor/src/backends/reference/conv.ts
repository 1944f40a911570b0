import type { KernelConfig } from '../../backend.js';
import { sizeOf } from '../../internal/shape.js';
import { type Conv2dAttrs, outputShape } from '../../kernel-names.js';
import { asReference } from './backend.js';

/**
 * Visits every (output position, kernel tap) pair of a convolution whose input position lies
 * inside the image, with the flat indices of x, w and y. The three conv kernels are this loop
 * with a different line in the middle.
 */
function forEachTap(a: Conv2dAttrs, visit: (xi: number, wi: number, yi: number) => void): void {
  const outPerGroup = a.outChannels / a.groups;
  const inPerGroup = a.inChannels / a.groups;
  for (let n = 0; n < a.batch; n++) {
    for (let co = 0; co < a.outChannels; co++) {
      const g = Math.floor(co / outPerGroup);
      for (let oh = 0; oh < a.outHeight; oh++) {
        for (let ow = 0; ow < a.outWidth; ow++) {
          const yi = ((n * a.outChannels + co) * a.outHeight + oh) * a.outWidth + ow;
          for (let c = 0; c < inPerGroup; c++) {
            const ci = g * inPerGroup + c;
            for (let kh = 0; kh < a.kernelHeight; kh++) {
              const ih = oh * a.strideHeight - a.padTop + kh * a.dilationHeight;
              if (ih < 0 || ih >= a.inHeight) continue;
              for (let kw = 0; kw < a.kernelWidth; kw++) {
                const iw = ow * a.strideWidth - a.padLeft + kw * a.dilationWidth;
                if (iw < 0 || iw >= a.inWidth) continue;
                const xi = ((n * a.inChannels + ci) * a.inHeight + ih) * a.inWidth + iw;
                const wi = ((co * inPerGroup + c) * a.kernelHeight + kh) * a.kernelWidth + kw;
                visit(xi, wi, yi);
              }
            }
          }
        }
      }
    }
  }
}

export const conv2dKernel: KernelConfig<'Conv2d'> = {
  kernelName: 'Conv2d',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x, w], attrs: a, backend }) => {
    const ref = asReference(backend);
    const xv = ref.values(x.dataId);
    const wv = ref.values(w.dataId);
    const shape = outputShape('Conv2d', [x.shape, w.shape], a);
    const y = new Float64Array(sizeOf(shape));
    forEachTap(a, (xi, wi, yi) => {
      y[yi] += xv[xi] * wv[wi];
    });
    return ref.output(y, shape);
  },
};

export const fusedConv2dKernel: KernelConfig<'FusedConv2d'> = {
  kernelName: 'FusedConv2d',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x, w, bias], attrs: a, backend }) => {
    const ref = asReference(backend);
    const xv = ref.values(x.dataId);
    const wv = ref.values(w.dataId);
    const bv = ref.values(bias.dataId);
    const shape = outputShape('FusedConv2d', [x.shape, w.shape, bias.shape], a);
    const y = new Float64Array(sizeOf(shape));
    forEachTap(a, (xi, wi, yi) => {
      y[yi] += xv[xi] * wv[wi];
    });
    const plane = a.outHeight * a.outWidth;
    for (let i = 0; i < y.length; i++) {
      const v = y[i] + bv[Math.floor(i / plane) % a.outChannels];
      y[i] = a.activation === 'relu' ? Math.max(v, 0) : v;
    }
    return ref.output(y, shape);
  },
};

export const conv2dBackpropInputKernel: KernelConfig<'Conv2dBackpropInput'> = {
  kernelName: 'Conv2dBackpropInput',
  backendName: 'reference',
  kernelFunc: ({ inputs: [dy, w], attrs: a, backend }) => {
    const ref = asReference(backend);
    const dyv = ref.values(dy.dataId);
    const wv = ref.values(w.dataId);
    const shape = outputShape('Conv2dBackpropInput', [dy.shape, w.shape], a);
    const dx = new Float64Array(sizeOf(shape));
    forEachTap(a, (xi, wi, yi) => {
      dx[xi] += dyv[yi] * wv[wi];
    });
    return ref.output(dx, shape);
  },
};

export const conv2dBackpropFilterKernel: KernelConfig<'Conv2dBackpropFilter'> = {
  kernelName: 'Conv2dBackpropFilter',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x, dy], attrs: a, backend }) => {
    const ref = asReference(backend);
    const xv = ref.values(x.dataId);
    const dyv = ref.values(dy.dataId);
    const shape = outputShape('Conv2dBackpropFilter', [x.shape, dy.shape], a);
    const dw = new Float64Array(sizeOf(shape));
    forEachTap(a, (xi, wi, yi) => {
      dw[wi] += xv[xi] * dyv[yi];
    });
    return ref.output(dw, shape);
  },
};
