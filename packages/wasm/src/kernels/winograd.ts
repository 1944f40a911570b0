import type { Conv2dAttrs, DataId } from '@gpunet/tensor';
import type { WasmBackend } from '../backend.js';
import { envVar } from '../env.js';
import type { PoolFunction } from '../threads.js';
import { threadRanges } from './ranges.js';

/**
 * Winograd F(2x2, 3x3) (assembly/winograd.ts) for the 3x3 convolutions of stride 1 and
 * dilation 1 (AlexNet's conv3-conv5): 16 multiplies per 2x2 outputs and input channel instead
 * of 36, so the GEMMs do 2.25x fewer multiply-adds than im2col's. The forward pass, the data
 * gradient (a 3x3 convolution of dy with the kernels transposed and turned) and the filter
 * gradient use it. 5x5 convolutions of stride 1 (AlexNet's conv2, the mini AlexNet's second
 * layer) use F(2x2, 5x5) in all three passes: 36 multiplies instead of 100.
 * `GPUNET_WASM_WINOGRAD=0` turns both off (to compare).
 */
export function winogradApplies(a: Conv2dAttrs, pass: 'forward' | 'data' | 'filter'): boolean {
  const groupIn = a.inChannels / a.groups;
  const groupOut = a.outChannels / a.groups;
  return (
    WINOGRAD &&
    (a.kernelHeight === 3 ||
      (a.kernelHeight === 5 &&
        // F(2x2, 5x5)'s 6x6 transforms run once per channel on each side, its saving is per
        // pair of channels. Measured on one thread at batch 32 (13x13 and 27x27 maps, 16-32
        // outputs): the forward pass 1.3x faster than im2col from 4 input channels, 2x slower
        // at 1; the data gradient 1.3x faster at 16 (its dx) channels, 1.2x slower at 8; the
        // filter gradient 1.1x faster at 8 input channels, 1.5x slower at 4; at AlexNet's conv2
        // (48 in, 128 out per group) 1.5x in all three passes.
        ((pass === 'forward' && groupIn >= 4 && groupOut >= 16) ||
          (pass === 'filter' && groupIn >= 8 && groupOut >= 16) ||
          (pass === 'data' && groupIn >= 16 && groupOut >= 16)))) &&
    a.kernelWidth === a.kernelHeight &&
    a.strideHeight === 1 &&
    a.strideWidth === 1 &&
    a.dilationHeight === 1 &&
    a.dilationWidth === 1
  );
}

const WINOGRAD = envVar('GPUNET_WASM_WINOGRAD') !== '0';

/**
 * The Wasm functions of each Winograd variant: F(2x2, 3x3) on 4x4 tiles (16 GEMMs per group),
 * F(4x4, 3x3) and F(2x2, 5x5) on 6x6 tiles (36). Those that do not need the per-thread scratch
 * ignore it.
 */
interface Family {
  /** Output tile side (2 or 4). */
  tile: number;
  /** Elements of a transformed tile: GEMMs per group. */
  elements: number;
  weights: PoolFunction;
  input: PoolFunction;
  output: PoolFunction;
  gradOutput: PoolFunction;
  filterOutput: PoolFunction;
}

const F23: Family = {
  tile: 2,
  elements: 16,
  weights: 'winogradWeights',
  input: 'winogradInput',
  output: 'winogradOutput',
  gradOutput: 'winogradGradOutput',
  filterOutput: 'winogradFilterOutput',
};
const F43: Family = {
  tile: 4,
  elements: 36,
  weights: 'winograd43Weights',
  input: 'winograd43Input',
  output: 'winograd43Output',
  gradOutput: 'winograd43GradOutput',
  filterOutput: 'winograd43FilterOutput',
};
const F25: Family = {
  tile: 2,
  elements: 36,
  weights: 'winograd5Weights',
  input: 'winograd5Input',
  output: 'winograd5Output',
  gradOutput: 'winograd5GradOutput',
  filterOutput: 'winograd5FilterOutput',
};

const F43_ENABLED = envVar('GPUNET_WASM_F43') !== '0';

/**
 * The variant for a convolution whose computed output is outH x outW: 5x5 kernels F(2x2, 5x5);
 * 3x3 kernels F(4x4, 3x3) where its GEMMs do at most 0.85 of F(2x2, 3x3)'s multiply-adds once
 * the cut tiles at the border are counted (13x13: 576 against 784 per channel pair; 6x6: 144
 * against 144, where F(2x2, 3x3)'s cheaper transforms win), else F(2x2, 3x3).
 */
function family(kernel: number, outH: number, outW: number): Family {
  if (kernel === 5) return F25;
  const work = (f: Family) => f.elements * Math.ceil(outH / f.tile) * Math.ceil(outW / f.tile);
  return F43_ENABLED && work(F43) <= 0.85 * work(F23) ? F43 : F23;
}

