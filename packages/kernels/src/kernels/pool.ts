/**
 * Max, average and adaptive-average pooling over NCHW input, forward and backward, following
 * PyTorch (and the reference backend): the max gradient goes to the FIRST maximum of each
 * window; the average divisor counts padded cells or not, or is overridden.
 *
 * The gradients are gathers: each input cell visits the output windows that contain it
 * (an exact division of its offset by the stride) instead of scattering from each window,
 * since gpu.js threads cannot write to each other's cells.
 */
import { type AdaptivePool2dAttrs, outputShape, type Pool2dAttrs } from '@gpunet/tensor';
import { defineKernel, type GpuKernel } from '../internal/define.js';
import { idiv, kernelSource, unravel, windowLeaves } from '../internal/index-math.js';
import { literal } from './transform.js';

/** A pooling's output and input shapes, as the registry declares them (any pooling's attrs). */
const outShape = (a: AdaptivePool2dAttrs) => outputShape('AdaptiveAvgPool2d', [], a);
const inShape = (a: AdaptivePool2dAttrs) => outputShape('AdaptiveAvgPool2dGrad', [], a);

/**
 * Source declaring `${name}H`, `${name}W` (the first maximum of window (oh, ow) of plane `p`)
 * and `${name}V` (its value); `${name}H` is -1 for a window wholly in the padding.
 */
