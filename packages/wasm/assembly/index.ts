// @gpunet/wasm kernels, compiled by AssemblyScript to WebAssembly with 128-bit SIMD.
//
// Every pointer is a byte offset into the (imported, possibly shared) memory, allocated by the
// JavaScript side; these functions never allocate. Strides are in elements (f32).
//
// GEMM follows the Goto/BLIS structure: the K x N operand is packed into panels of NR = 8
// columns, the M x K operand into slivers of MR = 4 rows, per cache block (KC x NC of B stays in
// L2, one panel in L1), and a 4 x 8 micro-kernel keeps its 32 accumulators in 8 SIMD registers.

import { transpose4 } from './simd';

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 512;

/** Bytes of scratch one `sgemm` call needs: packed A, packed B and one spilled edge tile. */
export function gemmScratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/**
 * `a * b + c` on 4 lanes: relaxed SIMD's fused multiply-add where the module is built with it (the
 * `relaxed` variants; one rounding instead of two, and one instruction on CPUs with FMA),
 * otherwise a multiply and an add.
 */
// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return v128.relaxed_madd<f32>(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** The first byte the JavaScript allocator may use (after static data). */
export function heapBase(): usize {
  return __heap_base;
}

// Packs rows [i0, i0 + mc) x cols [p0, p0 + kc) of A into MR-row slivers: sliver s holds, for
// each p, the MR values A[i0 + s*MR + r, p0 + p] (zero past row m). Full slivers move 4 floats
// at a time: straight when A's rows are adjacent (a transposed operand, aRow == 1), through a
// 4x4 transpose when its columns are (aCol == 1).
function packA(a: usize, aRow: i32, aCol: i32, m: i32, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let s = 0; s < mc; s += MR) {
    const i = i0 + s;
    let p = 0;
    if (i + MR <= m) {
      if (aRow == 1) {
        for (; p < kc; p++) {
          v128.store(dst, v128.load(a + (<usize>(i + (p0 + p) * aCol) << 2)));
          dst += MR * 4;
        }
      } else if (aCol == 1) {
        const rowBytes = <usize>aRow << 2;
        for (; p + 4 <= kc; p += 4) {
          const src = a + (<usize>(i * aRow + p0 + p) << 2);
          transpose4(v128.load(src), v128.load(src + rowBytes), v128.load(src + 2 * rowBytes), v128.load(src + 3 * rowBytes), dst, MR * 4);
          dst += 4 * MR * 4;
        }
      }
    }
    for (; p < kc; p++) {
      const src = a + (<usize>((p0 + p) * aCol) << 2);
      for (let r = 0; r < MR; r++) {
        const v: f32 = i + r < m ? load<f32>(src + (<usize>((i + r) * aRow) << 2)) : 0;
        store<f32>(dst, v);
        dst += 4;
      }
    }
  }
}

// Packs rows [p0, p0 + kc) x cols [j0, j0 + nc) of B into NR-column panels: panel t holds, for
// each p, the NR values B[p0 + p, j0 + t*NR + q] (zero past column n). Full panels of a
// transposed operand (bRow == 1: columns adjacent in p) go through 4x4 transposes.
function packB(b: usize, bRow: i32, bCol: i32, n: i32, j0: i32, nc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let t = 0; t < nc; t += NR) {
    const j = j0 + t;
    const full = j + NR <= n;
    let p = 0;
    if (full && bRow == 1 && bCol != 1) {
      const colBytes = <usize>bCol << 2;
      for (; p + 4 <= kc; p += 4) {
        const src = b + (<usize>(p0 + p + j * bCol) << 2);
        transpose4(v128.load(src), v128.load(src + colBytes), v128.load(src + 2 * colBytes), v128.load(src + 3 * colBytes), dst, NR * 4);
        const src4 = src + 4 * colBytes;
        transpose4(v128.load(src4), v128.load(src4 + colBytes), v128.load(src4 + 2 * colBytes), v128.load(src4 + 3 * colBytes), dst + 16, NR * 4);
        dst += 4 * NR * 4;
      }
    }
    for (; p < kc; p++) {
      const row = b + (<usize>((p0 + p) * bRow) << 2);
      if (full && bCol == 1) {
        v128.store(dst, v128.load(row + (<usize>j << 2)));
        v128.store(dst, v128.load(row + (<usize>(j + 4) << 2)), 16);
      } else {
        for (let q = 0; q < NR; q++) {
          const v: f32 = j + q < n ? load<f32>(row + (<usize>((j + q) * bCol) << 2)) : 0;
          store<f32>(dst + (<usize>q << 2), v);
        }
      }
      dst += NR * 4;
    }
  }
}

