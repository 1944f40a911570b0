import type { KernelConfig } from '../../backend.js';
import { sizeOf } from '../../internal/shape.js';
import { type Conv2dAttrs, outputShape } from '../../kernel-names.js';
import type { TypedArray } from '../../types.js';
import { asReference } from './backend.js';

/** What a pass of `accumulateTaps` adds into: y (forward), x (data gradient) or w (filter gradient). */
type Into = 'y' | 'x' | 'w';

/**
 * Visits every (output position, kernel tap) pair of a convolution whose input position lies
 * inside the image and adds the product of two of x, w and y into the third (`into`). The
 * three conv kernels are this loop with a different line in the middle, chosen by a test the
 * CPU predicts. Against the earlier form (a callback per tap, and a bounds test per kernel
 * column), AlexNet conv2's three passes take about 4.3 s instead of 5.8 s: this oracle runs in
 * every backend's conformance tests.
 */
function accumulateTaps(
  a: Conv2dAttrs,
  into: Into,
  x: TypedArray | Float64Array,
  w: TypedArray | Float64Array,
  y: TypedArray | Float64Array,
): void {
  const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth } = a;
  const { kernelHeight, kernelWidth, strideHeight, strideWidth, padTop, padLeft } = a;
  const { dilationHeight, dilationWidth } = a;
  const outPerGroup = outChannels / a.groups;
  const inPerGroup = inChannels / a.groups;
  for (let n = 0; n < batch; n++) {
    for (let co = 0; co < outChannels; co++) {
      const g = Math.floor(co / outPerGroup);
      for (let oh = 0; oh < outHeight; oh++) {
        for (let ow = 0; ow < outWidth; ow++) {
          const yi = ((n * outChannels + co) * outHeight + oh) * outWidth + ow;
          // The kernel columns whose input column lies inside the image.
          const left = ow * strideWidth - padLeft;
          const kw0 = Math.max(0, Math.ceil(-left / dilationWidth));
          const kw1 = Math.min(kernelWidth, Math.floor((inWidth - 1 - left) / dilationWidth) + 1);
          // The forward pass sums in a local (no chain of loads and stores through y).
          let sum = 0;
          for (let c = 0; c < inPerGroup; c++) {
            const ci = g * inPerGroup + c;
            for (let kh = 0; kh < kernelHeight; kh++) {
              const ih = oh * strideHeight - padTop + kh * dilationHeight;
              if (ih < 0 || ih >= inHeight) continue;
              const xRow = ((n * inChannels + ci) * inHeight + ih) * inWidth + left;
              const wRow = ((co * inPerGroup + c) * kernelHeight + kh) * kernelWidth;
              for (let kw = kw0; kw < kw1; kw++) {
                const xi = xRow + kw * dilationWidth;
                const wi = wRow + kw;
                if (into === 'y') sum += x[xi] * w[wi];
                else if (into === 'x') x[xi] += y[yi] * w[wi];
                else w[wi] += x[xi] * y[yi];
              }
            }
          }
          if (into === 'y') y[yi] = sum;
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
    accumulateTaps(a, 'y', xv, wv, y);
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
    accumulateTaps(a, 'y', xv, wv, y);
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
    accumulateTaps(a, 'x', dx, wv, dyv);
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
    accumulateTaps(a, 'w', xv, dw, dyv);
    return ref.output(dw, shape);
  },
};
