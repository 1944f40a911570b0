/**
 * The blocked convolutions (webgpu, webgl2): four neighbouring outputs of a row per thread, so
 * each value a thread fetches serves up to four outputs (docs/kernels.md, "Blocked kernels").
 * Rows are padded to a multiple of 4 outputs and cut back (`cutColumns`). On webgpu the stride-1
 * convolutions whose rows are equally wide take their quads along the flattened plane instead
 * (`planeQuadConvolution`).
 */
import type { Conv2dAttrs, FusedActivation, TensorInfo } from '@gpunet/tensor';
import type { GpuBackend } from '../backend.js';
import {
  idiv,
  kernelSource,
  unravel,
  windowInterior,
  windowLeaves,
} from '../internal/index-math.js';

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
 * What a fused convolution (`FusedConv2d`) does to each output as it writes it: adds the bias of
 * the output's channel, then applies the activation. No extra launch and no extra pass over the
 * output: the kernel reads one bias value per thread (its outputs share a channel).
 */
export interface ConvEpilogue {
  /** `[outChannels]`, passed to the kernel as its argument `bias`. */
  bias: TensorInfo;
  activation: FusedActivation;
}

/**
 * Source lines and output expressions that apply `epilogue` to the accumulators `accs` of
 * output channel `channel` (a source expression); without one, the accumulators as they are.
 * ReLU is written as the ReLU kernel writes it (`y < 0 ? 0 : y`: NaN passes through).
 */
export function applyEpilogue(
  epilogue: ConvEpilogue | null,
  accs: readonly string[],
  channel: string,
): { lines: string[]; outs: string[] } {
  if (!epilogue) return { lines: [], outs: [...accs] };
  const lines = [`const bc = bias[${channel}];`, ...accs.map((v, k) => `const y${k} = ${v} + bc;`)];
  const outs = accs.map((_, k) =>
    epilogue.activation === 'relu' ? `(y${k} < 0 ? 0 : y${k})` : `y${k}`,
  );
  return { lines, outs };
}

/** The kernel arguments and inputs of a convolution with `epilogue` (the bias last). */
export function withBias<T>(
  epilogue: ConvEpilogue | null,
  names: string[],
  inputs: T[],
  bias: T | null,
): { names: string[]; inputs: T[] } {
  return epilogue && bias !== null
    ? { names: [...names, 'bias'], inputs: [...inputs, bias] }
    : { names, inputs };
}

/**
 * Cuts the padding columns off a `[rows, padded]` result: the `[rows, width]` tensor of `shape`
 * (a blocked kernel's rows are padded to a multiple of 4 outputs). Frees `blocked`.
 */
export function cutColumns(
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
 * (`columnMasks`), so each output sums exactly its own taps. With an `epilogue` (FusedConv2d)
 * the bias and the activation are applied in the same write.
 */
export function blockedConv2d(
  backend: GpuBackend,
  x: TensorInfo,
  w: TensorInfo,
  a: Conv2dAttrs,
  epilogue: ConvEpilogue | null = null,
) {
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
  const end = applyEpilogue(epilogue, ['a0', 'a1', 'a2', 'a3'], 'o1');
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
    ...end.lines,
    `return [${end.outs.join(', ')}];`,
  ].join('\n');
  const shape = [a.batch, a.outChannels, a.outHeight, a.outWidth];
  const args = withBias(epilogue, ['x', 'w'], [x, w], epilogue?.bias ?? null);
  const blocked = backend.run(
    kernelSource(args.names, body),
    args.inputs,
    [a.batch, a.outChannels, a.outHeight, quads * 4],
    'float32',
    { components: 4 },
  );
  return cutColumns(backend, blocked, shape, a.outWidth, quads * 4);
}

/**
 * Conv2dBackpropInput with four outputs per thread (webgpu, webgl2; stride and dilation 1):
 * dx at columns 4q..4q+3 of one input row sums dy * w over the output rows and columns whose
 * window covers them, as a convolution of dy with the flipped kernel, blocked as
 * `blockedConv2d`.
 */