/**
 * Floats from one plane of the transformed tiles (V, M, D: `rows` x T per element) to the next,
 * as assembly/winograd.ts's tilePlane lays them out: padded to 16 mod 32 so that a tile's planes
 * fall in different L1 sets (T is largest for a full chunk, so `maxT` sizes every chunk's).
 */
function winogradPlaneFloats(rows: number, T: number): number {
  return ((rows * T + 31) & ~31) + 16;
}

/** Tiles per GEMM at least: enough columns for the micro-kernel's panels. */
const TILES_PER_CHUNK = 512;

/**
 * Bytes the transformed tiles of one chunk may take (both sides, all groups): few channels
 * (the mini AlexNet's 16 and 32) then take more images per chunk, and fewer rounds of
 * thread wake-ups per pass (its training step 1.08x faster). `GPUNET_WASM_CHUNK_BYTES`
 * overrides it: the test suite's second conformance run sets 0, so that its small cases
 * split into several chunks of TILES_PER_CHUNK tiles as AlexNet's layers do.
 */
const CHUNK_BYTES = Number(envVar('GPUNET_WASM_CHUNK_BYTES') ?? 16 * 2 ** 20);

/**
 * The output tiles (side `tile`) over an outH x outW output, and how many images one chunk takes:
 * at least TILES_PER_CHUNK tiles, more while `channels` (per tile and element, both sides, all
 * groups) fit in CHUNK_BYTES.
 */
function tiling(batch: number, outH: number, outW: number, f: Family, channels: number) {
  const tilesH = Math.ceil(outH / f.tile);
  const tilesW = Math.ceil(outW / f.tile);
  const perImage = tilesH * tilesW;
  const tiles = Math.max(TILES_PER_CHUNK, Math.floor(CHUNK_BYTES / (f.elements * channels * 4)));
  const chunk = Math.max(1, Math.min(batch, Math.floor(tiles / perImage)));
  return { tilesH, tilesW, perImage, chunk, maxT: chunk * perImage };
}

/**
 * Runs a tile transform of images [n0, n0 + count) (x to V, M to y, dy to D: each reads `from`
 * and writes `to` channel by channel) with its `channels` split over the threads; `geometry` is
 * the rest of its arguments (channels per group, sizes, padding, tiles).
 */
function byChannels(
  wasm: WasmBackend,
  fn: PoolFunction,
  from: number,
  to: number,
  n0: number,
  count: number,
  channels: number,
  geometry: number[],
): void {
  wasm.pool.run(
    fn,
    threadRanges(channels, wasm.pool.size).map(([c0, c1], t) => [
      from,
      to,
      n0,
      count,
      c0,
      c1,
      channels,
      ...geometry,
      wasm.scratch[t],
    ]),
  );
}

/**
 * y = conv(x, w) (`pass` 'forward': x [N, C, H, W] -> y [N, K, outH, outW]) or
 * dx = conv2dBackpropInput(dy, w) (`pass` 'data': dy -> dx [N, C, H, W]), by Winograd,
 * images in chunks, each phase split over the backend's threads. The output transform ends
 * each output plane with `epilogue` (the fused convolution's bias and ReLU; none by default).
 */
