import type { Conv2dAttrs, DataId } from '@gpunet/tensor';
import type { WasmBackend } from '../backend.js';
import { threadRanges } from './ranges.js';

/**
 * Winograd F(2x2, 3x3) (assembly/winograd.ts) for the 3x3 convolutions of stride 1 and
 * dilation 1 (AlexNet's conv3-conv5): 16 multiplies per 2x2 outputs and input channel instead
 * of 36, so the GEMMs do 2.25x fewer multiply-adds than im2col's. The forward pass, the data
 * gradient (a 3x3 convolution of dy with the kernels transposed and turned) and the filter
 * gradient use it. `GPUNET_WASM_WINOGRAD=0` turns it off (to compare).
 */
export function winogradApplies(a: Conv2dAttrs): boolean {
  return (
    WINOGRAD &&
    a.kernelHeight === 3 &&
    a.kernelWidth === 3 &&
    a.strideHeight === 1 &&
    a.strideWidth === 1 &&
    a.dilationHeight === 1 &&
    a.dilationWidth === 1
  );
}

const WINOGRAD =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.GPUNET_WASM_WINOGRAD !== '0';

/** Tiles per GEMM: enough columns for the micro-kernel's panels, little scratch. */
const TILES_PER_CHUNK = 512;

/**
 * y = conv(x, w) (`pass` 'forward': x [N, C, H, W] -> y [N, K, outH, outW]) or
 * dx = conv2dBackpropInput(dy, w) (`pass` 'data': dy -> dx [N, C, H, W]), by Winograd,
 * images in chunks, each phase split over the backend's threads.
 */
export function winogradConv(
  wasm: WasmBackend,
  a: Conv2dAttrs,
  pass: 'forward' | 'data',
  input: number,
  weightsId: DataId,
  output: number,
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
  // The data gradient reads dy shifted by 2 - pad (the transposed convolution's padding).
  const [padTop, padLeft] = forward ? [a.padTop, a.padLeft] : [2 - a.padTop, 2 - a.padLeft];
  const tilesH = Math.ceil(outH / 2);
  const tilesW = Math.ceil(outW / 2);
  const perImage = tilesH * tilesW;
  const chunk = Math.max(1, Math.min(a.batch, Math.floor(TILES_PER_CHUNK / perImage)));
  const maxT = chunk * perImage;
  const threads = wasm.pool.size;

  const uBytes = groups * 16 * O * I * 4;
  const vBytes = groups * 16 * I * maxT * 4;
  const mBytes = groups * 16 * O * maxT * 4;
  // The transformed kernels are kept with the weight tensor: inference transforms them once,
  // a training step once per pass.
  const u = wasm.derivedBlock(weightsId, `winograd ${pass} ${groups}x${O}x${I}`, uBytes, (at) =>
    wasm.pool.run(
      'winogradWeights',
      threadRanges(O, threads).map(([o0, o1]) => [
        weights,
        at,
        groups,
        O,
        I,
        forward ? 0 : 1,
        o0,
        o1,
      ]),
    ),
  );
  const [v, m] = [vBytes, mBytes].map((bytes) => wasm.heap.alloc(bytes));
  for (let n0 = 0; n0 < a.batch; n0 += chunk) {
    const count = Math.min(chunk, a.batch - n0);
    const T = count * perImage;
    wasm.pool.run(
      'winogradInput',
      threadRanges(groups * I, threads).map(([c0, c1]) => [
        input,
        v,
        n0,
        count,
        c0,
        c1,
        groups * I,
        I,
        inH,
        inW,
        padTop,
        padLeft,
        tilesH,
        tilesW,
      ]),
    );
    wasm.pool.run(
      'winogradGemm',
      threadRanges(groups * 16, threads).map(([w0, w1], t) => [
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
    wasm.pool.run(
      'winogradOutput',
      threadRanges(groups * O, threads).map(([c0, c1]) => [
        m,
        output,
        n0,
        count,
        c0,
        c1,
        groups * O,
        O,
        outH,
        outW,
        tilesH,
        tilesW,
      ]),
    );
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
  const tilesH = Math.ceil(a.outHeight / 2);
  const tilesW = Math.ceil(a.outWidth / 2);
  const perImage = tilesH * tilesW;
  const chunk = Math.max(1, Math.min(a.batch, Math.floor(TILES_PER_CHUNK / perImage)));
  const maxT = chunk * perImage;
  const threads = wasm.pool.size;
  const sizes = [groups * 16 * I * maxT * 4, groups * 16 * O * maxT * 4, groups * 16 * O * I * 4];
  const [v, d, m] = sizes.map((bytes) => wasm.heap.alloc(bytes));
  for (let n0 = 0; n0 < a.batch; n0 += chunk) {
    const count = Math.min(chunk, a.batch - n0);
    const T = count * perImage;
    wasm.pool.run(
      'winogradInput',
      threadRanges(groups * I, threads).map(([c0, c1]) => [
        x,
        v,
        n0,
        count,
        c0,
        c1,
        groups * I,
        I,
        a.inHeight,
        a.inWidth,
        a.padTop,
        a.padLeft,
        tilesH,
        tilesW,
      ]),
    );
    wasm.pool.run(
      'winogradGradOutput',
      threadRanges(groups * O, threads).map(([c0, c1]) => [
        dy,
        d,
        n0,
        count,
        c0,
        c1,
        groups * O,
        O,
        a.outHeight,
        a.outWidth,
        tilesH,
        tilesW,
      ]),
    );
    wasm.pool.run(
      'winogradFilterGemm',
      threadRanges(groups * 16, threads).map(([w0, w1], t) => [
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
    'winogradFilterOutput',
    threadRanges(O, threads).map(([o0, o1]) => [m, dw, groups, O, I, o0, o1]),
  );
  sizes.forEach((bytes, k) => {
    wasm.heap.release([v, d, m][k], bytes);
  });
}
