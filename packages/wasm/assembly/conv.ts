// Whole convolutions over a range of images [n0, n1), so that threads can split a batch by
// images: each thread unfolds its own images (im2col) into its own `cols` and runs the GEMMs
// on its own packing `scratch`, with no synchronization inside.
import { col2im, im2col, sgemm } from './index';
import { epilogue } from './simd';

/**
 * y[n] = conv(x[n], w) for n in [n0, n1): per group, im2col then W_g x cols, then each output
 * plane's epilogue (`flags`: bit 0 adds bias[c], bit 1 ReLU) while the GEMM's output is in cache.
 */
export function convForward(
  x: usize, w: usize, y: usize, cols: usize, scratch: usize, n0: i32, n1: i32,
  inChannels: i32, height: i32, width: i32, outChannels: i32, groups: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32,
  bias: usize, flags: i32,
): void {
  const groupIn = inChannels / groups;
  const groupOut = outChannels / groups;
  const patch = groupIn * kh * kw;
  const positions = oh * ow;
  for (let n = n0; n < n1; n++) {
    for (let g = 0; g < groups; g++) {
      im2col(x + (<usize>((n * inChannels + g * groupIn) * height * width) << 2), groupIn, height, width, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, cols);
      sgemm(
        groupOut, positions, patch,
        w + (<usize>(g * groupOut * patch) << 2), patch, 1,
        cols, positions, 1,
        y + (<usize>((n * outChannels + g * groupOut) * positions) << 2), positions, 0, 0, positions, scratch,
      );
      biasActivation(y + (<usize>(n * outChannels * positions) << 2), bias, g * groupOut, (g + 1) * groupOut, positions, flags);
    }
  }
}

/**
 * The epilogue of output channels [c0, c1) of one image's y [channels][plane] (`flags`: bit 0
 * adds bias[c], bit 1 ReLU): what a fused convolution does to its GEMM's output.
 */
export function biasActivation(y: usize, bias: usize, c0: i32, c1: i32, plane: i32, flags: i32): void {
  for (let c = c0; c < c1; c++) epilogue(y + (<usize>(c * plane) << 2), plane, bias, c, flags);
}

/** dx[n] (zeroed by the caller) = col2im(W_gᵀ dy_g[n]) for n in [n0, n1). */
export function convBackpropInput(
  dy: usize, w: usize, dx: usize, cols: usize, scratch: usize, n0: i32, n1: i32,
  inChannels: i32, height: i32, width: i32, outChannels: i32, groups: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, oh: i32, ow: i32,
): void {
  const groupIn = inChannels / groups;
  const groupOut = outChannels / groups;
  const patch = groupIn * kh * kw;
  const positions = oh * ow;
  for (let n = n0; n < n1; n++) {
    for (let g = 0; g < groups; g++) {
      sgemm(
        patch, positions, groupOut,
        w + (<usize>(g * groupOut * patch) << 2), 1, patch,
        dy + (<usize>((n * outChannels + g * groupOut) * positions) << 2), positions, 1,
        cols, positions, 0, 0, positions, scratch,
      );
      col2im(cols, groupIn, height, width, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, dx + (<usize>((n * inChannels + g * groupIn) * height * width) << 2));
    }
  }
}

/** dw = sum over n in [n0, n1) of dy_g[n] colsᵀ (written, not added to: one buffer per thread). */
export function convBackpropFilter(
  x: usize, dy: usize, dw: usize, cols: usize, scratch: usize, n0: i32, n1: i32,
  inChannels: i32, height: i32, width: i32, outChannels: i32, groups: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dwl: i32, oh: i32, ow: i32,
): void {
  const groupIn = inChannels / groups;
  const groupOut = outChannels / groups;
  const patch = groupIn * kh * kw;
  const positions = oh * ow;
  for (let n = n0; n < n1; n++) {
    for (let g = 0; g < groups; g++) {
      im2col(x + (<usize>((n * inChannels + g * groupIn) * height * width) << 2), groupIn, height, width, kh, kw, sh, sw, ph, pw, dh, dwl, oh, ow, cols);
      sgemm(
        groupOut, patch, positions,
        dy + (<usize>((n * outChannels + g * groupOut) * positions) << 2), positions, 1,
        cols, 1, positions,
        dw + (<usize>(g * groupOut * patch) << 2), patch, n > n0 ? 1 : 0, 0, patch, scratch,
      );
    }
  }
}