// C[0:mr, 0:nr] (+)= sliver(ap) x panel(bp) over kc; mr <= MR, nr <= NR.
@inline
function microKernel(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, mr: i32, nr: i32, accumulate: bool, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    const a0 = v128.load32_splat(ap);
    const a1 = v128.load32_splat(ap, 4);
    const a2 = v128.load32_splat(ap, 8);
    const a3 = v128.load32_splat(ap, 12);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
    ap += MR * 4;
    bp += NR * 4;
  }
  const rowBytes = <usize>ldc << 2;
  if (mr == MR && nr == NR) {
    if (accumulate) {
      c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + rowBytes)); c11 = f32x4.add(c11, v128.load(c + rowBytes, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * rowBytes)); c21 = f32x4.add(c21, v128.load(c + 2 * rowBytes, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * rowBytes)); c31 = f32x4.add(c31, v128.load(c + 3 * rowBytes, 16));
    }
    v128.store(c, c00); v128.store(c, c01, 16);
    v128.store(c + rowBytes, c10); v128.store(c + rowBytes, c11, 16);
    v128.store(c + 2 * rowBytes, c20); v128.store(c + 2 * rowBytes, c21, 16);
    v128.store(c + 3 * rowBytes, c30); v128.store(c + 3 * rowBytes, c31, 16);
    return;
  }
  // An edge tile: spill the accumulators (into this call's own scratch: static data would be
  // shared by every thread) and write only the rows and columns inside C.
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let r = 0; r < mr; r++) {
    for (let q = 0; q < nr; q++) {
      const dst = c + <usize>r * rowBytes + (<usize>q << 2);
      const v = load<f32>(tile + (<usize>(r * NR + q) << 2));
      store<f32>(dst, accumulate ? load<f32>(dst) + v : v);
    }
  }
}

// For few rows of A (a batch of 1 to 8 through a linear layer), with rows of A and columns of B
// contiguous in k (PyTorch's [out, in] weights): each C[i, j] is one SIMD dot product, reading
// the weights once with no packing.
function gemmDot(m: i32, k: i32, a: usize, aRow: i32, b: usize, bCol: i32, c: usize, ldc: i32, accumulate: bool, n0: i32, n1: i32): void {
  for (let j = n0; j < n1; j++) {
    const brow = b + (<usize>(j * bCol) << 2);
    for (let i = 0; i < m; i++) {
      const arow = a + (<usize>(i * aRow) << 2);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let p = 0;
      for (; p + 16 <= k; p += 16) {
        const ap = arow + (<usize>p << 2);
        const bp = brow + (<usize>p << 2);
        s0 = madd(v128.load(ap), v128.load(bp), s0);
        s1 = madd(v128.load(ap, 16), v128.load(bp, 16), s1);
        s2 = madd(v128.load(ap, 32), v128.load(bp, 32), s2);
        s3 = madd(v128.load(ap, 48), v128.load(bp, 48), s3);
      }
      for (; p + 4 <= k; p += 4) {
        s0 = madd(v128.load(arow + (<usize>p << 2)), v128.load(brow + (<usize>p << 2)), s0);
      }
      const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
      let acc: f32 = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
      for (; p < k; p++) acc += load<f32>(arow + (<usize>p << 2)) * load<f32>(brow + (<usize>p << 2));
      const dst = c + (<usize>(i * ldc + j) << 2);
      store<f32>(dst, accumulate ? load<f32>(dst) + acc : acc);
    }
  }
}

/**
 * C[:, n0:n1] = A x B (+ C when `accumulate`), A m x k read at a[i*aRow + p*aCol], B k x n read at
 * b[p*bRow + j*bCol], C row-major with row stride ldc. Passing the strides of a transposed
 * layout multiplies by the transpose at no cost. `scratch` holds gemmScratchBytes() bytes.
 * Threads call it on disjoint column ranges.
 */
export function sgemm(
  m: i32, n: i32, k: i32,
  a: usize, aRow: i32, aCol: i32,
  b: usize, bRow: i32, bCol: i32,
  c: usize, ldc: i32, accumulate: i32,
  n0: i32, n1: i32, scratch: usize,
): void {
  if (m <= 8 && aCol == 1 && bRow == 1 && k > 0) {
    gemmDot(m, k, a, aRow, b, bCol, c, ldc, accumulate != 0, n0, n1);
    return;
  }
  gemmBlocked(m, n, k, a, aRow, aCol, false, b, bRow, bCol, c, ldc, accumulate, n0, n1, scratch);
}

