import type { AdaptivePool2dAttrs, Pool2dAttrs } from '@gpunet/tensor';
import { asGpu } from '../backend.js';
import type { GpuKernel } from './types.js';

function constants(a: Pool2dAttrs): Record<string, number> {
  return {
    inH: a.inHeight,
    inW: a.inWidth,
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
    countIncludePad: a.countIncludePad ? 1 : 0,
    divisorOverride: a.divisorOverride ?? 0,
  };
}

/**
 * Source that finds the first maximum (NaN wins, as in PyTorch) of window (oh, ow) in the plane
 * starting at `plane`: leaves its value in `best` and its offset in the plane in `at` (-1 if the
 * window holds no input cell). Shared by the forward and the gradient kernel. Its names (mh, mih,
 * ...) must not shadow the gradient kernel's ih/iw: gpu.js's webasm compiler flattens block
 * scopes, so a shadowed `const` overwrote the outer one there (cpu mode was right).
 */
const windowArgMax = (oh: string, ow: string) => `
let best = -Infinity;
let at = -1;
for (let mh = 0; mh < this.constants.kH; mh++) {
  const mih = ${oh} * this.constants.sH - this.constants.pT + mh * this.constants.dH;
  if (mih >= 0 && mih < this.constants.inH) {
    for (let mw = 0; mw < this.constants.kW; mw++) {
      const miw = ${ow} * this.constants.sW - this.constants.pL + mw * this.constants.dW;
      if (miw >= 0 && miw < this.constants.inW) {
        const v = x[plane + mih * this.constants.inW + miw];
        if (at < 0 || v > best || (v !== v && best === best)) { best = v; at = mih * this.constants.inW + miw; }
      }
    }
  }
}`;

/** Source of the average divisor of window (oh, ow), following PyTorch's avg_pool2d. */
const windowDivisor = (oh: string, ow: string) => `
const h0 = ${oh} * this.constants.sH - this.constants.pT;
const w0 = ${ow} * this.constants.sW - this.constants.pL;
let divisor = this.constants.divisorOverride;
if (divisor === 0) {
  if (this.constants.countIncludePad === 1) {
    divisor = (Math.min(h0 + this.constants.kH, this.constants.inH + this.constants.pT) - h0)
      * (Math.min(w0 + this.constants.kW, this.constants.inW + this.constants.pL) - w0);
  } else {
    divisor = (Math.min(h0 + this.constants.kH, this.constants.inH) - Math.max(h0, 0))
      * (Math.min(w0 + this.constants.kW, this.constants.inW) - Math.max(w0, 0));
  }
}`;

const outIndex = `
const ow = this.thread.x % this.constants.outW;
const oh = Math.floor(this.thread.x / this.constants.outW) % this.constants.outH;
const p = Math.floor(this.thread.x / (this.constants.outW * this.constants.outH));
const plane = p * this.constants.inH * this.constants.inW;`;

const inIndex = `
const iw = this.thread.x % this.constants.inW;
const ih = Math.floor(this.thread.x / this.constants.inW) % this.constants.inH;
const p = Math.floor(this.thread.x / (this.constants.inW * this.constants.inH));
const plane = p * this.constants.inH * this.constants.inW;
const outPlane = p * this.constants.outH * this.constants.outW;`;

/**
 * Source that visits every window (oh, ow) holding input cell (ih, iw): the taps (kh, kw) for
 * which ih = oh * sH - pT + kh * dH lands on an output row, and likewise for columns.
 */
const forEachWindowHolding = (inner: string) => `
for (let th = 0; th < this.constants.kH; th++) {
  const rowNumerator = ih + this.constants.pT - th * this.constants.dH;
  const oh = Math.floor(rowNumerator / this.constants.sH);
  if (rowNumerator >= 0 && oh * this.constants.sH === rowNumerator && oh < this.constants.outH) {
    for (let tw = 0; tw < this.constants.kW; tw++) {
      const colNumerator = iw + this.constants.pL - tw * this.constants.dW;
      const ow = Math.floor(colNumerator / this.constants.sW);
      if (colNumerator >= 0 && ow * this.constants.sW === colNumerator && ow < this.constants.outW) {
        ${inner}
      }
    }
  }
}`;

const outShape = (a: Pool2dAttrs) => [a.batch, a.channels, a.outHeight, a.outWidth];
const inShape = (a: Pool2dAttrs | AdaptivePool2dAttrs) => [
  a.batch,
  a.channels,
  a.inHeight,
  a.inWidth,
];