export function winogradConv(
  wasm: WasmBackend,
  a: Conv2dAttrs,
  pass: 'forward' | 'data',
  input: number,
  weightsId: DataId,
  output: number,
  epilogue: { bias: number; flags: number } = { bias: 0, flags: 0 },
): void {
  const weights = wasm.offset(weightsId);
  const forward = pass === 'forward';
  const groups = a.groups;
  const groupIn = a.inChannels / groups;
  const groupOut = a.outChannels / groups;
  // The convolution computed: I input and O output channels per group.
  const I = forward ? groupIn : groupOut;
  const O = forward ? groupOut : groupIn;
  const [inH, inW] = forward ? [a.inHeight, a.inWidth] : [a.outHeight, a.outWidth];
  const [outH, outW] = forward ? [a.outHeight, a.outWidth] : [a.inHeight, a.inWidth];
  // The data gradient reads dy shifted by k - 1 - pad (the transposed convolution's padding).
  const k = a.kernelHeight;
  const [padTop, padLeft] = forward ? [a.padTop, a.padLeft] : [k - 1 - a.padTop, k - 1 - a.padLeft];
  const f = family(k, outH, outW);
  const { tilesH, tilesW, perImage, chunk, maxT } = tiling(
    a.batch,
    outH,
    outW,
    f,
    groups * (I + O),
  );
  const threads = wasm.pool.size;

  const items = groups * f.elements;
  const uBytes = items * O * I * 4;
  const packedBytes = items * wasm.heap.kernels.packedAFloats(O, I) * 4;
  const vBytes = items * winogradPlaneFloats(I, maxT) * 4;
  const mBytes = items * winogradPlaneFloats(O, maxT) * 4;
  // The transformed kernels are kept with the weight tensor, packed for the GEMM's micro-kernel:
  // inference transforms and packs them once, a training step once per pass. (Packing them in
  // every GEMM cost as much as the GEMM itself at batch 1, 16 tiles per 13x13 image.)
  const u = wasm.derivedBlock(
    weightsId,
    `${f.weights} ${pass} ${groups}x${O}x${I}`,
    packedBytes,
    (packed) => {
      const plain = wasm.heap.alloc(uBytes);
      wasm.pool.run(
        f.weights,
        threadRanges(O, threads).map(([o0, o1], t) => [
          weights,
          plain,
          groups,
          O,
          I,
          forward ? 0 : 1,
          o0,
          o1,
          wasm.scratch[t],
        ]),
      );
      wasm.pool.run(
        'winogradPackWeights',
        threadRanges(items, threads).map(([w0, w1]) => [plain, packed, O, I, w0, w1]),
      );
      wasm.heap.release(plain, uBytes);
    },
  );
  const [v, m] = [vBytes, mBytes].map((bytes) => wasm.heap.alloc(bytes));
  for (let n0 = 0; n0 < a.batch; n0 += chunk) {
    const count = Math.min(chunk, a.batch - n0);
    const T = count * perImage;
    byChannels(wasm, f.input, input, v, n0, count, groups * I, [
      I,
      inH,
      inW,
      padTop,
      padLeft,
      tilesH,
      tilesW,
    ]);
    wasm.pool.run(
      'winogradGemmPacked',
      threadRanges(items, threads).map(([w0, w1], t) => [
        u,
        v,
        m,
        O,
        I,
        T,
        w0,
        w1,
        wasm.scratch[t],
      ]),
    );
    byChannels(wasm, f.output, m, output, n0, count, groups * O, [
      O,
      outH,
      outW,
      tilesH,
      tilesW,
      epilogue.bias,
      epilogue.flags,
    ]);
  }
  wasm.heap.release(v, vBytes);
  wasm.heap.release(m, mBytes);
}

/**
 * dW = conv2dBackpropFilter(x, dy) by Winograd: per chunk of images, the input tiles (V) and
 * the output-gradient tiles (A dy Aᵀ) are transformed and 16 GEMMs per group add up their
 * products; one last transform folds the 4x4 sums into the 3x3 kernels.
 */
export function winogradFilter(
  wasm: WasmBackend,
  a: Conv2dAttrs,
  x: number,
  dy: number,
  dw: number,
): void {
  const groups = a.groups;
  const I = a.inChannels / groups;
  const O = a.outChannels / groups;
  const f = family(a.kernelHeight, a.outHeight, a.outWidth);
  const { tilesH, tilesW, perImage, chunk, maxT } = tiling(
    a.batch,
    a.outHeight,
    a.outWidth,
    f,
    groups * (I + O),
  );
  const threads = wasm.pool.size;
  const e = f.elements;
  const sizes = [
    groups * e * winogradPlaneFloats(I, maxT) * 4,
    groups * e * winogradPlaneFloats(O, maxT) * 4,
    groups * e * O * I * 4,
  ];
  const [v, d, m] = sizes.map((bytes) => wasm.heap.alloc(bytes));
  for (let n0 = 0; n0 < a.batch; n0 += chunk) {
    const count = Math.min(chunk, a.batch - n0);
    const T = count * perImage;
    byChannels(wasm, f.input, x, v, n0, count, groups * I, [
      I,
      a.inHeight,
      a.inWidth,
      a.padTop,
      a.padLeft,
      tilesH,
      tilesW,
    ]);
    byChannels(wasm, f.gradOutput, dy, d, n0, count, groups * O, [
      O,
      a.outHeight,
      a.outWidth,
      tilesH,
      tilesW,
    ]);
    wasm.pool.run(
      'winogradFilterGemm',
      threadRanges(groups * e, threads).map(([w0, w1], t) => [
        d,
        v,
        m,
        O,
        I,
        T,
        n0 > 0 ? 1 : 0,
        w0,
        w1,
        wasm.scratch[t],
      ]),
    );
  }
  wasm.pool.run(
    f.filterOutput,
    threadRanges(O, threads).map(([o0, o1], t) => [m, dw, groups, O, I, o0, o1, wasm.scratch[t]]),
  );
  sizes.forEach((bytes, k) => {
    wasm.heap.release([v, d, m][k], bytes);
  });
}
