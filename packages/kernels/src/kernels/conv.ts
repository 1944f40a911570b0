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
 * the compiled kernel is cached per layer geometry. On webgpu and webgl2, Conv2d, the stride-1
 * data gradient and the filter gradient compute four neighbouring outputs of a row per thread
 * (`blockedConv2d`, `blockedConv2dBackpropInput`, `blockedConv2dBackpropFilter`); on webgl2
 * the stride-1 ones read their inputs from packed copies, four floats per texel fetch
 * (`packRows`, `packedConv2d`, `packedConv2dBackpropInput`, `packedConv2dBackpropFilter`); on
 * webgpu the stride-1 Conv2d and data gradient take their four outputs along the flattened plane
 * where rows are equally wide (`planeQuadConv2d`, `planeQuadConv2dBackpropInput`).
 * The other modes run one output per thread.
 */
import { type Conv2dAttrs, outputShape, type TensorInfo } from '@gpunet/tensor';
import type { GpuBackend } from '../backend.js';
import { defineKernel, type GpuKernel } from '../internal/define.js';
import {
  idiv,
  kernelSource,
  stridedSum,
  unravel,
  windowInterior,
  windowLeaves,
} from '../internal/index-math.js';
import {
  applyEpilogue,
  blockedConv2d,
  blockedConv2dBackpropFilter,
  blockedConv2dBackpropInput,
  type ConvEpilogue,
  channelsPerGroup,
  planeQuadConv2d,
  planeQuadConv2dBackpropInput,
  takesPlaneQuads,
  withBias,
} from './conv-blocked.js';
import {
  packedConv2d,
  packedConv2dBackpropFilter,
  packedConv2dBackpropInput,
  packedWeightSize,
  takesPacked,
} from './conv-packed.js';

/**
 * Conv2d forward: each thread sums its window. The innermost loop is the longer of the group's
 * input channels and the kernel width, unrolled with literal offsets (`stridedSum`): conv2-5
 * sum 48-256 channels eight at a time; conv1 (3 channels, 11x11, no padding) sums each kernel
 * row of 11 taps as straight-line code. With an `epilogue` (FusedConv2d) every path (flat,
 * blocked, packed) adds the bias and applies the activation as it writes its outputs.
 */
