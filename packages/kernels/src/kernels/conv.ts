import type { Conv2dAttrs } from '@gpunet/tensor';
import { asGpu } from '../backend.js';
import type { GpuKernel } from './types.js';

/** The convolution's geometry as kernel constants (Conv2dAttrs, plus channels per group). */
function constants(a: Conv2dAttrs): Record<string, number> {
  return {
    inC: a.inChannels,
    inH: a.inHeight,
    inW: a.inWidth,
    outC: a.outChannels,
    outH: a.outHeight,
    outW: a.outWidth,
    kH: a.kernelHeight,
    kW: a.kernelWidth,
    sH: a.strideHeight,
    sW: a.strideWidth,
    pT: a.padTop,
    pL: a.padLeft,
    dH: a.dilationHeight,
    dW: a.dilationWidth,
    inG: a.inChannels / a.groups,
    outG: a.outChannels / a.groups,
  };
}

/** y[n, co, oh, ow] = sum over the group's channels and the taps inside the image of x * w. */
export const conv2dKernel: GpuKernel<'Conv2d'> = {
  kernelName: 'Conv2d',
  kernelFunc: ({ inputs: [x, w], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'Conv2d',
      params: ['x', 'w'],
      body: `
const ow = this.thread.x % this.constants.outW;
const oh = Math.floor(this.thread.x / this.constants.outW) % this.constants.outH;
const co = Math.floor(this.thread.x / (this.constants.outW * this.constants.outH)) % this.constants.outC;
const n = Math.floor(this.thread.x / (this.constants.outW * this.constants.outH * this.constants.outC));
const g = Math.floor(co / this.constants.outG);
let acc = 0;
for (let c = 0; c < this.constants.inG; c++) {
  const xPlane = (n * this.constants.inC + g * this.constants.inG + c) * this.constants.inH;
  const wPlane = (co * this.constants.inG + c) * this.constants.kH;
  for (let kh = 0; kh < this.constants.kH; kh++) {
    const ih = oh * this.constants.sH - this.constants.pT + kh * this.constants.dH;
    if (ih >= 0 && ih < this.constants.inH) {
      for (let kw = 0; kw < this.constants.kW; kw++) {
        const iw = ow * this.constants.sW - this.constants.pL + kw * this.constants.dW;
        if (iw >= 0 && iw < this.constants.inW) {
          acc += x[(xPlane + ih) * this.constants.inW + iw] * w[(wPlane + kh) * this.constants.kW + kw];
        }
      }
    }
  }
}
return acc;`,
      constants: constants(a),
      inputs: [x, w],
      shape: [a.batch, a.outChannels, a.outHeight, a.outWidth],
    }),
};

/**
 * dx[n, ci, ih, iw] = sum over the group's output channels and the taps (kh, kw) for which
 * ih = oh * sH - pT + kh * dH lands on an output row oh (and likewise for columns) of dy * w.
 */
export const conv2dBackpropInputKernel: GpuKernel<'Conv2dBackpropInput'> = {
  kernelName: 'Conv2dBackpropInput',
  kernelFunc: ({ inputs: [dy, w], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'Conv2dBackpropInput',
      params: ['dy', 'w'],
      body: `
const iw = this.thread.x % this.constants.inW;
const ih = Math.floor(this.thread.x / this.constants.inW) % this.constants.inH;
const ci = Math.floor(this.thread.x / (this.constants.inW * this.constants.inH)) % this.constants.inC;
const n = Math.floor(this.thread.x / (this.constants.inW * this.constants.inH * this.constants.inC));
const g = Math.floor(ci / this.constants.inG);
const c = ci % this.constants.inG;
let acc = 0;
for (let kh = 0; kh < this.constants.kH; kh++) {
  const rowNumerator = ih + this.constants.pT - kh * this.constants.dH;
  const oh = Math.floor(rowNumerator / this.constants.sH);
  if (rowNumerator >= 0 && oh * this.constants.sH === rowNumerator && oh < this.constants.outH) {
    for (let kw = 0; kw < this.constants.kW; kw++) {
      const colNumerator = iw + this.constants.pL - kw * this.constants.dW;
      const ow = Math.floor(colNumerator / this.constants.sW);
      if (colNumerator >= 0 && ow * this.constants.sW === colNumerator && ow < this.constants.outW) {
        for (let j = 0; j < this.constants.outG; j++) {
          const co = g * this.constants.outG + j;
          acc += dy[((n * this.constants.outC + co) * this.constants.outH + oh) * this.constants.outW + ow]
            * w[((co * this.constants.inG + c) * this.constants.kH + kh) * this.constants.kW + kw];
        }
      }
    }
  }
}
return acc;`,
      constants: constants(a),
      inputs: [dy, w],
      shape: [a.batch, a.inChannels, a.inHeight, a.inWidth],
    }),
};

/** dw[co, c, kh, kw] = sum over images and output positions of x (at the tap) * dy. */
export const conv2dBackpropFilterKernel: GpuKernel<'Conv2dBackpropFilter'> = {
  kernelName: 'Conv2dBackpropFilter',
  kernelFunc: ({ inputs: [x, dy], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'Conv2dBackpropFilter',
      params: ['x', 'dy'],
      body: `
const kw = this.thread.x % this.constants.kW;
const kh = Math.floor(this.thread.x / this.constants.kW) % this.constants.kH;
const c = Math.floor(this.thread.x / (this.constants.kW * this.constants.kH)) % this.constants.inG;
const co = Math.floor(this.thread.x / (this.constants.kW * this.constants.kH * this.constants.inG));
const ci = Math.floor(co / this.constants.outG) * this.constants.inG + c;
let acc = 0;
for (let n = 0; n < this.constants.batch; n++) {
  for (let oh = 0; oh < this.constants.outH; oh++) {
    const ih = oh * this.constants.sH - this.constants.pT + kh * this.constants.dH;
    if (ih >= 0 && ih < this.constants.inH) {
      for (let ow = 0; ow < this.constants.outW; ow++) {
        const iw = ow * this.constants.sW - this.constants.pL + kw * this.constants.dW;
        if (iw >= 0 && iw < this.constants.inW) {
          acc += x[((n * this.constants.inC + ci) * this.constants.inH + ih) * this.constants.inW + iw]
            * dy[((n * this.constants.outC + co) * this.constants.outH + oh) * this.constants.outW + ow];
        }
      }
    }
  }
}
return acc;`,
      constants: { ...constants(a), batch: a.batch },
      inputs: [x, dy],
      shape: [a.outChannels, a.inChannels / a.groups, a.kernelHeight, a.kernelWidth],
    }),
};
