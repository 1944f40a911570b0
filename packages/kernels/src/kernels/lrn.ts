import type { LrnAttrs, TensorInfo } from '@gpunet/tensor';
import { asGpu } from '../backend.js';
import type { GpuKernel } from './types.js';

function constants(x: TensorInfo, a: LrnAttrs): Record<string, number> {
  const [, channels, height, width] = x.shape;
  return {
    channels,
    plane: height * width,
    size: a.size,
    alpha: a.alpha,
    beta: a.beta,
    k: a.k,
    before: Math.floor(a.size / 2),
    after: Math.floor((a.size - 1) / 2),
  };
}

/** Source of s = k + alpha / size * (sum of x^2 over the channel window of channel `c`), at `pos`. */
const scaleAt = (c: string, result: string) => `
let ${result}Sum = 0;
for (let j = Math.max(0, ${c} - this.constants.before); j <= Math.min(this.constants.channels - 1, ${c} + this.constants.after); j++) {
  const v = x[(n * this.constants.channels + j) * this.constants.plane + pos];
  ${result}Sum += v * v;
}
const ${result} = this.constants.k + this.constants.alpha / this.constants.size * ${result}Sum;`;

const position = `
const pos = this.thread.x % this.constants.plane;
const c = Math.floor(this.thread.x / this.constants.plane) % this.constants.channels;
const n = Math.floor(this.thread.x / (this.constants.plane * this.constants.channels));`;

export const lrnKernel: GpuKernel<'LRN'> = {
  kernelName: 'LRN',
  kernelFunc: ({ inputs: [x], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'LRN',
      params: ['x'],
      body: `${position}\n${scaleAt('c', 's')}\nreturn x[this.thread.x] * Math.pow(s, -this.constants.beta);`,
      constants: constants(x, a),
      inputs: [x],
      shape: x.shape,
    }),
};

/**
 * dx[i] = dy[i] s[i]^-beta - (2 alpha beta / size) x[i] sum_c dy[c] x[c] s[c]^(-beta-1), over the
 * channels c whose window holds i: c in i - floor((size-1)/2) .. i + floor(size/2).
 */
export const lrnGradKernel: GpuKernel<'LRNGrad'> = {
  kernelName: 'LRNGrad',
  kernelFunc: ({ inputs: [x, dy], attrs: a, backend }) =>
    asGpu(backend).run({
      name: 'LRNGrad',
      params: ['x', 'dy'],
      body: `${position}
${scaleAt('c', 'own')}
let acc = 0;
for (let q = Math.max(0, c - this.constants.after); q <= Math.min(this.constants.channels - 1, c + this.constants.before); q++) {
  ${scaleAt('q', 'other')}
  const at = (n * this.constants.channels + q) * this.constants.plane + pos;
  acc += dy[at] * x[at] * Math.pow(other, -this.constants.beta - 1);
}
return dy[this.thread.x] * Math.pow(own, -this.constants.beta)
  - 2 * this.constants.alpha * this.constants.beta / this.constants.size * x[this.thread.x] * acc;`,
      constants: constants(x, a),
      inputs: [x, dy],
      shape: x.shape,
    }),
};