function conv2dForward(
  backend: GpuBackend,
  x: TensorInfo,
  w: TensorInfo,
  a: Conv2dAttrs,
  epilogue: ConvEpilogue | null,
): TensorInfo {
  const quads = Math.ceil(a.outWidth / 4);
  if (
    backend.blocksOutputs &&
    a.batch * a.outChannels * a.outHeight * quads * 4 <= backend.indexLimit
  ) {
    if (takesPacked(backend, x, w, a) && (!epilogue || backend.bufferOf(epilogue.bias) !== null))
      return packedConv2d(backend, x, w, a, epilogue);
    if (takesPlaneQuads(backend, a)) return planeQuadConv2d(backend, x, w, a, epilogue);
    return blockedConv2d(backend, x, w, a, epilogue);
  }
  const inPerGroup = a.inChannels / a.groups;
  const outPerGroup = a.outChannels / a.groups;
  const plane = a.inHeight * a.inWidth;
  const taps = a.kernelHeight * a.kernelWidth;
  const rowCheck = `if (ih >= 0 && ih < ${a.inHeight}) {`;
  const outShape = outputShape('Conv2d', [x.shape, w.shape], a);
  const head = [
    unravel('i', outShape, 'o'),
    `const g = ${idiv('o1', outPerGroup)};`,
    `const xBase = (o0 * ${a.inChannels} + g * ${inPerGroup}) * ${plane};`,
    `const wBase = o1 * ${inPerGroup * taps};`,
    `const h0 = o2 * ${a.strideHeight} - ${a.padTop};`,
    `const w0 = o3 * ${a.strideWidth} - ${a.padLeft};`,
    'let acc = 0;',
  ];
  const channelsInner = inPerGroup >= a.kernelWidth || windowLeaves(a, 'w');
  const loops = channelsInner
    ? [
        `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
        `const ih = h0 + kh * ${a.dilationHeight};`,
        rowCheck,
        `for (let kw = 0; kw < ${a.kernelWidth}; kw++) {`,
        `const iw = w0 + kw * ${a.dilationWidth};`,
        `if (iw >= 0 && iw < ${a.inWidth}) {`,
        `const xi = xBase + ih * ${a.inWidth} + iw;`,
        `const wi = wBase + kh * ${a.kernelWidth} + kw;`,
        ...stridedSum(
          'acc',
          inPerGroup,
          { name: 'x', base: 'xi', step: plane },
          { name: 'w', base: 'wi', step: taps },
          'c',
        ),
        '}',
        '}',
        '}',
        '}',
      ]
    : [
        // Every tap of a row is inside the input along the width: the row's taps are one sum.
        `for (let c = 0; c < ${inPerGroup}; c++) {`,
        `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
        `const ih = h0 + kh * ${a.dilationHeight};`,
        rowCheck,
        `const xr = xBase + c * ${plane} + ih * ${a.inWidth} + w0;`,
        `const wr = wBase + c * ${taps} + kh * ${a.kernelWidth};`,
        ...stridedSum(
          'acc',
          a.kernelWidth,
          { name: 'x', base: 'xr', step: a.dilationWidth },
          { name: 'w', base: 'wr', step: 1 },
          'kw',
          16,
        ),
        '}',
        '}',
        '}',
      ];
  const end = applyEpilogue(epilogue, ['acc'], 'o1');
  const body = [...head, ...loops, ...end.lines, `return ${end.outs[0]};`].join('\n');
  const args = withBias(epilogue, ['x', 'w'], [x, w], epilogue?.bias ?? null);
  return backend.run(kernelSource(args.names, body), args.inputs, outShape);
}

export const conv2dKernel = defineKernel('Conv2d', ({ inputs: [x, w], attrs, backend }) =>
  conv2dForward(backend, x, w, attrs, null),
);

/**
 * FusedConv2d: activation(conv2d(x, w) + bias) in the convolution's own launch (TF.js's
 * `fused.conv2d`): the bias and the ReLU are applied as each output is written, with no
 * elementwise pass over the output.
 */
export const fusedConv2dKernel = defineKernel(
  'FusedConv2d',
  ({ inputs: [x, w, bias], attrs, backend }) =>
    conv2dForward(backend, x, w, attrs, { bias, activation: attrs.activation }),
);

/**
 * Source lines that loop over the output positions `o${axis}` (oh or ow) whose window reaches
 * input coordinate `coord` along one axis, binding the output index and the tap `k${axis}`
 * (kh or kw), and run `inner` for each.
 *
 * With dilation 1 the loop visits only the taps that line up with the stride: the output
 * positions are ohTop, ohTop - 1, ... with ohTop = floor((coord + pad) / stride), at most
 * ceil(kernel / stride) of them (3 instead of 11 for AlexNet's conv1). With dilation the plain
 * loop over every tap checks divisibility.
 */
function tapsReaching(a: Conv2dAttrs, axis: 'h' | 'w', coord: string, inner: string[]): string[] {
  const isH = axis === 'h';
  const kernel = isH ? a.kernelHeight : a.kernelWidth;
  const stride = isH ? a.strideHeight : a.strideWidth;
  const pad = isH ? a.padTop : a.padLeft;
  const dilation = isH ? a.dilationHeight : a.dilationWidth;
  const outSize = isH ? a.outHeight : a.outWidth;
  const o = `o${axis}`;
  const k = `k${axis}`;
  if (dilation === 1) {
    return [
      `const ${o}Top = ${idiv(`${coord} + ${pad}`, stride)};`,
      `for (let t${axis} = 0; t${axis} < ${Math.ceil(kernel / stride)}; t${axis}++) {`,
      `const ${o} = ${o}Top - t${axis};`,
      `const ${k} = ${coord} + ${pad} - ${o} * ${stride};`,
      `if (${o} >= 0 && ${o} < ${outSize} && ${k} < ${kernel}) {`,
      ...inner,
      '}',
      '}',
    ];
  }
  return [
    `for (let ${k} = 0; ${k} < ${kernel}; ${k}++) {`,
    `const d${axis} = ${coord} + ${pad} - ${k} * ${dilation};`,
    `if (d${axis} >= 0) {`,
    `const ${o} = ${idiv(`d${axis}`, stride)};`,
    `if (${o} * ${stride} === d${axis} && ${o} < ${outSize}) {`,
    ...inner,
    '}',
    '}',
    '}',
  ];
}

export const conv2dBackpropInputKernel = defineKernel(
  'Conv2dBackpropInput',
  ({ inputs: [dy, w], attrs: a, backend }) => {
    const unit = (k: number) => k === 1;
    const padded = a.batch * a.inChannels * a.inHeight * Math.ceil(a.inWidth / 4) * 4;
    if (
      backend.blocksOutputs &&
      padded <= backend.indexLimit &&
      [a.strideHeight, a.strideWidth, a.dilationHeight, a.dilationWidth].every(unit)
    ) {
      const texels = Math.ceil(a.inWidth / 4) + 1;
      if (
        backend.packsInputs &&
        a.kernelWidth <= 5 &&
        a.kernelWidth - 1 >= a.padLeft &&
        backend.bufferOf(dy) !== null &&
        backend.bufferOf(w) !== null &&
        packedWeightSize(a) <= backend.indexLimit &&
        a.batch * a.outChannels * a.outHeight * texels * 4 <= backend.indexLimit
      )
        return packedConv2dBackpropInput(backend, dy, w, a);
      if (takesPlaneQuads(backend, a)) return planeQuadConv2dBackpropInput(backend, dy, w, a);
      return blockedConv2dBackpropInput(backend, dy, w, a);
    }
    const { outPerGroup, inPerGroup } = channelsPerGroup(a);
    const outPlane = a.outHeight * a.outWidth;
    const taps = a.kernelHeight * a.kernelWidth;
    const outShape = outputShape('Conv2dBackpropInput', [dy.shape, w.shape], a);
    const body = [
      unravel('i', outShape, 'o'),
      `const g = ${idiv('o1', inPerGroup)};`,
      `const c = o1 - g * ${inPerGroup};`,
      `const dyBase = (o0 * ${a.outChannels} + g * ${outPerGroup}) * ${outPlane};`,
      `const wBase = (g * ${outPerGroup} * ${inPerGroup} + c) * ${taps};`,
      'let acc = 0;',
      ...tapsReaching(a, 'h', 'o2', [
        ...tapsReaching(a, 'w', 'o3', [
          `const dyi = dyBase + oh * ${a.outWidth} + ow;`,
          `const wi = wBase + kh * ${a.kernelWidth} + kw;`,
          ...stridedSum(
            'acc',
            outPerGroup,
            { name: 'dy', base: 'dyi', step: outPlane },
            { name: 'w', base: 'wi', step: inPerGroup * taps },
            'co',
          ),
        ]),
      ]),
      'return acc;',
    ].join('\n');
    return backend.run(kernelSource(['dy', 'w'], body), [dy, w], outShape);
  },
);

/**
 * Conv2dBackpropFilter: dw[co, c, kh, kw] sums x * dy over the batch and the output positions.
 * The output rows and columns are split into the interior, whose taps are all inside the
 * input for every (kh, kw), and the border: an interior row is one unrolled sum over its
 * interior columns with no bounds check, and only the border rows and columns test their tap.
 */
export const conv2dBackpropFilterKernel = defineKernel(
  'Conv2dBackpropFilter',
  ({ inputs: [x, dy], attrs: a, backend }) => {
    const { outPerGroup, inPerGroup } = channelsPerGroup(a);
    const padded = a.outChannels * inPerGroup * a.kernelHeight * Math.ceil(a.kernelWidth / 4) * 4;
    if (backend.blocksOutputs && padded <= backend.indexLimit) {
      const texels = Math.ceil(a.outWidth / 4) + Math.ceil(a.kernelWidth / 4);
      if (
        backend.packsInputs &&
        [a.strideHeight, a.strideWidth, a.dilationHeight, a.dilationWidth].every((k) => k === 1) &&
        backend.bufferOf(x) !== null &&
        backend.bufferOf(dy) !== null &&
        a.batch * a.inChannels * a.inHeight * texels * 4 <= backend.indexLimit &&
        a.batch * a.outChannels * a.outHeight * Math.ceil(a.outWidth / 4) * 4 <= backend.indexLimit
      )
        return packedConv2dBackpropFilter(backend, x, dy, a);
      return blockedConv2dBackpropFilter(backend, x, dy, a);
    }
    const outPlane = a.outHeight * a.outWidth;
    const rows = windowInterior(a, 'h');
    const cols = windowInterior(a, 'w');
    const outShape = outputShape('Conv2dBackpropFilter', [x.shape, dy.shape], a);
    const iw = (ow: number) => `${ow * a.strideWidth - a.padLeft} + o3 * ${a.dilationWidth}`;
    /** The sum over one output row `oh`; `checked` rows test that the row is inside the input. */
    const row = (oh: string, name: string, checked: boolean) => {
      const sum = [
        `const xr${name} = xBase + ih${name} * ${a.inWidth} - ${a.padLeft} + o3 * ${a.dilationWidth};`,
        `const dr${name} = dyBase + ${oh} * ${a.outWidth};`,
        ...stridedSum(
          'acc',
          cols.hi - cols.lo,
          { name: 'x', base: `xr${name} + ${cols.lo * a.strideWidth}`, step: a.strideWidth },
          { name: 'dy', base: `dr${name} + ${cols.lo}`, step: 1 },
          `ow${name}`,
        ),
      ];
      for (let ow = 0; ow < a.outWidth; ow++) {
        if (ow >= cols.lo && ow < cols.hi) continue;
        sum.push(
          `if (${iw(ow)} >= 0 && ${iw(ow)} < ${a.inWidth}) {`,
          `acc += x[xr${name} + ${ow * a.strideWidth}] * dy[dr${name} + ${ow}];`,
          '}',
        );
      }
      const ih = `const ih${name} = ${oh} * ${a.strideHeight} - ${a.padTop} + o2 * ${a.dilationHeight};`;
      return checked
        ? [ih, `if (ih${name} >= 0 && ih${name} < ${a.inHeight}) {`, ...sum, '}']
        : [ih, ...sum];
    };
    const rowLoop = (from: number, to: number, name: string, checked: boolean) =>
      to > from
        ? [
            `for (let oh${name} = ${from}; oh${name} < ${to}; oh${name}++) {`,
            ...row(`oh${name}`, name, checked),
            '}',
          ]
        : [];
    const body = [
      unravel('i', outShape, 'o'),
      `const g = ${idiv('o0', outPerGroup)};`,
      `const ci = g * ${inPerGroup} + o1;`,
      'let acc = 0;',
      `for (let n = 0; n < ${a.batch}; n++) {`,
      `const xBase = (n * ${a.inChannels} + ci) * ${a.inHeight * a.inWidth};`,
      `const dyBase = (n * ${a.outChannels} + o0) * ${outPlane};`,
      ...rowLoop(0, rows.lo, 'Top', true),
      ...rowLoop(rows.lo, rows.hi, 'In', false),
      ...rowLoop(rows.hi, a.outHeight, 'Bottom', true),
      '}',
      'return acc;',
    ].join('\n');
    return backend.run(kernelSource(['x', 'dy'], body), [x, dy], outShape);
  },
);

export const convKernels: GpuKernel[] = [
  conv2dKernel,
  fusedConv2dKernel,
  conv2dBackpropInputKernel,
  conv2dBackpropFilterKernel,
];
