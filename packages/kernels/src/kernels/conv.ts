/**
 * Conv2d and its two gradients over NCHW data and [outC, inC/groups, kH, kW] weights, each as a
 * gather: every output element sums its own taps, so no two threads write the same cell.
 *
 * - Conv2d: y[n, co, oh, ow] sums x * w over the group's input channels and the kernel window.
 * - Conv2dBackpropInput: dx[n, ci, ih, iw] sums dy * w over the output positions whose window
 *   covers (ih, iw): oh = (ih + padTop - kh * dilation) / stride where that divides exactly.
 * - Conv2dBackpropFilter: dw[co, c, kh, kw] sums x * dy over the batch and output positions.
 *
 * Every bound is a literal of the generated source, so the loops have constant trip counts and
 * the compiled kernel is cached per layer geometry.
 */
import type { Conv2dAttrs } from '@gpunet/tensor';
import { defineKernel, type GpuKernel } from '../internal/define.js';
import { idiv, kernelSource, unravel } from '../internal/index-math.js';

export const conv2dKernel = defineKernel('Conv2d', ({ inputs: [x, w], attrs: a, backend }) => {
  const inPerGroup = a.inChannels / a.groups;
  const outPerGroup = a.outChannels / a.groups;
  const plane = a.inHeight * a.inWidth;
  const taps = a.kernelHeight * a.kernelWidth;
  const body = [
    unravel('i', [a.batch, a.outChannels, a.outHeight, a.outWidth], 'o'),
    `const g = ${idiv('o1', outPerGroup)};`,
    `const xBase = (o0 * ${a.inChannels} + g * ${inPerGroup}) * ${plane};`,
    `const wBase = o1 * ${inPerGroup * taps};`,
    `const h0 = o2 * ${a.strideHeight} - ${a.padTop};`,
    `const w0 = o3 * ${a.strideWidth} - ${a.padLeft};`,
    'let acc = 0;',
    `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
    `const ih = h0 + kh * ${a.dilationHeight};`,
    `if (ih >= 0 && ih < ${a.inHeight}) {`,
    `for (let kw = 0; kw < ${a.kernelWidth}; kw++) {`,
    `const iw = w0 + kw * ${a.dilationWidth};`,
    `if (iw >= 0 && iw < ${a.inWidth}) {`,
    `const xi = xBase + ih * ${a.inWidth} + iw;`,
    `const wi = wBase + kh * ${a.kernelWidth} + kw;`,
    `for (let c = 0; c < ${inPerGroup}; c++) {`,
    `acc += x[xi + c * ${plane}] * w[wi + c * ${taps}];`,
    '}',
    '}',
    '}',
    '}',
    '}',
    'return acc;',
  ].join('\n');
  return backend.run(
    kernelSource(['x', 'w'], body),
    [x, w],
    [a.batch, a.outChannels, a.outHeight, a.outWidth],
  );
});

/** Output and input channels per group. */
function backOffset(a: Conv2dAttrs) {
  return { outPerGroup: a.outChannels / a.groups, inPerGroup: a.inChannels / a.groups };
}

export const conv2dBackpropInputKernel = defineKernel(
  'Conv2dBackpropInput',
  ({ inputs: [dy, w], attrs: a, backend }) => {
    const { outPerGroup, inPerGroup } = backOffset(a);
    const outPlane = a.outHeight * a.outWidth;
    const taps = a.kernelHeight * a.kernelWidth;
    const body = [
      unravel('i', [a.batch, a.inChannels, a.inHeight, a.inWidth], 'o'),
      `const g = ${idiv('o1', inPerGroup)};`,
      `const c = o1 - g * ${inPerGroup};`,
      `const dyBase = (o0 * ${a.outChannels} + g * ${outPerGroup}) * ${outPlane};`,
      `const wBase = (g * ${outPerGroup} * ${inPerGroup} + c) * ${taps};`,
      'let acc = 0;',
      `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
      `const th = o2 + ${a.padTop} - kh * ${a.dilationHeight};`,
      `if (th >= 0) {`,
      `const oh = ${idiv('th', a.strideHeight)};`,
      `if (oh * ${a.strideHeight} === th && oh < ${a.outHeight}) {`,
      `for (let kw = 0; kw < ${a.kernelWidth}; kw++) {`,
      `const tw = o3 + ${a.padLeft} - kw * ${a.dilationWidth};`,
      `if (tw >= 0) {`,
      `const ow = ${idiv('tw', a.strideWidth)};`,
      `if (ow * ${a.strideWidth} === tw && ow < ${a.outWidth}) {`,
      `const dyi = dyBase + oh * ${a.outWidth} + ow;`,
      `const wi = wBase + kh * ${a.kernelWidth} + kw;`,
      `for (let co = 0; co < ${outPerGroup}; co++) {`,
      `acc += dy[dyi + co * ${outPlane}] * w[wi + co * ${inPerGroup * taps}];`,
      '}',
      '}',
      '}',
      '}',
      '}',
      '}',
      '}',
      'return acc;',
    ].join('\n');
    return backend.run(
      kernelSource(['dy', 'w'], body),
      [dy, w],
      [a.batch, a.inChannels, a.inHeight, a.inWidth],
    );
  },
);

export const conv2dBackpropFilterKernel = defineKernel(
  'Conv2dBackpropFilter',
  ({ inputs: [x, dy], attrs: a, backend }) => {
    const { outPerGroup, inPerGroup } = backOffset(a);
    const outPlane = a.outHeight * a.outWidth;
    const body = [
      unravel('i', [a.outChannels, inPerGroup, a.kernelHeight, a.kernelWidth], 'o'),
      `const g = ${idiv('o0', outPerGroup)};`,
      `const ci = g * ${inPerGroup} + o1;`,
      'let acc = 0;',
      `for (let n = 0; n < ${a.batch}; n++) {`,
      `const xBase = (n * ${a.inChannels} + ci) * ${a.inHeight * a.inWidth};`,
      `const dyBase = (n * ${a.outChannels} + o0) * ${outPlane};`,
      `for (let oh = 0; oh < ${a.outHeight}; oh++) {`,
      `const ih = oh * ${a.strideHeight} - ${a.padTop} + o2 * ${a.dilationHeight};`,
      `if (ih >= 0 && ih < ${a.inHeight}) {`,
      `for (let ow = 0; ow < ${a.outWidth}; ow++) {`,
      `const iw = ow * ${a.strideWidth} - ${a.padLeft} + o3 * ${a.dilationWidth};`,
      `if (iw >= 0 && iw < ${a.inWidth}) {`,
      `acc += x[xBase + ih * ${a.inWidth} + iw] * dy[dyBase + oh * ${a.outWidth} + ow];`,
      '}',
      '}',
      '}',
      '}',
      '}',
      'return acc;',
    ].join('\n');
    return backend.run(
      kernelSource(['x', 'dy'], body),
      [x, dy],
      [a.outChannels, inPerGroup, a.kernelHeight, a.kernelWidth],
    );
  },
);

export const convKernels: GpuKernel[] = [
  conv2dKernel,
  conv2dBackpropInputKernel,
  conv2dBackpropFilterKernel,
];
