/**
 * The packed convolutions (webgl2, stride 1): the blocked kernels reading packed copies of their
 * inputs, four floats per texel fetch (gpu.js `ArrayTexture(4)` arguments; docs/kernels.md,
 * "The packed layout").
 */
import type { Conv2dAttrs, TensorInfo } from '@gpunet/tensor';
import type { GpuBackend } from '../backend.js';
import { idiv, kernelSource, size, unravel } from '../internal/index-math.js';
import {
  applyEpilogue,
  type ConvEpilogue,
  channelsPerGroup,
  cutColumns,
  withBias,
} from './conv-blocked.js';

/**
 * Whether `packedConv2d` takes a convolution: on webgl2 (the GL mode whose kernels take
 * `ArrayTexture(4)` arguments; gpu.js's webgpu mode does not), at dilation 1 with the columns a
 * quad of outputs reads (3 x stride + kernel width) in at most `MAX_QUAD_TEXELS` texels (conv1's
 * stride 4 and 11 taps: 23 columns, 6 texels; conv2-5: two), with x and w each in one texture
 * and the packed copy and the output within the index limit.
 */
export function takesPacked(
  backend: GpuBackend,
  x: TensorInfo,
  w: TensorInfo,
  a: Conv2dAttrs,
): boolean {
  return (
    backend.packsInputs &&
    backend.blocksOutputs &&
    a.dilationHeight === 1 &&
    a.dilationWidth === 1 &&
    quadTexels(a) <= MAX_QUAD_TEXELS &&
    backend.bufferOf(x) !== null &&
    backend.bufferOf(w) !== null &&
    packedWeightSize(a) <= backend.indexLimit &&
    a.batch * a.inChannels * a.inHeight * rowTexels(a) * 4 <= backend.indexLimit &&
    a.batch * a.outChannels * a.outHeight * Math.ceil(a.outWidth / 4) * 4 <= backend.indexLimit
  );
}

/** The most texels a quad of `packedConv2d` outputs reads per input row (24 columns). */
const MAX_QUAD_TEXELS = 6;

/** Texels a quad of outputs reads per input row: columns 4q x stride .. + 3 x stride + kernel - 1. */
function quadTexels(a: Conv2dAttrs): number {
  return Math.ceil((3 * a.strideWidth + a.kernelWidth) / 4);
}

/** Texels per packed input row of `packedConv2d`: the last quad's first texel and its reads. */
function rowTexels(a: Conv2dAttrs): number {
  return (Math.ceil(a.outWidth / 4) - 1) * a.strideWidth + quadTexels(a);
}

/** Floats in the packed weight: its kernel rows, 4 taps per texel. */
export function packedWeightSize(a: Conv2dAttrs): number {
  return (
    (a.outChannels * a.inChannels * a.kernelHeight * Math.ceil(a.kernelWidth / 4) * 4) / a.groups
  );
}

/**
 * Conv2d on webgl2 from a packed copy of x: each row of x is stored left-padded by `padLeft`
 * zeros (and right-padded to whole texels) as RGBA texels of four consecutive columns, so that
 * the columns a quad of outputs reads (`blockedConv2d`: 4q x stride .. 4q x stride + 3 x stride
 * + kernel - 1) are whole texels from texel q x stride: two at stride 1 with a kernel up to 5
 * wide (conv2-5), six for conv1 (stride 4, 11 taps), where the flat layout takes one fetch per
 * column (`getMemoryOptimized32`: a texel fetched for one of its four floats). The padding is
 * zeros, so no column is tested: a tap in the padding adds 0 * w, as PyTorch's zero padding
 * does (an infinite weight there gives NaN where the one-output kernel skips the tap). One
 * launch packs x (`ArrayTexture(4)`, gpu.js reads `v = p[texel]` as a vec4), one packs w's
 * kernel rows (4 taps per texel, so a row of 3, 5 or 11 taps is one, two or three fetches), one
 * convolves (adding the bias and applying the activation of an `epilogue` in its write); the
 * packed copies are freed after.
 */