/**
 * Floats of A packed whole by `packMatrixA` (m x k): every row sliver of every cache block,
 * rows rounded up to the micro-kernel's MR.
 */
export function packedAFloats(m: i32, k: i32): i32 {
  return ((m + MR - 1) / MR) * MR * k;
}

/**
 * Packs all of A (m x k, strides as sgemm's) once, block (ic, pc) at float pc * mPad + ic * kc:
 * for an A used by many GEMMs (Winograd's transformed kernels at inference), so that
 * `sgemmPackedA` skips packing it each time.
 */
export function packMatrixA(a: usize, aRow: i32, aCol: i32, m: i32, k: i32, dst: usize): void {
  const mPad = ((m + MR - 1) / MR) * MR;
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    for (let ic = 0; ic < m; ic += MC) {
      packA(a, aRow, aCol, m, ic, min(MC, m - ic), pc, kc, dst + (<usize>(pc * mPad + ic * kc) << 2));
    }
  }
}

/** sgemm with A packed beforehand by packMatrixA (`a` its packed floats). */
export function sgemmPackedA(
  m: i32, n: i32, k: i32,
  a: usize,
  b: usize, bRow: i32, bCol: i32,
  c: usize, ldc: i32, accumulate: i32,
  n0: i32, n1: i32, scratch: usize,
): void {
  gemmBlocked(m, n, k, a, 0, 0, true, b, bRow, bCol, c, ldc, accumulate, n0, n1, scratch);
}

// The Goto/BLIS loops; A packed here per block, or (`prepacked`) read from packMatrixA's layout.
// @ts-ignore: decorator
@inline
function gemmBlocked(
  m: i32, n: i32, k: i32,
  a: usize, aRow: i32, aCol: i32, prepacked: bool,
  b: usize, bRow: i32, bCol: i32,
  c: usize, ldc: i32, accumulate: i32,
  n0: i32, n1: i32, scratch: usize,
): void {
  const packedA = scratch;
  const packedB = scratch + (<usize>(MC * KC) << 2);
  const tile = packedB + (<usize>(KC * NC) << 2);
  if (k == 0) {
    if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + (<usize>(i * ldc + n0) << 2), 0, <usize>(n1 - n0) << 2);
    return;
  }
  const mPad = ((m + MR - 1) / MR) * MR;
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const add = accumulate != 0 || pc > 0;
      packB(b, bRow, bCol, n1, jc, nc, pc, kc, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        let aBlock = packedA;
        if (prepacked) aBlock = a + (<usize>(pc * mPad + ic * kc) << 2);
        else packA(a, aRow, aCol, m, ic, mc, pc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const bp = packedB + (<usize>(jr * kc) << 2);
          const nr = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const ap = aBlock + (<usize>(ir * kc) << 2);
            const cp = c + (<usize>((ic + ir) * ldc + jc + jr) << 2);
            microKernel(kc, ap, bp, cp, ldc, min(MR, mc - ir), nr, add, tile);
          }
        }
      }
    }
  }
}

// The output columns xo in [lo, hi) whose input column xo * sw - pw + kx * dw lies inside
// [0, width); the rest read padding. Packed as lo | hi << 16 (both below 2^15).
// @ts-ignore: decorator
@inline
function validColumns(width: i32, ow: i32, sw: i32, offset: i32): i32 {
  // offset = kx * dw - pw; ix = xo * sw + offset.
  let lo = offset >= 0 ? 0 : (-offset + sw - 1) / sw;
  let hi = offset >= width ? 0 : (width - 1 - offset) / sw + 1;
  if (hi > ow) hi = ow;
  if (lo > hi) lo = hi;
  return lo | (hi << 16);
}

// Copies n floats: in SIMD for the short rows of small feature maps (a call to memory.copy costs
// more than the copy there), with memory.copy for long ones.
// @ts-ignore: decorator
@inline
function copyFloats(dst: usize, src: usize, n: i32): void {
  if (n > 64) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  for (; n >= 4; n -= 4) {
    v128.store(dst, v128.load(src));
    dst += 16;
    src += 16;
  }
  for (; n > 0; n--) {
    store<f32>(dst, load<f32>(src));
    dst += 4;
    src += 4;
  }
}

