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
 * (`packRows`, `packedConv2d`, `packedConv2dBackpropInput`, `packedConv2dBackpropFilter`).
 * The other modes run one output per thread.
 */
import { type Conv2dAttrs, outputShape, type TensorInfo } from '@gpunet/tensor';
import type { GpuBackend } from '../backend.js';
import { defineKernel, type GpuKernel } from '../internal/define.js';
import {
  idiv,
  kernelSource,
  size,
  stridedSum,
  unravel,
  windowInterior,
  windowLeaves,
} from '../internal/index-math.js';

/**
 * Conv2d forward: each thread sums its window. The innermost loop is the longer of the group's
 * input channels and the kernel width, unrolled with literal offsets (`stridedSum`): conv2-5
 * sum 48-256 channels eight at a time; conv1 (3 channels, 11x11, no padding) sums each kernel
 * row of 11 taps as straight-line code.
 */
export const conv2dKernel = defineKernel('Conv2d', ({ inputs: [x, w], attrs: a, backend }) => {
  const quads = Math.ceil(a.outWidth / 4);
  if (
    backend.blocksOutputs &&
    a.batch * a.outChannels * a.outHeight * quads * 4 <= backend.indexLimit
  ) {
    if (takesPacked(backend, x, w, a)) return packedConv2d(backend, x, w, a);
    return blockedConv2d(backend, x, w, a);
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
  const body = [...head, ...loops, 'return acc;'].join('\n');
  return backend.run(kernelSource(['x', 'w'], body), [x, w], outShape);
});

/**
 * The distinct column offsets `j * stride + k * dilation` (j < 4 outputs, k < kernel taps) that
 * four neighbouring outputs of a row read, in ascending order: for stride 1 they overlap, so a
 * row of a 3-wide kernel reads 6 values for 4 outputs instead of 12.
 */
function quadColumns(kernel: number, stride: number, dilation: number): number[] {
  const set = new Set<number>();
  for (let j = 0; j < 4; j++) for (let k = 0; k < kernel; k++) set.add(j * stride + k * dilation);
  return [...set].sort((p, q) => p - q);
}

/**
 * Cuts the padding columns off a `[rows, padded]` result: the `[rows, width]` tensor of `shape`
 * (a blocked kernel's rows are padded to a multiple of 4 outputs). Frees `blocked`.
 */
function cutColumns(
  backend: GpuBackend,
  blocked: TensorInfo,
  shape: number[],
  width: number,
  padded: number,
): TensorInfo {
  if (padded === width) return { ...blocked, shape };
  const rows = shape.reduce((n, d) => n * d, 1) / width;
  const body = [unravel('i', [rows, width], 'o'), `return v[o0 * ${padded} + o1];`].join('\n');
  const out = backend.run(kernelSource(['v'], body), [blocked], shape);
  backend.disposeData(blocked.dataId);
  return out;
}

/**
 * One row of a blocked convolution: four neighbouring outputs `a0..a3` of a row add up
 * `kernel` taps. `input(p)` is the read of the input column at offset p from the quad's first
 * column, `weight(k)` the read of tap k, `tapColumn(j, k)` the offset that output j's tap k
 * reads, and `mask(p)` the boolean (or null) that column offset p is inside the input
 * (`columnMasks`). Each input column and each weight is read once for the four outputs.
 */
function quadRow(
  columns: readonly number[],
  kernel: number,
  input: (p: number) => string,
  weight: (k: number) => string,
  tapColumn: (j: number, k: number) => number,
  mask: ((p: number) => string) | null,
): string[] {
  const lines = columns.map((p) => `const v${p} = ${input(p)};`);
  for (let k = 0; k < kernel; k++) lines.push(`const t${k} = ${weight(k)};`);
  for (let j = 0; j < 4; j++) {
    for (let k = 0; k < kernel; k++) {
      const p = tapColumn(j, k);
      lines.push(mask ? `a${j} += ${mask(p)} ? v${p} * t${k} : 0;` : `a${j} += v${p} * t${k};`);
    }
  }
  return lines;
}

/**
 * The column tests of a blocked convolution, hoisted: one boolean per column offset, computed
 * once per thread (`const m${p} = ...`), so the inner loop tests none. An out-of-range tap's
 * product is dropped by a select (`a += m ? v * t : 0`, WGSL `select`), not multiplied by a
 * zero mask, so each output sums exactly its own taps (0 * Inf would be NaN) and no lane
 * branches. Against an `if` per tap in the inner loop (same page, alternating calls, batch 1,
 * conv2, conv3, conv5): 1.05x to 1.49x on webgpu, 0.73x to 1.46x on webgl2. Writing the loops
 * twice instead (untested for the quads inside the input) ran at 0.53x to 0.82x: SwiftShader
 * runs neighbouring quads as the lanes of one SIMD group, which then ran both copies.
 */
function columnMasks(
  columns: readonly number[],
  inRange: ((p: number) => string) | null,
): { lines: string[]; mask: ((p: number) => string) | null } {
  if (!inRange) return { lines: [], mask: null };
  return {
    lines: columns.map((p) => `const m${p} = ${inRange(p)};`),
    mask: (p) => `m${p}`,
  };
}

/**
 * Conv2d with four outputs per thread (webgpu, webgl2): thread i computes the outputs at
 * columns 4q..4q+3 of one output row, so each weight it reads serves four outputs and each
 * input value up to four (`quadColumns`). The rows are padded to a multiple of 4 columns and
 * cut back afterwards (`cutColumns`) when the width is not one (AlexNet's 55, 27 and 13). The
 * padding columns compute values nobody reads; the taps outside the input are dropped
 * (`columnMasks`), so each output sums exactly its own taps.
 */
function blockedConv2d(backend: GpuBackend, x: TensorInfo, w: TensorInfo, a: Conv2dAttrs) {
  const inPerGroup = a.inChannels / a.groups;
  const outPerGroup = a.outChannels / a.groups;
  const plane = a.inHeight * a.inWidth;
  const taps = a.kernelHeight * a.kernelWidth;
  const quads = Math.ceil(a.outWidth / 4);
  const sw = a.strideWidth;
  const dw = a.dilationWidth;
  const columns = quadColumns(a.kernelWidth, sw, dw);
  // Only the outputs that exist need their taps checked: a padding column's window may run
  // past the row, which it reads from the next row (or a clamped index) and nobody reads.
  const checked = windowLeaves(a, 'w');
  const masks = columnMasks(
    columns,
    checked ? (p) => `w0 + ${p} >= 0 && w0 + ${p} < ${a.inWidth}` : null,
  );
  const body = [
    unravel('i', [a.batch, a.outChannels, a.outHeight, quads], 'o'),
    `const g = ${idiv('o1', outPerGroup)};`,
    `const xBase = (o0 * ${a.inChannels} + g * ${inPerGroup}) * ${plane};`,
    `const wBase = o1 * ${inPerGroup * taps};`,
    `const h0 = o2 * ${a.strideHeight} - ${a.padTop};`,
    `const w0 = o3 * ${4 * sw} - ${a.padLeft};`,
    'let a0 = 0;',
    'let a1 = 0;',
    'let a2 = 0;',
    'let a3 = 0;',
    ...masks.lines,
    `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
    `const ih = h0 + kh * ${a.dilationHeight};`,
    `if (ih >= 0 && ih < ${a.inHeight}) {`,
    `for (let c = 0; c < ${inPerGroup}; c++) {`,
    `const xr = xBase + c * ${plane} + ih * ${a.inWidth} + w0;`,
    `const wr = wBase + c * ${taps} + kh * ${a.kernelWidth};`,
    ...quadRow(
      columns,
      a.kernelWidth,
      // Only the first row of the first channel can read below index 0 (left padding): such a
      // read goes to the mirrored index instead, inside the input and unused.
      (p) => (p < a.padLeft ? `x[Math.abs(xr + ${p})]` : `x[xr + ${p}]`),
      (k) => `w[wr + ${k}]`,
      (j, k) => j * sw + k * dw,
      masks.mask,
    ),
    '}',
    '}',
    '}',
    'return [a0, a1, a2, a3];',
  ].join('\n');
  const shape = [a.batch, a.outChannels, a.outHeight, a.outWidth];
  const blocked = backend.run(
    kernelSource(['x', 'w'], body),
    [x, w],
    [a.batch, a.outChannels, a.outHeight, quads * 4],
    'float32',
    { components: 4 },
  );
  return cutColumns(backend, blocked, shape, a.outWidth, quads * 4);
}

/**
 * Whether `packedConv2d` takes a convolution: on webgl2 (the GL mode whose kernels take
 * `ArrayTexture(4)` arguments; gpu.js's webgpu mode does not), at stride and dilation 1 with a
 * kernel at most 5 wide (a quad's columns then lie in two texels: conv2-5), with x and w each
 * in one texture and the packed copy and the output within the index limit.
 */
function takesPacked(backend: GpuBackend, x: TensorInfo, w: TensorInfo, a: Conv2dAttrs): boolean {
  const quads = Math.ceil(a.outWidth / 4);
  return (
    backend.mode === 'webgl2' &&
    backend.blocksOutputs &&
    [a.strideHeight, a.strideWidth, a.dilationHeight, a.dilationWidth].every((k) => k === 1) &&
    a.kernelWidth <= 5 &&
    backend.bufferOf(x) !== null &&
    backend.bufferOf(w) !== null &&
    packedWeightSize(a) <= backend.indexLimit &&
    a.batch * a.inChannels * a.inHeight * (quads + 1) * 4 <= backend.indexLimit &&
    a.batch * a.outChannels * a.outHeight * quads * 4 <= backend.indexLimit
  );
}

/** Floats in the packed weight: its kernel rows, 4 taps per texel. */
function packedWeightSize(a: Conv2dAttrs): number {
  return (
    (a.outChannels * a.inChannels * a.kernelHeight * Math.ceil(a.kernelWidth / 4) * 4) / a.groups
  );
}

/**
 * Conv2d on webgl2 from a packed copy of x: each row of x is stored left-padded by `padLeft`
 * zeros (and right-padded to whole texels) as RGBA texels of four consecutive columns, so that
 * the columns 4q..4q+7 a quad of outputs reads (`blockedConv2d`, stride 1, kernel <= 5) are two
 * texel fetches, where the flat layout takes one fetch per column (`getMemoryOptimized32`: a
 * texel fetched for one of its four floats). The padding is zeros, so no column is tested: a tap
 * in the padding adds 0 * w, as PyTorch's zero padding does (an infinite weight there gives NaN
 * where the one-output kernel skips the tap). One launch packs x (`ArrayTexture(4)`, gpu.js
 * reads `v = p[texel]` as a vec4), one packs w's kernel rows (4 taps per texel, so a row of 3
 * or 5 taps is one or two fetches), one convolves; the packed copies are freed after.
 */
function packedConv2d(backend: GpuBackend, x: TensorInfo, w: TensorInfo, a: Conv2dAttrs) {
  const inPerGroup = a.inChannels / a.groups;
  const outPerGroup = a.outChannels / a.groups;
  const quads = Math.ceil(a.outWidth / 4);
  const texels = quads + 1; // per row: the last quad reads texels quads - 1 and quads
  const rows = a.batch * a.inChannels * a.inHeight;
  const packed = packRows(backend, x, rows, a.inWidth, a.padLeft, texels);
  const wRows = a.outChannels * inPerGroup * a.kernelHeight;
  const wTexels = Math.ceil(a.kernelWidth / 4);
  const wp = packRows(backend, w, wRows, a.kernelWidth, 0, wTexels);
  const conv = [
    unravel('i', [a.batch, a.outChannels, a.outHeight, quads], 'o'),
    `const g = ${idiv('o1', outPerGroup)};`,
    `const rowBase = (o0 * ${a.inChannels} + g * ${inPerGroup}) * ${a.inHeight};`,
    `const h0 = o2 - ${a.padTop};`,
    'let a0 = 0;',
    'let a1 = 0;',
    'let a2 = 0;',
    'let a3 = 0;',
    `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
    `const ih = h0 + kh;`,
    `if (ih >= 0 && ih < ${a.inHeight}) {`,
    `for (let c = 0; c < ${inPerGroup}; c++) {`,
    `const t = (rowBase + c * ${a.inHeight} + ih) * ${texels} + o3;`,
    'const lo = xp[t];',
    'const hi = xp[t + 1];',
    `const wr = ((o1 * ${inPerGroup} + c) * ${a.kernelHeight} + kh) * ${wTexels};`,
    ...unpackEight(),
    ...packedTaps(a.kernelWidth),
    ...[0, 1, 2, 3].flatMap((j) =>
      Array.from({ length: a.kernelWidth }, (_, k) => `a${j} += v${j + k} * t${k};`),
    ),
    '}',
    '}',
    '}',
    'return [a0, a1, a2, a3];',
  ].join('\n');
  const paddedShape = [a.batch, a.outChannels, a.outHeight, quads * 4];
  const out = backend.launch(
    kernelSource(['xp', 'wp'], conv),
    [packed, wp],
    [rows * texels * 4, wRows * wTexels * 4],
    size(paddedShape),
    false,
    4,
  );
  backend.free(packed);
  backend.free(wp);
  const blocked = backend.adoptResult(out, paddedShape);
  return cutColumns(
    backend,
    blocked,
    [a.batch, a.outChannels, a.outHeight, a.outWidth],
    a.outWidth,
    quads * 4,
  );
}

/**
 * Packs the `rows` rows of `width` floats of `t` as RGBA texels, `texels` per row: texel q of a
 * row holds its columns 4q - padLeft .. 4q - padLeft + 3, zeros outside the row. The result is
 * gpu.js's `ArrayTexture(4)` (no tensor; free it with `backend.free`).
 */
function packRows(
  backend: GpuBackend,
  t: TensorInfo,
  rows: number,
  width: number,
  padLeft: number,
  texels: number,
) {
  const source = backend.bufferOf(t);
  if (!source) throw new Error('internal: packing a tensor stored in pieces');
  const body = [
    unravel('i', [rows, texels], 'o'),
    `const r = o0 * ${width};`,
    `const c0 = o1 * 4 - ${padLeft};`,
    ...[0, 1, 2, 3].map(
      (j) =>
        `const p${j} = c0 + ${j} >= 0 && c0 + ${j} < ${width} ? x[Math.abs(r + c0 + ${j})] : 0;`,
    ),
    'return [p0, p1, p2, p3];',
  ].join('\n');
  return backend.launch(
    kernelSource(['x'], body),
    [source.value],
    [source.length],
    rows * texels * 4,
    false,
    4,
    true,
  );
}

/**
 * The locals `t0..t${kernel - 1}`: the taps of one packed weight row (`packRows`, 4 taps per
 * texel) from its texels `wp[wr]`, `wp[wr + 1]`.
 */
function packedTaps(kernel: number): string[] {
  const texels = Math.ceil(kernel / 4);
  return [
    ...Array.from({ length: texels }, (_, q) => `const wq${q} = wp[wr + ${q}];`),
    ...Array.from({ length: kernel }, (_, k) => `const t${k} = wq${k >> 2}[${k & 3}];`),
  ];
}

/** The eight columns of two packed texels `lo` and `hi` as locals `v0..v7`. */
function unpackEight(): string[] {
  return Array.from({ length: 8 }, (_, p) => `const v${p} = ${p < 4 ? 'lo' : 'hi'}[${p % 4}];`);
}

/**
 * Conv2dBackpropInput on webgl2 from a packed copy of dy (stride and dilation 1, kernel <= 5),
 * as `packedConv2d`: a convolution of dy, left-padded by kernelWidth - 1 - padLeft zeros, with
 * the flipped kernel (`blockedConv2dBackpropInput`'s columns), two texel fetches per row.
 */
function packedConv2dBackpropInput(
  backend: GpuBackend,
  dy: TensorInfo,
  w: TensorInfo,
  a: Conv2dAttrs,
) {
  const { outPerGroup, inPerGroup } = channelsPerGroup(a);
  const kw = a.kernelWidth;
  const quads = Math.ceil(a.inWidth / 4);
  const texels = quads + 1;
  const rows = a.batch * a.outChannels * a.outHeight;
  const packed = packRows(backend, dy, rows, a.outWidth, kw - 1 - a.padLeft, texels);
  const wRows = a.outChannels * inPerGroup * a.kernelHeight;
  const wTexels = Math.ceil(kw / 4);
  const wp = packRows(backend, w, wRows, kw, 0, wTexels);
  const body = [
    unravel('i', [a.batch, a.inChannels, a.inHeight, quads], 'o'),
    `const g = ${idiv('o1', inPerGroup)};`,
    `const c = o1 - g * ${inPerGroup};`,
    `const rowBase = (o0 * ${a.outChannels} + g * ${outPerGroup}) * ${a.outHeight};`,
    'let a0 = 0;',
    'let a1 = 0;',
    'let a2 = 0;',
    'let a3 = 0;',
    `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
    `const oh = o2 + ${a.padTop} - kh;`,
    `if (oh >= 0 && oh < ${a.outHeight}) {`,
    `for (let co = 0; co < ${outPerGroup}; co++) {`,
    `const t = (rowBase + co * ${a.outHeight} + oh) * ${texels} + o3;`,
    'const lo = dp[t];',
    'const hi = dp[t + 1];',
    `const wr = (((g * ${outPerGroup} + co) * ${inPerGroup} + c) * ${a.kernelHeight} + kh) * ${wTexels};`,
    ...unpackEight(),
    ...packedTaps(kw),
    ...[0, 1, 2, 3].flatMap((j) =>
      Array.from({ length: kw }, (_, k) => `a${j} += v${j + kw - 1 - k} * t${k};`),
    ),
    '}',
    '}',
    '}',
    'return [a0, a1, a2, a3];',
  ].join('\n');
  const paddedShape = [a.batch, a.inChannels, a.inHeight, quads * 4];
  const out = backend.launch(
    kernelSource(['dp', 'wp'], body),
    [packed, wp],
    [rows * texels * 4, wRows * wTexels * 4],
    size(paddedShape),
    false,
    4,
  );
  backend.free(packed);
  backend.free(wp);
  const blocked = backend.adoptResult(out, paddedShape);
  return cutColumns(
    backend,
    blocked,
    [a.batch, a.inChannels, a.inHeight, a.inWidth],
    a.inWidth,
    quads * 4,
  );
}

/**
 * Conv2dBackpropInput with four outputs per thread (webgpu, webgl2; stride and dilation 1):
 * dx at columns 4q..4q+3 of one input row sums dy * w over the output rows and columns whose
 * window covers them, as a convolution of dy with the flipped kernel, blocked as
 * `blockedConv2d`.
 */
function blockedConv2dBackpropInput(
  backend: GpuBackend,
  dy: TensorInfo,
  w: TensorInfo,
  a: Conv2dAttrs,
) {
  const { outPerGroup, inPerGroup } = channelsPerGroup(a);
  const outPlane = a.outHeight * a.outWidth;
  const taps = a.kernelHeight * a.kernelWidth;
  const quads = Math.ceil(a.inWidth / 4);
  const kw = a.kernelWidth;
  // Input column iw + j reads dy column iw + j + padLeft - k for tap k: offset p = j + (kw - 1 - k)
  // from the quad's first dy column c0 = 4q + padLeft - (kw - 1).
  const columns = quadColumns(kw, 1, 1);
  const masks = columnMasks(columns, (p) => `c0 + ${p} >= 0 && c0 + ${p} < ${a.outWidth}`);
  const body = [
    unravel('i', [a.batch, a.inChannels, a.inHeight, quads], 'o'),
    `const g = ${idiv('o1', inPerGroup)};`,
    `const c = o1 - g * ${inPerGroup};`,
    `const dyBase = (o0 * ${a.outChannels} + g * ${outPerGroup}) * ${outPlane};`,
    `const wBase = (g * ${outPerGroup} * ${inPerGroup} + c) * ${taps};`,
    `const c0 = o3 * 4 + ${a.padLeft - (kw - 1)};`,
    'let a0 = 0;',
    'let a1 = 0;',
    'let a2 = 0;',
    'let a3 = 0;',
    ...masks.lines,
    `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
    `const oh = o2 + ${a.padTop} - kh;`,
    `if (oh >= 0 && oh < ${a.outHeight}) {`,
    `for (let co = 0; co < ${outPerGroup}; co++) {`,
    `const dr = dyBase + co * ${outPlane} + oh * ${a.outWidth} + c0;`,
    `const wr = wBase + co * ${inPerGroup * taps} + kh * ${kw};`,
    ...quadRow(
      columns,
      kw,
      (p) => (p < kw - 1 - a.padLeft ? `dy[Math.abs(dr + ${p})]` : `dy[dr + ${p}]`),
      (k) => `w[wr + ${k}]`,
      (j, k) => j + kw - 1 - k,
      masks.mask,
    ),
    '}',
    '}',
    '}',
    'return [a0, a1, a2, a3];',
  ].join('\n');
  const shape = [a.batch, a.inChannels, a.inHeight, a.inWidth];
  const blocked = backend.run(
    kernelSource(['dy', 'w'], body),
    [dy, w],
    [a.batch, a.inChannels, a.inHeight, quads * 4],
    'float32',
    { components: 4 },
  );
  return cutColumns(backend, blocked, shape, a.inWidth, quads * 4);
}

/** Output and input channels per group. */
function channelsPerGroup(a: Conv2dAttrs) {
  return { outPerGroup: a.outChannels / a.groups, inPerGroup: a.inChannels / a.groups };
}

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
        backend.mode === 'webgl2' &&
        a.kernelWidth <= 5 &&
        a.kernelWidth - 1 >= a.padLeft &&
        backend.bufferOf(dy) !== null &&
        backend.bufferOf(w) !== null &&
        packedWeightSize(a) <= backend.indexLimit &&
        a.batch * a.outChannels * a.outHeight * texels * 4 <= backend.indexLimit
      )
        return packedConv2dBackpropInput(backend, dy, w, a);
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
 * Conv2dBackpropFilter on webgl2 from packed copies of x and dy (stride and dilation 1), blocked
 * as `blockedConv2dBackpropFilter` (taps kw = 4q..4q+3 per thread). x's rows are packed
 * left-padded by `padLeft` zeros, so output column ow's tap kw reads padded column ow + kw; dy's
 * rows are packed as they are. Four output columns 4m..4m+3 are then one dy texel, and the x
 * columns their four taps read, 4m + 4q .. 4m + 4q + 6, are x texels m + q and m + q + 1: three
 * fetches for 16 multiply-adds, and no column test (the padding is stored zeros: a tap in it
 * adds 0 * dy, as PyTorch's zero padding does).
 */
function packedConv2dBackpropFilter(
  backend: GpuBackend,
  x: TensorInfo,
  dy: TensorInfo,
  a: Conv2dAttrs,
) {
  const { outPerGroup, inPerGroup } = channelsPerGroup(a);
  const quads = Math.ceil(a.kernelWidth / 4);
  const dyTexels = Math.ceil(a.outWidth / 4);
  const xTexels = dyTexels + quads;
  const xRows = a.batch * a.inChannels * a.inHeight;
  const dyRows = a.batch * a.outChannels * a.outHeight;
  const xp = packRows(backend, x, xRows, a.inWidth, a.padLeft, xTexels);
  const dp = packRows(backend, dy, dyRows, a.outWidth, 0, dyTexels);
  const body = [
    unravel('i', [a.outChannels, inPerGroup, a.kernelHeight, quads], 'o'),
    `const g = ${idiv('o0', outPerGroup)};`,
    `const ci = g * ${inPerGroup} + o1;`,
    'let a0 = 0;',
    'let a1 = 0;',
    'let a2 = 0;',
    'let a3 = 0;',
    `for (let n = 0; n < ${a.batch}; n++) {`,
    `const xPlane = (n * ${a.inChannels} + ci) * ${a.inHeight};`,
    `const dPlane = (n * ${a.outChannels} + o0) * ${a.outHeight};`,
    `for (let oh = 0; oh < ${a.outHeight}; oh++) {`,
    `const ih = oh - ${a.padTop} + o2;`,
    `if (ih >= 0 && ih < ${a.inHeight}) {`,
    `const xRow = (xPlane + ih) * ${xTexels} + o3;`,
    `const dRow = (dPlane + oh) * ${dyTexels};`,
    `for (let m = 0; m < ${dyTexels}; m++) {`,
    'const d = dp[dRow + m];',
    'const lo = xp[xRow + m];',
    'const hi = xp[xRow + m + 1];',
    ...unpackEight(),
    ...[0, 1, 2, 3].flatMap((j) => [0, 1, 2, 3].map((k) => `a${j} += v${k + j} * d[${k}];`)),
    '}',
    '}',
    '}',
    '}',
    'return [a0, a1, a2, a3];',
  ].join('\n');
  const paddedShape = [a.outChannels, inPerGroup, a.kernelHeight, quads * 4];
  const out = backend.launch(
    kernelSource(['xp', 'dp'], body),
    [xp, dp],
    [xRows * xTexels * 4, dyRows * dyTexels * 4],
    size(paddedShape),
    false,
    4,
  );
  backend.free(xp);
  backend.free(dp);
  const blocked = backend.adoptResult(out, paddedShape);
  return cutColumns(
    backend,
    blocked,
    [a.outChannels, inPerGroup, a.kernelHeight, a.kernelWidth],
    a.kernelWidth,
    quads * 4,
  );
}

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
        backend.mode === 'webgl2' &&
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

/**
 * Conv2dBackpropFilter with four outputs per thread (webgpu, webgl2): thread i computes the taps
 * kw = 4q..4q+3 of one (co, c, kh), so each dy value it reads serves four outputs, and at
 * stride 1 the x values of neighbouring taps overlap (a sliding window: 8 output columns read
 * 11 x values and 8 dy values for 32 multiply-adds, where the one-output kernel reads 64). The
 * kernel rows are padded to a multiple of 4 taps (AlexNet's 3, 5 and 11 to 4, 8 and 12) and cut
 * back (`cutColumns`). A padding tap's reads may run past the row (into the next row, or clamped
 * inside the buffer) and its sum is thrown away; the real taps sum exactly their own products,
 * the border columns (`windowInterior`) testing each tap as the one-output kernel does.
 */
function blockedConv2dBackpropFilter(
  backend: GpuBackend,
  x: TensorInfo,
  dy: TensorInfo,
  a: Conv2dAttrs,
) {
  const { outPerGroup, inPerGroup } = channelsPerGroup(a);
  const outPlane = a.outHeight * a.outWidth;
  const quads = Math.ceil(a.kernelWidth / 4);
  const sw = a.strideWidth;
  const dw = a.dilationWidth;
  const rows = windowInterior(a, 'h');
  const cols = windowInterior(a, 'w');
  // Output columns per pass: 8 at stride 1 (11 x values live); a strided row shares no x value
  // between columns, and 8 of them (32 x values live) ran at 0.73x the one-output kernel on
  // webgpu (conv1), where 4 ran at 1.37x.
  const chunk = sw === 1 ? 8 : 4;
  /** Output columns [from, from + count) at literal offsets from `xAt` and `dAt`. */
  const columns = (xAt: string, dAt: string, count: number, tag: string) => {
    const lines: string[] = [];
    const offsets = new Set<number>();
    for (let m = 0; m < count; m++) {
      lines.push(`const d${m}${tag} = dy[${dAt} + ${m}];`);
      for (let j = 0; j < 4; j++) offsets.add(m * sw + j * dw);
    }
    for (const p of [...offsets].sort((u, v) => u - v))
      lines.push(`const v${p}${tag} = x[${xAt} + ${p}];`);
    for (let j = 0; j < 4; j++)
      for (let m = 0; m < count; m++)
        lines.push(`a${j} += v${m * sw + j * dw}${tag} * d${m}${tag};`);
    return lines;
  };
  /** The sum over one output row `oh`; `checked` rows test that the row is inside the input. */
  const row = (oh: string, name: string, checked: boolean) => {
    const inner = cols.hi - cols.lo;
    const whole = inner - (inner % chunk);
    const sum = [
      `const xr${name} = xBase + ih${name} * ${a.inWidth} - ${a.padLeft} + k0;`,
      `const dr${name} = dyBase + ${oh} * ${a.outWidth};`,
    ];
    if (whole > 0) {
      sum.push(
        `for (let c${name} = 0; c${name} < ${whole}; c${name} += ${chunk}) {`,
        `const xc${name} = xr${name} + (${cols.lo} + c${name}) * ${sw};`,
        `const dc${name} = dr${name} + ${cols.lo} + c${name};`,
        ...columns(`xc${name}`, `dc${name}`, chunk, `C${name}`),
        '}',
      );
    }
    if (inner > whole) {
      const from = cols.lo + whole;
      sum.push(
        ...columns(`xr${name} + ${from * sw}`, `dr${name} + ${from}`, inner - whole, `T${name}`),
      );
    }
    for (let ow = 0; ow < a.outWidth; ow++) {
      if (ow >= cols.lo && ow < cols.hi) continue;
      sum.push(`const e${ow}${name} = dy[dr${name} + ${ow}];`);
      for (let j = 0; j < 4; j++) {
        const at = ow * sw + j * dw;
        const column = `k0 + ${at - a.padLeft}`;
        sum.push(
          `if (${column} >= 0 && ${column} < ${a.inWidth}) {`,
          `a${j} += x[xr${name} + ${at}] * e${ow}${name};`,
          '}',
        );
      }
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
    unravel('i', [a.outChannels, inPerGroup, a.kernelHeight, quads], 'o'),
    `const g = ${idiv('o0', outPerGroup)};`,
    `const ci = g * ${inPerGroup} + o1;`,
    `const k0 = o3 * ${4 * dw};`,
    'let a0 = 0;',
    'let a1 = 0;',
    'let a2 = 0;',
    'let a3 = 0;',
    `for (let n = 0; n < ${a.batch}; n++) {`,
    `const xBase = (n * ${a.inChannels} + ci) * ${a.inHeight * a.inWidth};`,
    `const dyBase = (n * ${a.outChannels} + o0) * ${outPlane};`,
    ...rowLoop(0, rows.lo, 'Top', true),
    ...rowLoop(rows.lo, rows.hi, 'In', false),
    ...rowLoop(rows.hi, a.outHeight, 'Bottom', true),
    '}',
    'return [a0, a1, a2, a3];',
  ].join('\n');
  const shape = [a.outChannels, inPerGroup, a.kernelHeight, a.kernelWidth];
  const blocked = backend.run(
    kernelSource(['x', 'dy'], body),
    [x, dy],
    [a.outChannels, inPerGroup, a.kernelHeight, quads * 4],
    'float32',
    { components: 4 },
  );
  return cutColumns(backend, blocked, shape, a.kernelWidth, quads * 4);
}

export const convKernels: GpuKernel[] = [
  conv2dKernel,
  conv2dBackpropInputKernel,
  conv2dBackpropFilterKernel,
];