export const maxPool2dKernel: GpuKernel<'MaxPool2d'> = {
  kernelName: 'MaxPool2d',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'MaxPool2d',
      params: ['x'],
      body: `${outIndex}\n${windowArgMax('oh', 'ow')}\nreturn best;`,
      constants: constants(a),
      inputs: [x],
      shape: outShape(a),
    }),
};

export const maxPool2dGradKernel: GpuKernel<'MaxPool2dGrad'> = {
  kernelName: 'MaxPool2dGrad',
  kernelFunc: ({ inputs: [dy, x], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'MaxPool2dGrad',
      params: ['dy', 'x'],
      // Each input cell gathers dy from the windows whose first maximum it is.
      body: `${inIndex}
let acc = 0;
${forEachWindowHolding(`${windowArgMax('oh', 'ow')}
        if (at === ih * this.constants.inW + iw) { acc += dy[outPlane + oh * this.constants.outW + ow]; }`)}
return acc;`,
      constants: constants(a),
      inputs: [dy, x],
      shape: inShape(a),
    }),
};

export const avgPool2dKernel: GpuKernel<'AvgPool2d'> = {
  kernelName: 'AvgPool2d',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'AvgPool2d',
      params: ['x'],
      body: `${outIndex}
${windowDivisor('oh', 'ow')}
let acc = 0;
for (let ih = Math.max(h0, 0); ih < Math.min(h0 + this.constants.kH, this.constants.inH); ih++) {
  for (let iw = Math.max(w0, 0); iw < Math.min(w0 + this.constants.kW, this.constants.inW); iw++) {
    acc += x[plane + ih * this.constants.inW + iw];
  }
}
return acc / divisor;`,
      constants: constants(a),
      inputs: [x],
      shape: outShape(a),
    }),
};

export const avgPool2dGradKernel: GpuKernel<'AvgPool2dGrad'> = {
  kernelName: 'AvgPool2dGrad',
  kernelFunc: ({ inputs: [dy], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'AvgPool2dGrad',
      params: ['dy'],
      body: `${inIndex}
let acc = 0;
${forEachWindowHolding(`${windowDivisor('oh', 'ow')}
        acc += dy[outPlane + oh * this.constants.outW + ow] / divisor;`)}
return acc;`,
      constants: { ...constants(a), dH: 1, dW: 1 },
      inputs: [dy],
      shape: inShape(a),
    }),
};

function adaptiveConstants(a: AdaptivePool2dAttrs): Record<string, number> {
  return { inH: a.inHeight, inW: a.inWidth, outH: a.outHeight, outW: a.outWidth };
}

// Window of output cell i over n inputs to m outputs: floor(i n / m) .. ceil((i + 1) n / m).
const adaptiveWindow = `
const h0 = Math.floor(oh * this.constants.inH / this.constants.outH);
const h1 = Math.ceil((oh + 1) * this.constants.inH / this.constants.outH);
const w0 = Math.floor(ow * this.constants.inW / this.constants.outW);
const w1 = Math.ceil((ow + 1) * this.constants.inW / this.constants.outW);`;

export const adaptiveAvgPool2dKernel: GpuKernel<'AdaptiveAvgPool2d'> = {
  kernelName: 'AdaptiveAvgPool2d',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'AdaptiveAvgPool2d',
      params: ['x'],
      body: `${outIndex}
${adaptiveWindow}
let acc = 0;
for (let ih = h0; ih < h1; ih++) {
  for (let iw = w0; iw < w1; iw++) { acc += x[plane + ih * this.constants.inW + iw]; }
}
return acc / ((h1 - h0) * (w1 - w0));`,
      constants: adaptiveConstants(a),
      inputs: [x],
      shape: [a.batch, a.channels, a.outHeight, a.outWidth],
    }),
};

export const adaptiveAvgPool2dGradKernel: GpuKernel<'AdaptiveAvgPool2dGrad'> = {
  kernelName: 'AdaptiveAvgPool2dGrad',
  kernelFunc: ({ inputs: [dy], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'AdaptiveAvgPool2dGrad',
      params: ['dy'],
      body: `${inIndex}
let acc = 0;
for (let oh = 0; oh < this.constants.outH; oh++) {
  for (let ow = 0; ow < this.constants.outW; ow++) {
    ${adaptiveWindow}
    if (ih >= h0 && ih < h1 && iw >= w0 && iw < w1) {
      acc += dy[outPlane + oh * this.constants.outW + ow] / ((h1 - h0) * (w1 - w0));
    }
  }
}
return acc;`,
      constants: adaptiveConstants(a),
      inputs: [dy],
      shape: inShape(a),
    }),
};