export function packedConv2d(
  backend: GpuBackend,
  x: TensorInfo,
  w: TensorInfo,
  a: Conv2dAttrs,
  epilogue: ConvEpilogue | null = null,
) {
  const inPerGroup = a.inChannels / a.groups;
  const outPerGroup = a.outChannels / a.groups;
  const quads = Math.ceil(a.outWidth / 4);
  const sw = a.strideWidth;
  const reads = quadTexels(a);
  const texels = rowTexels(a);
  const rows = a.batch * a.inChannels * a.inHeight;
  const packed = packRows(backend, x, rows, a.inWidth, a.padLeft, texels);
  const wRows = a.outChannels * inPerGroup * a.kernelHeight;
  const wTexels = Math.ceil(a.kernelWidth / 4);
  const wp = packRows(backend, w, wRows, a.kernelWidth, 0, wTexels);
  const end = applyEpilogue(epilogue, ['a0', 'a1', 'a2', 'a3'], 'o1');
  const conv = [
    unravel('i', [a.batch, a.outChannels, a.outHeight, quads], 'o'),
    `const g = ${idiv('o1', outPerGroup)};`,
    `const rowBase = (o0 * ${a.inChannels} + g * ${inPerGroup}) * ${a.inHeight};`,
    `const h0 = o2 * ${a.strideHeight} - ${a.padTop};`,
    'let a0 = 0;',
    'let a1 = 0;',
    'let a2 = 0;',
    'let a3 = 0;',
    `for (let kh = 0; kh < ${a.kernelHeight}; kh++) {`,
    `const ih = h0 + kh;`,
    `if (ih >= 0 && ih < ${a.inHeight}) {`,
    `for (let c = 0; c < ${inPerGroup}; c++) {`,
    `const t = (rowBase + c * ${a.inHeight} + ih) * ${texels} + o3${sw === 1 ? '' : ` * ${sw}`};`,
    ...Array.from({ length: reads }, (_, q) => `const x${q} = xp[t${q ? ` + ${q}` : ''}];`),
    `const wr = ((o1 * ${inPerGroup} + c) * ${a.kernelHeight} + kh) * ${wTexels};`,
    ...unpackColumns(3 * sw + a.kernelWidth),
    ...packedTaps(a.kernelWidth),
    ...[0, 1, 2, 3].flatMap((j) =>
      Array.from({ length: a.kernelWidth }, (_, k) => `a${j} += v${j * sw + k} * t${k};`),
    ),
    '}',
    '}',
    '}',
    ...end.lines,
    `return [${end.outs.join(', ')}];`,
  ].join('\n');
  const paddedShape = [a.batch, a.outChannels, a.outHeight, quads * 4];
  const bias = epilogue ? backend.bufferOf(epilogue.bias) : null;
  if (epilogue && bias === null) throw new Error("internal: a packed convolution's bias in pieces");
  const args = withBias(epilogue, ['xp', 'wp'], [packed, wp], bias?.value ?? null);
  const sizes = withBias(
    epilogue,
    [],
    [rows * texels * 4, wRows * wTexels * 4],
    bias?.length ?? null,
  );
  const out = backend.launch(
    kernelSource(args.names, conv),
    args.inputs,
    sizes.inputs,
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

/** The first `count` columns of the packed texels `x0`, `x1`, ... as locals `v0..v${count - 1}`. */
function unpackColumns(count: number): string[] {
  return Array.from({ length: count }, (_, p) => `const v${p} = x${p >> 2}[${p & 3}];`);
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
export function packedConv2dBackpropInput(
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
 * Conv2dBackpropFilter on webgl2 from packed copies of x and dy (stride and dilation 1), blocked
 * as `blockedConv2dBackpropFilter` (taps kw = 4q..4q+3 per thread). x's rows are packed
 * left-padded by `padLeft` zeros, so output column ow's tap kw reads padded column ow + kw; dy's
 * rows are packed as they are. Four output columns 4m..4m+3 are then one dy texel, and the x
 * columns their four taps read, 4m + 4q .. 4m + 4q + 6, are x texels m + q and m + q + 1: three
 * fetches for 16 multiply-adds, and no column test (the padding is stored zeros: a tap in it
 * adds 0 * dy, as PyTorch's zero padding does).
 */
export function packedConv2dBackpropFilter(
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