/**
 * Unfolds one image x[c, h, w] into cols[c*kh*kw, oh*ow] (row (ci, ky, kx), column (y, x)) so
 * that a convolution is a GEMM. Padding reads as zero. The columns inside the image are found
 * once per kernel column, so the copy itself has no bounds tests (and is one memory.copy when
 * the stride is 1).
 */
export function im2col(
  x: usize, channels: i32, height: i32, width: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32,
  oh: i32, ow: i32, cols: usize,
): void {
  let dst = cols;
  const rowBytes = <usize>ow << 2;
  for (let ci = 0; ci < channels; ci++) {
    const plane = x + (<usize>(ci * height * width) << 2);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const offset = kx * dw - pw;
        const range = validColumns(width, ow, sw, offset);
        const lo = range & 0xffff;
        const hi = range >>> 16;
        for (let y = 0; y < oh; y++) {
          const iy = y * sh - ph + ky * dh;
          if (iy < 0 || iy >= height || lo == hi) {
            memory.fill(dst, 0, rowBytes);
            dst += rowBytes;
            continue;
          }
          for (let q = 0; q < lo; q++) store<f32>(dst + (<usize>q << 2), 0);
          const src = plane + (<usize>(iy * width + lo * sw + offset) << 2);
          if (sw == 1) {
            copyFloats(dst + (<usize>lo << 2), src, hi - lo);
          } else {
            const step = <usize>sw << 2;
            let s = src;
            let d = dst + (<usize>lo << 2);
            const end = dst + (<usize>hi << 2);
            for (; d + 16 <= end; d += 16) {
              store<f32>(d, load<f32>(s));
              store<f32>(d, load<f32>(s + step), 4);
              store<f32>(d, load<f32>(s + 2 * step), 8);
              store<f32>(d, load<f32>(s + 3 * step), 12);
              s += 4 * step;
            }
            for (; d < end; d += 4) {
              store<f32>(d, load<f32>(s));
              s += step;
            }
          }
          for (let q = hi; q < ow; q++) store<f32>(dst + (<usize>q << 2), 0);
          dst += rowBytes;
        }
      }
    }
  }
}

/** The adjoint of im2col: adds cols[c*kh*kw, oh*ow] back into the image dx[c, h, w]. */
export function col2im(
  cols: usize, channels: i32, height: i32, width: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32,
  oh: i32, ow: i32, dx: usize,
): void {
  let src = cols;
  const rowBytes = <usize>ow << 2;
  for (let ci = 0; ci < channels; ci++) {
    const plane = dx + (<usize>(ci * height * width) << 2);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const offset = kx * dw - pw;
        const range = validColumns(width, ow, sw, offset);
        const lo = range & 0xffff;
        const hi = range >>> 16;
        for (let y = 0; y < oh; y++) {
          const iy = y * sh - ph + ky * dh;
          if (iy >= 0 && iy < height && lo < hi) {
            let d = plane + (<usize>(iy * width + lo * sw + offset) << 2);
            let s = src + (<usize>lo << 2);
            const end = src + (<usize>hi << 2);
            if (sw == 1) {
              for (; s + 16 <= end; s += 16) {
                v128.store(d, f32x4.add(v128.load(d), v128.load(s)));
                d += 16;
              }
            }
            const step = <usize>sw << 2;
            for (; s < end; s += 4) {
              store<f32>(d, load<f32>(d) + load<f32>(s));
              d += step;
            }
          }
          src += rowBytes;
        }
      }
    }
  }
}

export {
  avgPool,
  avgPoolGrad,
  lrn,
  lrnGrad,
  lrnGradImages,
  lrnImages,
  maxPool,
  maxPoolGrad,
  maxPoolSeparable,
} from './pool';
export { lrnGradScratchFloats, lrnGradTiles, lrnScratchFloats, lrnTiles } from './pool';
export { maxPoolGradStride2, maxPoolStride2 } from './pool';
export { binary, rectify, reluGrad, sumMiddle, weightedSum } from './elementwise';
export { biasActivation, convBackpropFilter, convBackpropInput, convForward } from './conv';
export {
  winograd5Input,
  winograd43Weights,
  winogradGemmPacked,
  winogradPackWeights,
  winograd43Input,
  winograd43Output,
  winograd43GradOutput,
  winograd43FilterOutput,
  winograd5FilterOutput,
  winograd5GradOutput,
  winograd5Output,
  winograd5Weights,
  winogradFilterGemm,
  winogradFilterOutput,
  winogradGradOutput,
  winogradInput,
  winogradOutput,
  winogradWeights,
} from './winograd';