function firstMaxSource(a: Pool2dAttrs, oh: string, ow: string, name: string): string {
  return [
    `let ${name}H = -1;`,
    `let ${name}W = -1;`,
    `let ${name}V = 0;`,
    `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
    `const ih = ${oh} * ${a.strideHeight} - ${a.padTop} + kh * ${a.dilationHeight};`,
    `if (ih >= 0 && ih < ${a.inHeight}) {`,
    `for (let kw = 0; kw < ${a.kernelWidth}; kw++) {`,
    `const iw = ${ow} * ${a.strideWidth} - ${a.padLeft} + kw * ${a.dilationWidth};`,
    `if (iw >= 0 && iw < ${a.inWidth}) {`,
    `const e = x[planeBase + ih * ${a.inWidth} + iw];`,
    `if (${name}H < 0 || e > ${name}V) { ${name}H = ih; ${name}W = iw; ${name}V = e; }`,
    '}',
    '}',
    '}',
    '}',
  ].join('\n');
}

/** Source declaring `divisor`, the average-pool divisor of window (oh, ow), as in PyTorch. */
function divisorSource(a: Pool2dAttrs, oh: string, ow: string): string {
  if (a.divisorOverride !== null) return `const divisor = ${literal(a.divisorOverride)};`;
  const h0 = `(${oh} * ${a.strideHeight} - ${a.padTop})`;
  const w0 = `(${ow} * ${a.strideWidth} - ${a.padLeft})`;
  if (a.countIncludePad) {
    // The padded window clipped to the padded input.
    return [
      `const hEnd = Math.min(${h0} + ${a.kernelHeight}, ${a.inHeight + a.padTop});`,
      `const wEnd = Math.min(${w0} + ${a.kernelWidth}, ${a.inWidth + a.padLeft});`,
      `const divisor = (hEnd - ${h0}) * (wEnd - ${w0});`,
    ].join('\n');
  }
  // The taps inside the image: rows inside times columns inside.
  return [
    'let rows = 0;',
    `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
    `const ih = ${h0} + kh * ${a.dilationHeight};`,
    `if (ih >= 0 && ih < ${a.inHeight}) { rows += 1; }`,
    '}',
    'let cols = 0;',
    `for (let kw = 0; kw < ${a.kernelWidth}; kw++) {`,
    `const iw = ${w0} + kw * ${a.dilationWidth};`,
    `if (iw >= 0 && iw < ${a.inWidth}) { cols += 1; }`,
    '}',
    'const divisor = rows * cols;',
  ].join('\n');
}

/**
 * Source that loops over the output windows containing input cell (ih, iw) = (o2, o3), binding
 * `oh`, `ow` and running `inner` for each.
 */
function windowsContaining(a: Pool2dAttrs, inner: string): string {
  return [
    `for (let th = 0; th < ${a.kernelHeight}; th++) {`,
    `const dh = o2 + ${a.padTop} - th * ${a.dilationHeight};`,
    'if (dh >= 0) {',
    `const oh = ${idiv('dh', a.strideHeight)};`,
    `if (oh * ${a.strideHeight} === dh && oh < ${a.outHeight}) {`,
    `for (let tw = 0; tw < ${a.kernelWidth}; tw++) {`,
    `const dw = o3 + ${a.padLeft} - tw * ${a.dilationWidth};`,
    'if (dw >= 0) {',
    `const ow = ${idiv('dw', a.strideWidth)};`,
    `if (ow * ${a.strideWidth} === dw && ow < ${a.outWidth}) {`,
    inner,
    '}',
    '}',
    '}',
    '}',
    '}',
    '}',
  ].join('\n');
}

/**
 * Source declaring `bestV`, the first maximum of window (o2, o3) when every window lies inside
 * the input (pool1, pool2, pool5): the taps are straight-line code at literal offsets with a
 * select each, no bounds checks and no branches (`e > bestV` keeps the first of equal values,
 * as the checked loop does).
 */
function insideMaxSource(a: Pool2dAttrs): string {
  const lines = [
    `const b = planeBase + o2 * ${a.strideHeight * a.inWidth} + o3 * ${a.strideWidth};`,
    'let bestV = x[b];',
  ];
  for (let kh = 0; kh < a.kernelHeight; kh++) {
    for (let kw = 0; kw < a.kernelWidth; kw++) {
      const offset = kh * a.dilationHeight * a.inWidth + kw * a.dilationWidth;
      if (offset === 0) continue;
      lines.push(
        `const e${offset} = x[b + ${offset}];`,
        `bestV = e${offset} > bestV ? e${offset} : bestV;`,
      );
    }
  }
  return lines.join('\n');
}

export const maxPool2dKernel = defineKernel('MaxPool2d', ({ inputs: [x], attrs: a, backend }) => {
  if (!windowLeaves(a, 'h') && !windowLeaves(a, 'w')) {
    const body = [
      unravel('i', outShape(a), 'o'),
      `const planeBase = (o0 * ${a.channels} + o1) * ${a.inHeight * a.inWidth};`,
      insideMaxSource(a),
      'return bestV;',
    ].join('\n');
    return backend.run(kernelSource(['x'], body), [x], outShape(a));
  }
  const body = [
    unravel('i', outShape(a), 'o'),
    `const planeBase = (o0 * ${a.channels} + o1) * ${a.inHeight * a.inWidth};`,
    firstMaxSource(a, 'o2', 'o3', 'best'),
    `return bestH < 0 ? ${literal(Number.NEGATIVE_INFINITY)} : bestV;`,
  ].join('\n');
  return backend.run(kernelSource(['x'], body), [x], outShape(a));
});

export const maxPool2dGradKernel = defineKernel(
  'MaxPool2dGrad',
  ({ inputs: [dy, x], attrs: a, backend }) => {
    const body = [
      unravel('i', inShape(a), 'o'),
      `const planeBase = (o0 * ${a.channels} + o1) * ${a.inHeight * a.inWidth};`,
      `const dyBase = (o0 * ${a.channels} + o1) * ${a.outHeight * a.outWidth};`,
      'let acc = 0;',
      windowsContaining(
        a,
        [
          firstMaxSource(a, 'oh', 'ow', 'best'),
          `if (bestH === o2 && bestW === o3) { acc += dy[dyBase + oh * ${a.outWidth} + ow]; }`,
        ].join('\n'),
      ),
      'return acc;',
    ].join('\n');
    return backend.run(kernelSource(['dy', 'x'], body), [dy, x], inShape(a));
  },
);

export const avgPool2dKernel = defineKernel('AvgPool2d', ({ inputs: [x], attrs: a, backend }) => {
  const body = [
    unravel('i', outShape(a), 'o'),
    `const planeBase = (o0 * ${a.channels} + o1) * ${a.inHeight * a.inWidth};`,
    'let acc = 0;',
    `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
    `const ih = o2 * ${a.strideHeight} - ${a.padTop} + kh * ${a.dilationHeight};`,
    `if (ih >= 0 && ih < ${a.inHeight}) {`,
    `for (let kw = 0; kw < ${a.kernelWidth}; kw++) {`,
    `const iw = o3 * ${a.strideWidth} - ${a.padLeft} + kw * ${a.dilationWidth};`,
    `if (iw >= 0 && iw < ${a.inWidth}) { acc += x[planeBase + ih * ${a.inWidth} + iw]; }`,
    '}',
    '}',
    '}',
    divisorSource(a, 'o2', 'o3'),
    'return acc / divisor;',
  ].join('\n');
  return backend.run(kernelSource(['x'], body), [x], outShape(a));
});

export const avgPool2dGradKernel = defineKernel(
  'AvgPool2dGrad',
  ({ inputs: [dy], attrs: a, backend }) => {
    const body = [
      unravel('i', inShape(a), 'o'),
      `const dyBase = (o0 * ${a.channels} + o1) * ${a.outHeight * a.outWidth};`,
      'let acc = 0;',
      windowsContaining(
        a,
        [
          divisorSource(a, 'oh', 'ow'),
          `acc += dy[dyBase + oh * ${a.outWidth} + ow] / divisor;`,
        ].join('\n'),
      ),
      'return acc;',
    ].join('\n');
    return backend.run(kernelSource(['dy'], body), [dy], inShape(a));
  },
);

/** Source declaring the adaptive window [`${v}0`, `${v}1`) of output index `o` along one axis. */
function adaptiveWindow(o: string, inSize: number, outSize: number, v: string): string {
  return [
    `const ${v}0 = ${idiv(`${o} * ${inSize}`, outSize)};`,
    `const ${v}1 = ${idiv(`(${o} + 1) * ${inSize} + ${outSize - 1}`, outSize)};`,
  ].join('\n');
}

/** The widest adaptive window along an axis: the constant loop bound. */
function widestWindow(inSize: number, outSize: number): number {
  let widest = 0;
  for (let o = 0; o < outSize; o++) {
    widest = Math.max(
      widest,
      Math.ceil(((o + 1) * inSize) / outSize) - Math.floor((o * inSize) / outSize),
    );
  }
  return widest;
}

export const adaptiveAvgPool2dKernel = defineKernel(
  'AdaptiveAvgPool2d',
  ({ inputs: [x], attrs: a, backend }) => {
    const body = [
      unravel('i', outShape(a), 'o'),
      `const planeBase = (o0 * ${a.channels} + o1) * ${a.inHeight * a.inWidth};`,
      adaptiveWindow('o2', a.inHeight, a.outHeight, 'h'),
      adaptiveWindow('o3', a.inWidth, a.outWidth, 'w'),
      'let acc = 0;',
      `for (let kh = 0; kh < ${widestWindow(a.inHeight, a.outHeight)}; kh++) {`,
      `for (let kw = 0; kw < ${widestWindow(a.inWidth, a.outWidth)}; kw++) {`,
      `if (h0 + kh < h1 && w0 + kw < w1) { acc += x[planeBase + (h0 + kh) * ${a.inWidth} + w0 + kw]; }`,
      '}',
      '}',
      'return acc / ((h1 - h0) * (w1 - w0));',
    ].join('\n');
    return backend.run(kernelSource(['x'], body), [x], outShape(a));
  },
);

export const adaptiveAvgPool2dGradKernel = defineKernel(
  'AdaptiveAvgPool2dGrad',
  ({ inputs: [dy], attrs: a, backend }) => {
    const body = [
      unravel('i', inShape(a), 'o'),
      `const dyBase = (o0 * ${a.channels} + o1) * ${a.outHeight * a.outWidth};`,
      'let acc = 0;',
      `for (let oh = 0; oh < ${a.outHeight}; oh++) {`,
      adaptiveWindow('oh', a.inHeight, a.outHeight, 'h'),
      'if (o2 >= h0 && o2 < h1) {',
      `for (let ow = 0; ow < ${a.outWidth}; ow++) {`,
      adaptiveWindow('ow', a.inWidth, a.outWidth, 'w'),
      'if (o3 >= w0 && o3 < w1) {',
      `acc += dy[dyBase + oh * ${a.outWidth} + ow] / ((h1 - h0) * (w1 - w0));`,
      '}',
      '}',
      '}',
      '}',
      'return acc;',
    ].join('\n');
    return backend.run(kernelSource(['dy'], body), [dy], inShape(a));
  },
);

export const poolKernels: GpuKernel[] = [
  maxPool2dKernel,
  maxPool2dGradKernel,
  avgPool2dKernel,
  avgPool2dGradKernel,
  adaptiveAvgPool2dKernel,
  adaptiveAvgPool2dGradKernel,
];