export function blockedConv2dBackpropInput(
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

/**
 * Whether a stride-1 convolution (forward or data gradient) takes its quads along the
 * flattened plane (`planeQuadConv2d`, `planeQuadConv2dBackpropInput`): on webgpu (its reads are
 * bounds-checked, so a masked tap may read past a plane), stride and dilation 1, output rows as
 * wide as the input's (the flat offset of a tap is then linear along a quad that wraps to the
 * next row), at least 4 columns.
 */
export function takesPlaneQuads(backend: GpuBackend, a: Conv2dAttrs): boolean {
  return (
    backend.quadsSpanRows &&
    [a.strideHeight, a.strideWidth, a.dilationHeight, a.dilationWidth].every((v) => v === 1) &&
    a.outWidth === a.inWidth &&
    a.inWidth >= 4
  );
}

/** What differs between the forward pass and the data gradient in `planeQuadConvolution`. */
interface PlaneQuadPass {
  /** The tensor the taps read (`x` or `dy`): its name and rows. */
  source: string;
  sourceRows: number;
  /** The result's channels and rows (its rows are as wide as the source's). */
  channels: number;
  rows: number;
  /** Channels summed per output: the group's input (forward) or output channels (data gradient). */
  summed: number;
  /** Source lines defining `srcBase` and `wBase` from the image `o0` and channel `o1`. */
  bases: string[];
  /** The stride of the summed channel in the weight. */
  weightStep: number;
  /** Tap `k` of a kernel row reads the source at this column offset from the output's column. */
  column: (k: number) => number;
  /** Kernel row `kh` (a source expression) reads the source at this row offset from the output's. */
  row: (kh: string) => string;
}

/**
 * The quads along the flattened plane of a stride-1 convolution (webgpu): thread i computes
 * plane positions 4q..4q+3 of one (n, channel), which may wrap from the end of one row to the
 * start of the next. A 13 x 13 plane takes 43 quads (172 outputs, 2% padding) where quads
 * along each row take 13 x 4 (208 outputs, 23% computed for nothing): AlexNet's conv3-5. As the
 * source's rows are as wide as the output's, tap (kh, k) of output j reads the source at a
 * flat offset linear in j across the wrap, so the four outputs share their source reads as the
 * row quads do (6 reads for 12 products of a 3-wide kernel row). Each output's row and column
 * tests are its own: a mask per output and tap (the column masks hoisted out of every loop, the
 * row masks once per kernel row, a kernel row skipped when no output's row reaches the source).
 * A masked tap's read may fall outside the source (webgpu's bounds-checked reads return a value
 * inside the buffer, or 0) and its product is dropped by a select, so each output sums exactly
 * its own taps.
 */
function planeQuadConvolution(
  backend: GpuBackend,
  inputs: TensorInfo[],
  names: string[],
  a: Conv2dAttrs,
  pass: PlaneQuadPass,
  epilogue: ConvEpilogue | null,
): TensorInfo {
  const width = a.inWidth;
  const plane = pass.rows * width;
  const sourcePlane = pass.sourceRows * width;
  const quads = Math.ceil(plane / 4);
  const kw = a.kernelWidth;
  const first = Math.min(pass.column(0), pass.column(kw - 1));
  // Output j's tap k reads offset j + pass.column(k) - first from the quad's first read.
  const offset = (j: number, k: number) => j + pass.column(k) - first;
  const reads = [...new Set([0, 1, 2, 3].flatMap((j) => range(kw).map((k) => offset(j, k))))];
  const end = applyEpilogue(epilogue, ['a0', 'a1', 'a2', 'a3'], 'o1');
  const lines = [
    unravel('i', [a.batch, pass.channels, quads], 'o'),
    ...pass.bases,
    'const p0 = o2 * 4;',
    `const h0 = ${idiv('p0', width)};`,
    `const w0 = p0 - h0 * ${width};`,
    // Output j sits at row h0 + e_j, column w0 + j - e_j * width (e_j: it wrapped).
    ...[0, 1, 2, 3].flatMap((j) => [
      j === 0 ? 'const e0 = 0;' : `const e${j} = w0 + ${j} >= ${width} ? 1 : 0;`,
      `const hh${j} = h0 + e${j};`,
      `const ww${j} = w0 + ${j} - e${j} * ${width};`,
    ]),
    ...[0, 1, 2, 3].flatMap((j) =>
      range(kw).map(
        (k) =>
          `const m${j}_${k} = ww${j} + ${pass.column(k)} >= 0 && ww${j} + ${pass.column(k)} < ${width};`,
      ),
    ),
    'let a0 = 0;',
    'let a1 = 0;',
    'let a2 = 0;',
    'let a3 = 0;',
    `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
    `const dh = ${pass.row('kh')};`,
    ...[0, 1, 2, 3].map(
      (j) => `const r${j} = hh${j} + dh >= 0 && hh${j} + dh < ${pass.sourceRows};`,
    ),
    'if (r0 || r1 || r2 || r3) {',
    ...[0, 1, 2, 3].flatMap((j) => range(kw).map((k) => `const q${j}_${k} = r${j} && m${j}_${k};`)),
    `const c0 = (h0 + dh) * ${width} + w0 + ${first};`,
    `for (let c = 0; c < ${pass.summed}; c++) {`,
    `const sr = srcBase + c * ${sourcePlane} + c0;`,
    `const wr = wBase + c * ${pass.weightStep} + kh * ${kw};`,
    ...reads.map((p) => `const v${p} = ${pass.source}[sr + ${p}];`),
    ...range(kw).map((k) => `const t${k} = w[wr + ${k}];`),
    ...[0, 1, 2, 3].flatMap((j) =>
      range(kw).map((k) => `a${j} += q${j}_${k} ? v${offset(j, k)} * t${k} : 0;`),
    ),
    '}',
    '}',
    '}',
    ...end.lines,
    `return [${end.outs.join(', ')}];`,
  ];
  const args = withBias(epilogue, names, inputs, epilogue?.bias ?? null);
  const blocked = backend.run(
    kernelSource(args.names, lines.join('\n')),
    args.inputs,
    [a.batch, pass.channels, quads * 4],
    'float32',
    { components: 4 },
  );
  const shape = [a.batch, pass.channels, pass.rows, width];
  return cutColumns(backend, blocked, shape, plane, quads * 4);
}

/** 0, 1, ..., n - 1. */
function range(n: number): number[] {
  return Array.from({ length: n }, (_, k) => k);
}

/**
 * Conv2d (stride 1) with its four outputs per thread along the flattened output plane
 * (`planeQuadConvolution`; `takesPlaneQuads`), bias and activation applied in the same write.
 */
export function planeQuadConv2d(
  backend: GpuBackend,
  x: TensorInfo,
  w: TensorInfo,
  a: Conv2dAttrs,
  epilogue: ConvEpilogue | null = null,
): TensorInfo {
  const { outPerGroup, inPerGroup } = channelsPerGroup(a);
  const taps = a.kernelHeight * a.kernelWidth;
  return planeQuadConvolution(
    backend,
    [x, w],
    ['x', 'w'],
    a,
    {
      source: 'x',
      sourceRows: a.inHeight,
      channels: a.outChannels,
      rows: a.outHeight,
      summed: inPerGroup,
      bases: [
        `const g = ${idiv('o1', outPerGroup)};`,
        `const srcBase = (o0 * ${a.inChannels} + g * ${inPerGroup}) * ${a.inHeight * a.inWidth};`,
        `const wBase = o1 * ${inPerGroup * taps};`,
      ],
      weightStep: taps,
      column: (k) => k - a.padLeft,
      row: (kh) => `${kh} - ${a.padTop}`,
    },
    epilogue,
  );
}

/**
 * Conv2dBackpropInput (stride 1) with its four outputs per thread along the flattened input
 * plane (`planeQuadConvolution`; `takesPlaneQuads`): dx sums dy * w over the output rows and
 * columns whose window covers it, a convolution of dy with the flipped kernel.
 */
export function planeQuadConv2dBackpropInput(
  backend: GpuBackend,
  dy: TensorInfo,
  w: TensorInfo,
  a: Conv2dAttrs,
): TensorInfo {
  const { outPerGroup, inPerGroup } = channelsPerGroup(a);
  const taps = a.kernelHeight * a.kernelWidth;
  return planeQuadConvolution(
    backend,
    [dy, w],
    ['dy', 'w'],
    a,
    {
      source: 'dy',
      sourceRows: a.outHeight,
      channels: a.inChannels,
      rows: a.inHeight,
      summed: outPerGroup,
      bases: [
        `const g = ${idiv('o1', inPerGroup)};`,
        `const ci = o1 - g * ${inPerGroup};`,
        `const srcBase = (o0 * ${a.outChannels} + g * ${outPerGroup}) * ${a.outHeight * a.outWidth};`,
        `const wBase = (g * ${outPerGroup} * ${inPerGroup} + ci) * ${taps};`,
      ],
      weightStep: inPerGroup * taps,
      column: (k) => a.padLeft - k,
      row: (kh) => `${a.padTop} - ${kh}`,
    },
    null,
  );
}

/** Output and input channels per group. */
export function channelsPerGroup(a: Conv2dAttrs) {
  return { outPerGroup: a.outChannels / a.groups, inPerGroup: a.inChannels / a.groups };
}

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
export function blockedConv2dBackpropFilter(
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
