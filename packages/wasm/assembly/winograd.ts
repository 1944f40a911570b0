// Winograd F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2016) for 3x3 convolutions of stride 1: each 2x2 block of outputs takes 16 multiplies per
// input channel instead of 36. A 4x4 input tile d becomes V = Bᵀ d B, a 3x3 kernel g becomes
// U = G g Gᵀ, and the 16 elementwise products, summed over input channels, are 16 GEMMs
// (M_e = U_e V_e for e in 0..15); the 2x2 output is Aᵀ M A. Every transform is additions and
// halvings, so the only rounding besides the GEMM's is a few additions per value.
//
//   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 -1 -1]
//
// Layouts (per call; `groups` convolutions side by side, I inputs and O outputs per group,
// T tiles: images x tilesH x tilesW):
//   U [groups][16][O][I]   V [groups][16][I][T]   M [groups][16][O][T]
// so that U_e, V_e and M_e are row-major matrices (V and M planes padded: tilePlane). U is then
// packed for the GEMM's micro-kernel once (winogradPackWeights) and kept so with the weights.
// The work is split over threads by channel (transforms) and by (group, e) (GEMMs).
import { packedAFloats, packMatrixA, sgemm, sgemmPackedA } from './index';
import { epilogue, transpose4 } from './simd';

/**
 * Bytes from one plane of V, M or D ([rows][T] per transformed element) to the next: rows * T
 * floats rounded to 16 mod 32, so that the 16 or 36 planes a tile is written to (or read from)
 * start 64 bytes mod 128 apart and fall in different L1 sets. Unpadded, conv2's data gradient
 * (128 x 392 floats, a multiple of 4 KiB) put all 36 in one set and its input transform ran 3x
 * slower per channel. winogradPlaneFloats in src/kernels/winograd.ts allocates the same.
 */
// @ts-ignore: decorator
@inline
function tilePlane(rows: i32, T: i32): usize {
  return <usize>(((rows * T + 31) & ~31) + 16) << 2;
}

/**
 * U for output channels [o0, o1) of every group. `flip` = 0: the kernels of a forward
 * convolution, w [groups*O][I][3][3]. `flip` = 1: of the data gradient, which is the
 * convolution of dy with the kernels transposed (in and out swapped) and turned by 180 degrees:
 * w [groups*I][O][3][3], kernel (o, i) = w[i][o] flipped.
 */
export function winogradWeights(w: usize, u: usize, groups: i32, O: i32, I: i32, flip: i32, o0: i32, o1: i32): void {
  for (let g = 0; g < groups; g++) {
    for (let o = o0; o < o1; o++) {
      for (let i = 0; i < I; i++) {
        const k = flip
          ? w + (<usize>(((g * I + i) * O + o) * 9) << 2)
          : w + (<usize>(((g * O + o) * I + i) * 9) << 2);
        // Rows of the 3x3 kernel (flipped: read back to front).
        let k0: f32, k1: f32, k2: f32, k3: f32, k4: f32, k5: f32, k6: f32, k7: f32, k8: f32;
        if (flip) {
          k0 = load<f32>(k, 32); k1 = load<f32>(k, 28); k2 = load<f32>(k, 24);
          k3 = load<f32>(k, 20); k4 = load<f32>(k, 16); k5 = load<f32>(k, 12);
          k6 = load<f32>(k, 8); k7 = load<f32>(k, 4); k8 = load<f32>(k);
        } else {
          k0 = load<f32>(k); k1 = load<f32>(k, 4); k2 = load<f32>(k, 8);
          k3 = load<f32>(k, 12); k4 = load<f32>(k, 16); k5 = load<f32>(k, 20);
          k6 = load<f32>(k, 24); k7 = load<f32>(k, 28); k8 = load<f32>(k, 32);
        }
        // t = G g (4 rows of 3), then U = t Gᵀ (each row [a, b, c] -> [a, (a+b+c)/2, (a-b+c)/2, c]).
        const t00 = k0, t01 = k1, t02 = k2;
        const t10: f32 = (k0 + k3 + k6) * 0.5, t11: f32 = (k1 + k4 + k7) * 0.5, t12: f32 = (k2 + k5 + k8) * 0.5;
        const t20: f32 = (k0 - k3 + k6) * 0.5, t21: f32 = (k1 - k4 + k7) * 0.5, t22: f32 = (k2 - k5 + k8) * 0.5;
        const t30 = k6, t31 = k7, t32 = k8;
        const plane = <usize>(O * I) << 2;
        let dst = u + (<usize>((g * 16 * O + o) * I + i) << 2);
        dst = row4(dst, plane, t00, t01, t02);
        dst = row4(dst, plane, t10, t11, t12);
        dst = row4(dst, plane, t20, t21, t22);
        row4(dst, plane, t30, t31, t32);
      }
    }
  }
}

// Writes [a, (a+b+c)/2, (a-b+c)/2, c] to 4 consecutive planes; returns the next row's start.
@inline
function row4(dst: usize, plane: usize, a: f32, b: f32, c: f32): usize {
  store<f32>(dst, a);
  store<f32>(dst + plane, (a + b + c) * 0.5);
  store<f32>(dst + 2 * plane, (a - b + c) * 0.5);
  store<f32>(dst + 3 * plane, c);
  return dst + 4 * plane;
}

/**
 * V for input channels [c0, c1) (counted over all groups) of images [nStart, nStart + count) of
 * x [N][inChannels][H][W]; tile (ty, tx) reads rows 2ty - pad .. 2ty - pad + 3 (zero outside).
 */
export function winogradInput(
  x: usize, v: usize, nStart: i32, count: i32, c0: i32, c1: i32, inChannels: i32, I: i32,
  height: i32, width: i32, padTop: i32, padLeft: i32, tilesH: i32, tilesW: i32,
): void {
  const T = count * tilesH * tilesW;
  const plane = tilePlane(I, T);
  const rb = <usize>width << 2;
  for (let c = c0; c < c1; c++) {
    const g = c / I;
    const i = c - g * I;
    for (let n = 0; n < count; n++) {
      const src = x + (<usize>(((nStart + n) * inChannels + c) * height * width) << 2);
      for (let ty = 0; ty < tilesH; ty++) {
        const y0 = 2 * ty - padTop;
        for (let tx = 0; tx < tilesW; tx++) {
          const x0 = 2 * tx - padLeft;
          const t = (n * tilesH + ty) * tilesW + tx;
          let d00: f32, d01: f32, d02: f32, d03: f32, d10: f32, d11: f32, d12: f32, d13: f32;
          let d20: f32, d21: f32, d22: f32, d23: f32, d30: f32, d31: f32, d32: f32, d33: f32;
          if (y0 >= 0 && y0 + 4 <= height && x0 >= 0 && x0 + 4 <= width) {
            const p = src + (<usize>(y0 * width + x0) << 2);
            d00 = load<f32>(p); d01 = load<f32>(p, 4); d02 = load<f32>(p, 8); d03 = load<f32>(p, 12);
            d10 = load<f32>(p + rb); d11 = load<f32>(p + rb, 4); d12 = load<f32>(p + rb, 8); d13 = load<f32>(p + rb, 12);
            d20 = load<f32>(p + 2 * rb); d21 = load<f32>(p + 2 * rb, 4); d22 = load<f32>(p + 2 * rb, 8); d23 = load<f32>(p + 2 * rb, 12);
            d30 = load<f32>(p + 3 * rb); d31 = load<f32>(p + 3 * rb, 4); d32 = load<f32>(p + 3 * rb, 8); d33 = load<f32>(p + 3 * rb, 12);
          } else {
            d00 = at(src, y0, x0, height, width); d01 = at(src, y0, x0 + 1, height, width);
            d02 = at(src, y0, x0 + 2, height, width); d03 = at(src, y0, x0 + 3, height, width);
            d10 = at(src, y0 + 1, x0, height, width); d11 = at(src, y0 + 1, x0 + 1, height, width);
            d12 = at(src, y0 + 1, x0 + 2, height, width); d13 = at(src, y0 + 1, x0 + 3, height, width);
            d20 = at(src, y0 + 2, x0, height, width); d21 = at(src, y0 + 2, x0 + 1, height, width);
            d22 = at(src, y0 + 2, x0 + 2, height, width); d23 = at(src, y0 + 2, x0 + 3, height, width);
            d30 = at(src, y0 + 3, x0, height, width); d31 = at(src, y0 + 3, x0 + 1, height, width);
            d32 = at(src, y0 + 3, x0 + 2, height, width); d33 = at(src, y0 + 3, x0 + 3, height, width);
          }
          // Bᵀ d: rows [r0 - r2, r1 + r2, r2 - r1, r1 - r3]; then the same on the columns.
          let dst = v + <usize>(g * 16) * plane + (<usize>(i * T + t) << 2);
          dst = col4(dst, plane, d00 - d20, d01 - d21, d02 - d22, d03 - d23);
          dst = col4(dst, plane, d10 + d20, d11 + d21, d12 + d22, d13 + d23);
          dst = col4(dst, plane, d20 - d10, d21 - d11, d22 - d12, d23 - d13);
          col4(dst, plane, d10 - d30, d11 - d31, d12 - d32, d13 - d33);
        }
      }
    }
  }
}

// x[y][x] of one plane, zero outside it.
@inline
function at(src: usize, y: i32, x: i32, height: i32, width: i32): f32 {
  return y >= 0 && y < height && x >= 0 && x < width ? load<f32>(src + (<usize>(y * width + x) << 2)) : 0;
}

// Writes one row of (Bᵀ d) B, [p0 - p2, p1 + p2, p2 - p1, p1 - p3], to 4 consecutive planes.
@inline
function col4(dst: usize, plane: usize, p0: f32, p1: f32, p2: f32, p3: f32): usize {
  store<f32>(dst, p0 - p2);
  store<f32>(dst + plane, p1 + p2);
  store<f32>(dst + 2 * plane, p2 - p1);
  store<f32>(dst + 3 * plane, p1 - p3);
  return dst + 4 * plane;
}

/**
 * Packs each U_e of the (group, e) pairs [w0, w1) (O x I, from `u` laid out as winogradWeights
 * writes it) for sgemmPackedA, one after another at `packed`: the form the transformed kernels
 * are kept in, so that inference never packs them again.
 */
export function winogradPackWeights(u: usize, packed: usize, O: i32, I: i32, w0: i32, w1: i32): void {
  const size = <usize>packedAFloats(O, I) << 2;
  for (let item = w0; item < w1; item++) {
    packMatrixA(u + (<usize>(item * O * I) << 2), I, 1, O, I, packed + <usize>item * size);
  }
}

/** M_e = U_e V_e for the (group, e) pairs [w0, w1), U packed by winogradPackWeights. */
export function winogradGemmPacked(u: usize, v: usize, m: usize, O: i32, I: i32, T: i32, w0: i32, w1: i32, scratch: usize): void {
  const size = <usize>packedAFloats(O, I) << 2;
  for (let item = w0; item < w1; item++) {
    sgemmPackedA(
      O, T, I,
      u + <usize>item * size,
      v + <usize>item * tilePlane(I, T), T, 1,
      m + <usize>item * tilePlane(O, T), T, 0, 0, T, scratch,
    );
  }
}

/**
 * y = Aᵀ M A for output channels [c0, c1) (over all groups) of images [nStart, nStart + count)
 * of y [N][outChannels][outH][outW]; the last tile row and column are cut at the border.
 */
export function winogradOutput(
  m: usize, y: usize, nStart: i32, count: i32, c0: i32, c1: i32, outChannels: i32, O: i32,
  outH: i32, outW: i32, tilesH: i32, tilesW: i32, bias: usize, flags: i32,
): void {
  const T = count * tilesH * tilesW;
  const plane = tilePlane(O, T);
  for (let c = c0; c < c1; c++) {
    const g = c / O;
    const o = c - g * O;
    for (let n = 0; n < count; n++) {
      const dst = y + (<usize>(((nStart + n) * outChannels + c) * outH * outW) << 2);
      for (let ty = 0; ty < tilesH; ty++) {
        for (let tx = 0; tx < tilesW; tx++) {
          const t = (n * tilesH + ty) * tilesW + tx;
          let src = m + <usize>(g * 16) * plane + (<usize>(o * T + t) << 2);
          const m00 = load<f32>(src), m01 = load<f32>(src + plane), m02 = load<f32>(src + 2 * plane), m03 = load<f32>(src + 3 * plane);
          src += 4 * plane;
          const m10 = load<f32>(src), m11 = load<f32>(src + plane), m12 = load<f32>(src + 2 * plane), m13 = load<f32>(src + 3 * plane);
          src += 4 * plane;
          const m20 = load<f32>(src), m21 = load<f32>(src + plane), m22 = load<f32>(src + 2 * plane), m23 = load<f32>(src + 3 * plane);
          src += 4 * plane;
          const m30 = load<f32>(src), m31 = load<f32>(src + plane), m32 = load<f32>(src + 2 * plane), m33 = load<f32>(src + 3 * plane);
          // Aᵀ M: rows [r0 + r1 + r2, r1 - r2 - r3]; then the same on the columns.
          const s00 = m00 + m10 + m20, s01 = m01 + m11 + m21, s02 = m02 + m12 + m22, s03 = m03 + m13 + m23;
          const s10 = m10 - m20 - m30, s11 = m11 - m21 - m31, s12 = m12 - m22 - m32, s13 = m13 - m23 - m33;
          const oy = 2 * ty, ox = 2 * tx;
          const row = dst + (<usize>(oy * outW + ox) << 2);
          const right = ox + 1 < outW;
          store<f32>(row, s00 + s01 + s02);
          if (right) store<f32>(row, s01 - s02 - s03, 4);
          if (oy + 1 < outH) {
            const below = row + (<usize>outW << 2);
            store<f32>(below, s10 + s11 + s12);
            if (right) store<f32>(below, s11 - s12 - s13, 4);
          }
        }
      }
      epilogue(dst, outH * outW, bias, c, flags);
    }
  }
}

// The filter gradient. With y = Aᵀ (U ⊙ V) A per tile and U = G g Gᵀ, the gradient of a tile's
// outputs dy with respect to U is (A dy Aᵀ) ⊙ V, and with respect to g it is Gᵀ (that) G; summed
// over tiles and images, the sum over tiles of (A dy Aᵀ)_e V_e is again 16 GEMMs (D_e V_eᵀ).

/**
 * D = A dy Aᵀ for output channels [c0, c1) (over all groups) of images [nStart, nStart + count)
 * of dy [N][outChannels][outH][outW], layout D [groups][16][O][T]; outside dy reads as zero.
 */
export function winogradGradOutput(
  dy: usize, d: usize, nStart: i32, count: i32, c0: i32, c1: i32, outChannels: i32, O: i32,
  outH: i32, outW: i32, tilesH: i32, tilesW: i32,
): void {
  const T = count * tilesH * tilesW;
  const plane = tilePlane(O, T);
  for (let c = c0; c < c1; c++) {
    const g = c / O;
    const o = c - g * O;
    for (let n = 0; n < count; n++) {
      const src = dy + (<usize>(((nStart + n) * outChannels + c) * outH * outW) << 2);
      for (let ty = 0; ty < tilesH; ty++) {
        const oy = 2 * ty;
        for (let tx = 0; tx < tilesW; tx++) {
          const ox = 2 * tx;
          const t = (n * tilesH + ty) * tilesW + tx;
          const at = src + (<usize>(oy * outW + ox) << 2);
          const right = ox + 1 < outW;
          const below = oy + 1 < outH;
          const a: f32 = load<f32>(at);
          const b: f32 = right ? load<f32>(at, 4) : 0;
          const cc: f32 = below ? load<f32>(at + (<usize>outW << 2)) : 0;
          const dd: f32 = right && below ? load<f32>(at + (<usize>outW << 2), 4) : 0;
          // A dy: rows [a b], [a+c b+d], [a-c b-d], [-c -d]; then each row [p q] -> [p, p+q, p-q, -q].
          let dst = d + <usize>(g * 16) * plane + (<usize>(o * T + t) << 2);
          dst = expand4(dst, plane, a, b);
          dst = expand4(dst, plane, a + cc, b + dd);
          dst = expand4(dst, plane, a - cc, b - dd);
          expand4(dst, plane, -cc, -dd);
        }
      }
    }
  }
}

@inline
function expand4(dst: usize, plane: usize, p: f32, q: f32): usize {
  store<f32>(dst, p);
  store<f32>(dst + plane, p + q);
  store<f32>(dst + 2 * plane, p - q);
  store<f32>(dst + 3 * plane, -q);
  return dst + 4 * plane;
}

/**
 * M_e (+)= D_e V_eᵀ ([O x T] by [T x I]) for the (group, e) pairs [w0, w1); `accumulate` adds to
 * M (the images after the first chunk).
 */
export function winogradFilterGemm(d: usize, v: usize, m: usize, O: i32, I: i32, T: i32, accumulate: i32, w0: i32, w1: i32, scratch: usize): void {
  for (let item = w0; item < w1; item++) {
    sgemm(
      O, I, T,
      d + <usize>item * tilePlane(O, T), T, 1,
      v + <usize>item * tilePlane(I, T), 1, T,
      m + (<usize>(item * O * I) << 2), I, accumulate, 0, I, scratch,
    );
  }
}

/**
 * dW = Gᵀ M G for output channels [o0, o1) of every group: M [groups][16][O][I] -> dW
 * [groups*O][I][3][3]. Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1].
 */
export function winogradFilterOutput(m: usize, dw: usize, groups: i32, O: i32, I: i32, o0: i32, o1: i32): void {
  const plane = <usize>(O * I) << 2;
  for (let g = 0; g < groups; g++) {
    for (let o = o0; o < o1; o++) {
      for (let i = 0; i < I; i++) {
        const src = m + (<usize>((g * 16 * O + o) * I + i) << 2);
        const m00 = load<f32>(src), m01 = load<f32>(src + plane), m02 = load<f32>(src + 2 * plane), m03 = load<f32>(src + 3 * plane);
        const m10 = load<f32>(src + 4 * plane), m11 = load<f32>(src + 5 * plane), m12 = load<f32>(src + 6 * plane), m13 = load<f32>(src + 7 * plane);
        const m20 = load<f32>(src + 8 * plane), m21 = load<f32>(src + 9 * plane), m22 = load<f32>(src + 10 * plane), m23 = load<f32>(src + 11 * plane);
        const m30 = load<f32>(src + 12 * plane), m31 = load<f32>(src + 13 * plane), m32 = load<f32>(src + 14 * plane), m33 = load<f32>(src + 15 * plane);
        // Gᵀ M: rows [r0 + (r1 + r2)/2, (r1 - r2)/2, (r1 + r2)/2 + r3].
        const h0: f32 = (m10 + m20) * 0.5, h1: f32 = (m11 + m21) * 0.5, h2: f32 = (m12 + m22) * 0.5, h3: f32 = (m13 + m23) * 0.5;
        const s00 = m00 + h0, s01 = m01 + h1, s02 = m02 + h2, s03 = m03 + h3;
        const s10: f32 = (m10 - m20) * 0.5, s11: f32 = (m11 - m21) * 0.5, s12: f32 = (m12 - m22) * 0.5, s13: f32 = (m13 - m23) * 0.5;
        const s20 = h0 + m30, s21 = h1 + m31, s22 = h2 + m32, s23 = h3 + m33;
        const dst = dw + (<usize>(((g * O + o) * I + i) * 9) << 2);
        shrink3(dst, s00, s01, s02, s03);
        shrink3(dst + 12, s10, s11, s12, s13);
        shrink3(dst + 24, s20, s21, s22, s23);
      }
    }
  }
}

// One row of (Gᵀ M) G: [p0 + (p1 + p2)/2, (p1 - p2)/2, (p1 + p2)/2 + p3].
@inline
function shrink3(dst: usize, p0: f32, p1: f32, p2: f32, p3: f32): void {
  const h: f32 = (p1 + p2) * 0.5;
  store<f32>(dst, p0 + h);
  store<f32>(dst, (p1 - p2) * 0.5, 4);
  store<f32>(dst, h + p3, 8);
}

// ---------------------------------------------------------------------------------------------
// Winograd F(2x2, 5x5) for the forward pass of 5x5 convolutions of stride 1 (AlexNet's conv2):
// 6x6 tiles, 36 multiplies per 2x2 outputs and input channel instead of 100. Toom-Cook at the points 0, 1,
// -1, 2, -2 and infinity (the same Bᵀ as F(4x4, 3x3)). The input and output transforms are
// written out (bt6, at6); the kernel transform, once per weight tensor, is a generic product.
//   Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G  = [1/4 0 0 0 0; -1/6 x5; -1/6 1/6 -1/6 1/6 -1/6; 1/24 1/12 1/6 1/3 2/3;
//         1/24 -1/12 1/6 -1/3 2/3; 0 0 0 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 1]
// Layouts as for F(2x2, 3x3), with 36 planes instead of 16. The forward pass and the data
// gradient use it (src/kernels/winograd.ts says from how many channels); the input and output
// transforms run in SIMD over 4 tiles at a time, which made conv2's forward pass 1.5x faster
// than with the scalar ones and the data gradient pay at all.

const G6: StaticArray<f32> = [
  0.25, 0, 0, 0, 0,
  -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6,
  -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
  1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3,
  1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3,
  0, 0, 0, 0, 1,
];

// The kernel transform G g Gᵀ is two small products (row-major, in `scratch`):
// Y[i][j] = sum_k L[i][k] X[k][j]  (L rows x inner, X inner x cols)
@inline
function leftMul(L: usize, rows: i32, inner: i32, X: usize, cols: i32, Y: usize): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s: f32 = 0;
      for (let k = 0; k < inner; k++) s += load<f32>(L + (<usize>(i * inner + k) << 2)) * load<f32>(X + (<usize>(k * cols + j) << 2));
      store<f32>(Y + (<usize>(i * cols + j) << 2), s);
    }
  }
}
// Y[i][j] = sum_k X[i][k] R[j][k]  (X rows x inner, R cols x inner: X Rᵀ)
@inline
function rightMulT(X: usize, rows: i32, inner: i32, R: usize, cols: i32, Y: usize): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s: f32 = 0;
      for (let k = 0; k < inner; k++) s += load<f32>(X + (<usize>(i * inner + k) << 2)) * load<f32>(R + (<usize>(j * inner + k) << 2));
      store<f32>(Y + (<usize>(i * cols + j) << 2), s);
    }
  }
}

// Bᵀ p for one row or column of 6 values at `src` (byte stride `ss`), written to `dst` (stride `ds`).
@inline
function bt6(src: usize, ss: usize, dst: usize, ds: usize): void {
  const p0 = load<f32>(src), p1 = load<f32>(src + ss), p2 = load<f32>(src + 2 * ss);
  const p3 = load<f32>(src + 3 * ss), p4 = load<f32>(src + 4 * ss), p5 = load<f32>(src + 5 * ss);
  const a: f32 = p4 - 4 * p2, b: f32 = p3 - 4 * p1, c: f32 = p4 - p2, e: f32 = 2 * (p3 - p1);
  store<f32>(dst, 4 * p0 - 5 * p2 + p4);
  store<f32>(dst + ds, a + b);
  store<f32>(dst + 2 * ds, a - b);
  store<f32>(dst + 3 * ds, c + e);
  store<f32>(dst + 4 * ds, c - e);
  store<f32>(dst + 5 * ds, 4 * p1 - 5 * p3 + p5);
}


// Aᵀ m for 6 values: [m0 + m1 + m2 + m3 + m4, m1 - m2 + 2 (m3 - m4) + m5].
@inline
function at6(src: usize, ss: usize, dst: usize, ds: usize): void {
  const m0 = load<f32>(src), m1 = load<f32>(src + ss), m2 = load<f32>(src + 2 * ss);
  const m3 = load<f32>(src + 3 * ss), m4 = load<f32>(src + 4 * ss), m5 = load<f32>(src + 5 * ss);
  store<f32>(dst, m0 + m1 + m2 + m3 + m4);
  store<f32>(dst + ds, m1 - m2 + 2 * (m3 - m4) + m5);
}

/** U = G g Gᵀ (6x6 from 5x5) for output channels [o0, o1); `flip` as in winogradWeights. */
export function winograd5Weights(w: usize, u: usize, groups: i32, O: i32, I: i32, flip: i32, o0: i32, o1: i32, scratch: usize): void {
  const g = scratch, t = scratch + 128, out = scratch + 256;
  const G = changetype<usize>(G6);
  const plane = <usize>(O * I) << 2;
  for (let gr = 0; gr < groups; gr++) {
    for (let o = o0; o < o1; o++) {
      for (let i = 0; i < I; i++) {
        const k = flip
          ? w + (<usize>(((gr * I + i) * O + o) * 25) << 2)
          : w + (<usize>(((gr * O + o) * I + i) * 25) << 2);
        for (let q = 0; q < 25; q++) store<f32>(g + (<usize>q << 2), load<f32>(k + (<usize>(flip ? 24 - q : q) << 2)));
        leftMul(G, 6, 5, g, 5, t); // 6x5
        rightMulT(t, 6, 5, G, 6, out); // 6x6
        const dst = u + (<usize>((gr * 36 * O + o) * I + i) << 2);
        for (let e = 0; e < 36; e++) store<f32>(dst + <usize>e * plane, load<f32>(out + (<usize>e << 2)));
      }
    }
  }
}

// Bᵀ p on 4 lanes at once (4 tiles, or 4 columns of one row of tiles).
// @ts-ignore: decorator
@inline
function bt6v(p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128, dst: usize, ds: usize): void {
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  const a = f32x4.sub(p4, f32x4.mul(four, p2)), b = f32x4.sub(p3, f32x4.mul(four, p1));
  const c = f32x4.sub(p4, p2), e = f32x4.mul(two, f32x4.sub(p3, p1));
  v128.store(dst, f32x4.add(f32x4.sub(f32x4.mul(four, p0), f32x4.mul(five, p2)), p4));
  v128.store(dst + ds, f32x4.add(a, b));
  v128.store(dst + 2 * ds, f32x4.sub(a, b));
  v128.store(dst + 3 * ds, f32x4.add(c, e));
  v128.store(dst + 4 * ds, f32x4.sub(c, e));
  v128.store(dst + 5 * ds, f32x4.add(f32x4.sub(f32x4.mul(four, p1), f32x4.mul(five, p3)), p5));
}

// The lanes at even offsets 0, 2, 4, 6 from `at` (tile starts two columns apart).
// @ts-ignore: decorator
@inline
function evens(at: usize): v128 {
  return v128.shuffle<f32>(v128.load(at), v128.load(at, 16), 0, 2, 4, 6);
}

// Bᵀ down the 6 input rows y0 .. y0 + 5 of one plane (`src`), for every column of the zero-padded
// width at once: the rows are copied into `rows` with their padding (zero outside the plane;
// column q holds input column q - padLeft, the image's columns being [copyLo, copyHi)), then
// combined 4 columns at a time into the 6 rows of `bd`. The input transforms of F(2x2, 5x5)
// and F(4x4, 3x3) then read their tiles across `bd`.
// @ts-ignore: decorator
@inline
function padRowsBt(
  src: usize, y0: i32, height: i32, width: i32, padLeft: i32, copyLo: i32, copyHi: i32,
  padded: i32, rows: usize, rowBytes: usize, bd: usize,
): void {
  for (let r = 0; r < 6; r++) {
    const row = rows + <usize>r * rowBytes;
    const y = y0 + r;
    if (y < 0 || y >= height || copyLo >= copyHi) {
      memory.fill(row, 0, rowBytes);
      continue;
    }
    for (let q = 0; q < copyLo; q++) store<f32>(row + (<usize>q << 2), 0);
    memory.copy(row + (<usize>copyLo << 2), src + (<usize>(y * width + copyLo - padLeft) << 2), <usize>(copyHi - copyLo) << 2);
    for (let q = copyHi; q < padded; q++) store<f32>(row + (<usize>q << 2), 0);
  }
  for (let q = 0; q < padded; q += 4) {
    const at = rows + (<usize>q << 2);
    bt6v(
      v128.load(at), v128.load(at + rowBytes), v128.load(at + 2 * rowBytes),
      v128.load(at + 3 * rowBytes), v128.load(at + 4 * rowBytes), v128.load(at + 5 * rowBytes),
      bd + (<usize>q << 2), rowBytes,
    );
  }
}

// V = Bᵀ d B on 6x6 tiles `step` (2 or 4: a constant once inlined) apart, for input channels
// [c0, c1) (counted over all groups) of images [nStart, nStart + count): per row of tiles, Bᵀ
// down the 6 input rows over the zero-padded width (padRowsBt), then across 4 tiles at a time
// (their columns gathered by even-lane shuffles at step 2, by 4x4 transposes at step 4), written
// to V as 4 consecutive tiles per plane; the rest of a row of tiles one by one.
// @ts-ignore: decorator
@inline
function input6(
  step: i32, x: usize, v: usize, nStart: i32, count: i32, c0: i32, c1: i32, inChannels: i32, I: i32,
  height: i32, width: i32, padTop: i32, padLeft: i32, tilesH: i32, tilesW: i32, scratch: usize,
): void {
  const T = count * tilesH * tilesW;
  const plane = tilePlane(I, T);
  // Padded rows: column q of a row holds input column q - padLeft; 8 floats of slack for the
  // vector reads past the last tile.
  const padded = (step * tilesW + 4 + 8 + 3) & ~3;
  const rowBytes = <usize>padded << 2;
  const cols = scratch + 256; // step 4: 6 columns x 4 tiles, gathered
  const rows = scratch + 1024; // 6 input rows, then the 6 rows of Bᵀ d
  const bd = rows + 6 * rowBytes;
  const copyLo = max(0, padLeft), copyHi = min(padded, width + padLeft);
  for (let c = c0; c < c1; c++) {
    const gr = c / I;
    const i = c - gr * I;
    for (let n = 0; n < count; n++) {
      const src = x + (<usize>(((nStart + n) * inChannels + c) * height * width) << 2);
      for (let ty = 0; ty < tilesH; ty++) {
        padRowsBt(src, step * ty - padTop, height, width, padLeft, copyLo, copyHi, padded, rows, rowBytes, bd);
        const tile0 = (n * tilesH + ty) * tilesW;
        let tx = 0;
        for (; tx + 4 <= tilesW; tx += 4) {
          const dst = v + <usize>(gr * 36) * plane + (<usize>(i * T + tile0 + tx) << 2);
          for (let r = 0; r < 6; r++) {
            const at = bd + <usize>r * rowBytes + (<usize>(step * tx) << 2);
            if (step == 2) {
              bt6v(evens(at), evens(at + 4), evens(at + 8), evens(at + 12), evens(at + 16), evens(at + 20), dst + <usize>(r * 6) * plane, plane);
            } else {
              const l1 = v128.load(at, 16), l2 = v128.load(at, 32), l3 = v128.load(at, 48);
              // Columns 0-3 of the 4 tiles, then columns 4 and 5 (columns 0 and 1 one tile on).
              transpose4(v128.load(at), l1, l2, l3, cols, 16);
              transpose4(l1, l2, l3, v128.load(at, 64), cols + 64, 16);
              bt6v(
                v128.load(cols), v128.load(cols, 16), v128.load(cols, 32), v128.load(cols, 48),
                v128.load(cols, 64), v128.load(cols, 80), dst + <usize>(r * 6) * plane, plane,
              );
            }
          }
        }
        for (; tx < tilesW; tx++) {
          const dst = v + <usize>(gr * 36) * plane + (<usize>(i * T + tile0 + tx) << 2);
          for (let r = 0; r < 6; r++) bt6(bd + <usize>r * rowBytes + (<usize>(step * tx) << 2), 4, dst + <usize>(r * 6) * plane, plane);
        }
      }
    }
  }
}

/** V = Bᵀ d B (6x6 tiles, step 2: F(2x2, 5x5)) for input channels [c0, c1); as winogradInput. */
export function winograd5Input(
  x: usize, v: usize, nStart: i32, count: i32, c0: i32, c1: i32, inChannels: i32, I: i32,
  height: i32, width: i32, padTop: i32, padLeft: i32, tilesH: i32, tilesW: i32, scratch: usize,
): void {
  input6(2, x, v, nStart, count, c0, c1, inChannels, I, height, width, padTop, padLeft, tilesH, tilesW, scratch);
}

// Aᵀ m on 4 lanes: [m0 + m1 + m2 + m3 + m4, m1 - m2 + 2 (m3 - m4) + m5].
// @ts-ignore: decorator
@inline
function at6First(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.add(m0, m1), f32x4.add(m2, m3)), m4);
}
// @ts-ignore: decorator
@inline
function at6Second(m1: v128, m2: v128, m3: v128, m4: v128, m5: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.sub(m1, m2), f32x4.mul(f32x4.splat(2), f32x4.sub(m3, m4))), m5);
}

/**
 * y = Aᵀ M A (2x2 from 6x6) for output channels [c0, c1); as winogradOutput. Runs in SIMD over
 * 4 tiles of a row at a time (their 8 outputs per row are adjacent in y); the rest of a row of
 * tiles, and the tiles cut by the right border, one at a time.
 */
export function winograd5Output(
  m: usize, y: usize, nStart: i32, count: i32, c0: i32, c1: i32, outChannels: i32, O: i32,
  outH: i32, outW: i32, tilesH: i32, tilesW: i32, bias: usize, flags: i32, scratch: usize,
): void {
  const t = scratch + 256, out = scratch + 512;
  const T = count * tilesH * tilesW;
  const plane = tilePlane(O, T);
  // Groups of 4 tiles whose 8 columns all lie inside y.
  const fullGroups = min(tilesW, outW >> 1) >> 2;
  for (let c = c0; c < c1; c++) {
    const gr = c / O;
    const o = c - gr * O;
    for (let n = 0; n < count; n++) {
      const dst = y + (<usize>(((nStart + n) * outChannels + c) * outH * outW) << 2);
      for (let ty = 0; ty < tilesH; ty++) {
        const oy = 2 * ty;
        const hasBelow = oy + 1 < outH;
        let tx = 0;
        for (; tx < fullGroups * 4; tx += 4) {
          const src = m + <usize>(gr * 36) * plane + (<usize>(o * T + (n * tilesH + ty) * tilesW + tx) << 2);
          // Aᵀ down each of the 6 columns of the tile (rows 6 planes apart), 4 tiles per vector.
          let s00 = f32x4.splat(0), s01 = s00, s02 = s00, s03 = s00, s04 = s00, s05 = s00;
          let s10 = s00, s11 = s00, s12 = s00, s13 = s00, s14 = s00, s15 = s00;
          for (let q = 0; q < 6; q++) {
            const at = src + <usize>q * plane;
            const m0 = v128.load(at), m1 = v128.load(at + 6 * plane), m2 = v128.load(at + 12 * plane);
            const m3 = v128.load(at + 18 * plane), m4 = v128.load(at + 24 * plane), m5 = v128.load(at + 30 * plane);
            const first = at6First(m0, m1, m2, m3, m4);
            const second = at6Second(m1, m2, m3, m4, m5);
            if (q == 0) { s00 = first; s10 = second; }
            else if (q == 1) { s01 = first; s11 = second; }
            else if (q == 2) { s02 = first; s12 = second; }
            else if (q == 3) { s03 = first; s13 = second; }
            else if (q == 4) { s04 = first; s14 = second; }
            else { s05 = first; s15 = second; }
          }
          const o00 = at6First(s00, s01, s02, s03, s04), o01 = at6Second(s01, s02, s03, s04, s05);
          const row = dst + (<usize>(oy * outW + 2 * tx) << 2);
          v128.store(row, v128.shuffle<f32>(o00, o01, 0, 4, 1, 5));
          v128.store(row, v128.shuffle<f32>(o00, o01, 2, 6, 3, 7), 16);
          if (hasBelow) {
            const o10 = at6First(s10, s11, s12, s13, s14), o11 = at6Second(s11, s12, s13, s14, s15);
            const below = row + (<usize>outW << 2);
            v128.store(below, v128.shuffle<f32>(o10, o11, 0, 4, 1, 5));
            v128.store(below, v128.shuffle<f32>(o10, o11, 2, 6, 3, 7), 16);
          }
        }
        for (; tx < tilesW; tx++) {
          const src = m + <usize>(gr * 36) * plane + (<usize>(o * T + (n * tilesH + ty) * tilesW + tx) << 2);
          // Aᵀ M on the columns (6 planes apart), then on the rows of the 2x6 result.
          for (let q = 0; q < 6; q++) at6(src + <usize>q * plane, 6 * plane, t + (<usize>q << 2), 24);
          at6(t, 4, out, 4);
          at6(t + 24, 4, out + 8, 4);
          const ox = 2 * tx;
          const row = dst + (<usize>(oy * outW + ox) << 2);
          const right = ox + 1 < outW;
          store<f32>(row, load<f32>(out));
          if (right) store<f32>(row, load<f32>(out, 4), 4);
          if (hasBelow) {
            const below = row + (<usize>outW << 2);
            store<f32>(below, load<f32>(out, 8));
            if (right) store<f32>(below, load<f32>(out, 12), 4);
          }
        }
      }
      epilogue(dst, outH * outW, bias, c, flags);
    }
  }
}

// The filter gradient by F(2x2, 5x5), as winogradGradOutput and winogradFilterOutput for 3x3:
// D = A dy Aᵀ (6x6 from each 2x2 block of dy), 36 GEMMs D_e V_eᵀ, and dW = Gᵀ M G (5x5).
//   A = [1 0; 1 1; 1 -1; 1 2; 1 -2; 0 1]

// Gᵀ (5x6), for Gᵀ M G.
const G6T: StaticArray<f32> = [
  0.25, -1.0 / 6, -1.0 / 6, 1.0 / 24, 1.0 / 24, 0,
  0, -1.0 / 6, 1.0 / 6, 1.0 / 12, -1.0 / 12, 0,
  0, -1.0 / 6, -1.0 / 6, 1.0 / 6, 1.0 / 6, 0,
  0, -1.0 / 6, 1.0 / 6, 1.0 / 3, -1.0 / 3, 0,
  0, -1.0 / 6, -1.0 / 6, 2.0 / 3, 2.0 / 3, 1,
];

// One row [p, q] of A dy times Aᵀ, [p, p + q, p - q, p + 2q, p - 2q, q], 4 tiles per vector,
// to 6 consecutive planes; returns the next row's start.
// @ts-ignore: decorator
@inline
function expand6v(dst: usize, plane: usize, p: v128, q: v128): usize {
  const q2 = f32x4.add(q, q);
  v128.store(dst, p);
  v128.store(dst + plane, f32x4.add(p, q));
  v128.store(dst + 2 * plane, f32x4.sub(p, q));
  v128.store(dst + 3 * plane, f32x4.add(p, q2));
  v128.store(dst + 4 * plane, f32x4.sub(p, q2));
  v128.store(dst + 5 * plane, q);
  return dst + 6 * plane;
}

// The same on one tile.
// @ts-ignore: decorator
@inline
function expand6(dst: usize, plane: usize, p: f32, q: f32): usize {
  store<f32>(dst, p);
  store<f32>(dst + plane, p + q);
  store<f32>(dst + 2 * plane, p - q);
  store<f32>(dst + 3 * plane, p + 2 * q);
  store<f32>(dst + 4 * plane, p - 2 * q);
  store<f32>(dst + 5 * plane, q);
  return dst + 6 * plane;
}

/**
 * D = A dy Aᵀ (6x6 from 2x2) for output channels [c0, c1) of images [nStart, nStart + count),
 * layout D [groups][36][O][T]; outside dy reads as zero. 4 tiles at a time where their 8
 * columns lie inside dy.
 */
export function winograd5GradOutput(
  dy: usize, d: usize, nStart: i32, count: i32, c0: i32, c1: i32, outChannels: i32, O: i32,
  outH: i32, outW: i32, tilesH: i32, tilesW: i32,
): void {
  const T = count * tilesH * tilesW;
  const plane = tilePlane(O, T);
  const fullGroups = min(tilesW, outW >> 1) >> 2;
  const zero = f32x4.splat(0);
  for (let c = c0; c < c1; c++) {
    const g = c / O;
    const o = c - g * O;
    for (let n = 0; n < count; n++) {
      const src = dy + (<usize>(((nStart + n) * outChannels + c) * outH * outW) << 2);
      for (let ty = 0; ty < tilesH; ty++) {
        const oy = 2 * ty;
        const below = oy + 1 < outH;
        let tx = 0;
        for (; tx < fullGroups * 4; tx += 4) {
          const at = src + (<usize>(oy * outW + 2 * tx) << 2);
          const r0 = v128.load(at), r1 = v128.load(at, 16);
          const a = v128.shuffle<f32>(r0, r1, 0, 2, 4, 6), b = v128.shuffle<f32>(r0, r1, 1, 3, 5, 7);
          let cc = zero, dd = zero;
          if (below) {
            const next = at + (<usize>outW << 2);
            const s0 = v128.load(next), s1 = v128.load(next, 16);
            cc = v128.shuffle<f32>(s0, s1, 0, 2, 4, 6);
            dd = v128.shuffle<f32>(s0, s1, 1, 3, 5, 7);
          }
          const c2 = f32x4.add(cc, cc), d2 = f32x4.add(dd, dd);
          let dst = d + <usize>(g * 36) * plane + (<usize>(o * T + (n * tilesH + ty) * tilesW + tx) << 2);
          dst = expand6v(dst, plane, a, b);
          dst = expand6v(dst, plane, f32x4.add(a, cc), f32x4.add(b, dd));
          dst = expand6v(dst, plane, f32x4.sub(a, cc), f32x4.sub(b, dd));
          dst = expand6v(dst, plane, f32x4.add(a, c2), f32x4.add(b, d2));
          dst = expand6v(dst, plane, f32x4.sub(a, c2), f32x4.sub(b, d2));
          expand6v(dst, plane, cc, dd);
        }
        for (; tx < tilesW; tx++) {
          const ox = 2 * tx;
          const at = src + (<usize>(oy * outW + ox) << 2);
          const right = ox + 1 < outW;
          const a: f32 = load<f32>(at);
          const b: f32 = right ? load<f32>(at, 4) : 0;
          const cc: f32 = below ? load<f32>(at + (<usize>outW << 2)) : 0;
          const dd: f32 = right && below ? load<f32>(at + (<usize>outW << 2), 4) : 0;
          let dst = d + <usize>(g * 36) * plane + (<usize>(o * T + (n * tilesH + ty) * tilesW + tx) << 2);
          dst = expand6(dst, plane, a, b);
          dst = expand6(dst, plane, a + cc, b + dd);
          dst = expand6(dst, plane, a - cc, b - dd);
          dst = expand6(dst, plane, a + 2 * cc, b + 2 * dd);
          dst = expand6(dst, plane, a - 2 * cc, b - 2 * dd);
          expand6(dst, plane, cc, dd);
        }
      }
    }
  }
}

/**
 * dW = Gᵀ M G for output channels [o0, o1) of every group: M [groups][36][O][I] -> dW
 * [groups*O][I][5][5].
 */
export function winograd5FilterOutput(m: usize, dw: usize, groups: i32, O: i32, I: i32, o0: i32, o1: i32, scratch: usize): void {
  const tile = scratch, t = scratch + 256, out = scratch + 512;
  const GT = changetype<usize>(G6T);
  const plane = <usize>(O * I) << 2;
  for (let g = 0; g < groups; g++) {
    for (let o = o0; o < o1; o++) {
      for (let i = 0; i < I; i++) {
        const src = m + (<usize>((g * 36 * O + o) * I + i) << 2);
        for (let e = 0; e < 36; e++) store<f32>(tile + (<usize>e << 2), load<f32>(src + <usize>e * plane));
        leftMul(GT, 5, 6, tile, 6, t); // Gᵀ M: 5x6
        rightMulT(t, 5, 6, GT, 5, out); // (Gᵀ M) G: 5x5
        memory.copy(dw + (<usize>(((g * O + o) * I + i) * 25) << 2), out, 100);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Winograd F(4x4, 3x3) for 3x3 convolutions of stride 1 on maps where its 4x4 output tiles waste
// little (AlexNet's 13x13: 16 tiles of 36 products against F(2x2, 3x3)'s 49 of 16, 1.36x fewer
// multiply-adds). The same 6x6 input transform as F(2x2, 5x5) with tiles 4 apart; all
// transforms in SIMD over 4 tiles of a row.
//   G  = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]

const G43: StaticArray<f32> = [
  0.25, 0, 0,
  -1.0 / 6, -1.0 / 6, -1.0 / 6,
  -1.0 / 6, 1.0 / 6, -1.0 / 6,
  1.0 / 24, 1.0 / 12, 1.0 / 6,
  1.0 / 24, -1.0 / 12, 1.0 / 6,
  0, 0, 1,
];
const G43T: StaticArray<f32> = [
  0.25, -1.0 / 6, -1.0 / 6, 1.0 / 24, 1.0 / 24, 0,
  0, -1.0 / 6, 1.0 / 6, 1.0 / 12, -1.0 / 12, 0,
  0, -1.0 / 6, -1.0 / 6, 1.0 / 6, 1.0 / 6, 1,
];

// G p (6 from 3) on 4 lanes: [p0/4, -(p0 + p1 + p2)/6, -(p0 - p1 + p2)/6,
// p0/24 + p1/12 + p2/6, p0/24 - p1/12 + p2/6, p2], to 6 slots `ds` apart.
// @ts-ignore: decorator
@inline
function g43v(p0: v128, p1: v128, p2: v128, dst: usize, ds: usize): void {
  const s = f32x4.add(p0, p2);
  const sixth = f32x4.splat(-1.0 / 6);
  const t = f32x4.add(f32x4.mul(p0, f32x4.splat(1.0 / 24)), f32x4.mul(p2, f32x4.splat(1.0 / 6)));
  const h = f32x4.mul(p1, f32x4.splat(1.0 / 12));
  v128.store(dst, f32x4.mul(p0, f32x4.splat(0.25)));
  v128.store(dst + ds, f32x4.mul(f32x4.add(s, p1), sixth));
  v128.store(dst + 2 * ds, f32x4.mul(f32x4.sub(s, p1), sixth));
  v128.store(dst + 3 * ds, f32x4.add(t, h));
  v128.store(dst + 4 * ds, f32x4.sub(t, h));
  v128.store(dst + 5 * ds, p2);
}

/**
 * U = G g Gᵀ (6x6 from 3x3) for output channels [o0, o1); `flip` as in winogradWeights. In SIMD
 * over 4 input channels (adjacent in U); the last I % 4 by the generic products.
 */
export function winograd43Weights(w: usize, u: usize, groups: i32, O: i32, I: i32, flip: i32, o0: i32, o1: i32, scratch: usize): void {
  const g = scratch, t = scratch + 128, out = scratch + 256;
  const gv = scratch + 1024; // 9 vectors: the kernels of 4 input channels, lane by lane
  const tv = scratch + 1280; // G g: 6 rows x 3 columns of vectors
  const G = changetype<usize>(G43);
  const plane = <usize>(O * I) << 2;
  for (let gr = 0; gr < groups; gr++) {
    for (let o = o0; o < o1; o++) {
      let i = 0;
      for (; i + 4 <= I; i += 4) {
        for (let lane = 0; lane < 4; lane++) {
          const k = flip
            ? w + (<usize>(((gr * I + i + lane) * O + o) * 9) << 2)
            : w + (<usize>(((gr * O + o) * I + i + lane) * 9) << 2);
          for (let q = 0; q < 9; q++) store<f32>(gv + (<usize>((q << 2) + lane) << 2), load<f32>(k + (<usize>(flip ? 8 - q : q) << 2)));
        }
        // G down each column c of the kernel, then across each of the 6 rows into U's planes.
        for (let c = 0; c < 3; c++) g43v(v128.load(gv + (<usize>c << 4)), v128.load(gv + (<usize>(3 + c) << 4)), v128.load(gv + (<usize>(6 + c) << 4)), tv + (<usize>c << 4), 48);
        const dst = u + (<usize>((gr * 36 * O + o) * I + i) << 2);
        for (let e = 0; e < 6; e++) {
          const at = tv + <usize>e * 48;
          g43v(v128.load(at), v128.load(at, 16), v128.load(at, 32), dst + <usize>(e * 6) * plane, plane);
        }
      }
      for (; i < I; i++) {
        const k = flip
          ? w + (<usize>(((gr * I + i) * O + o) * 9) << 2)
          : w + (<usize>(((gr * O + o) * I + i) * 9) << 2);
        for (let q = 0; q < 9; q++) store<f32>(g + (<usize>q << 2), load<f32>(k + (<usize>(flip ? 8 - q : q) << 2)));
        leftMul(G, 6, 3, g, 3, t); // 6x3
        rightMulT(t, 6, 3, G, 6, out); // 6x6
        const dst = u + (<usize>((gr * 36 * O + o) * I + i) << 2);
        for (let e = 0; e < 36; e++) store<f32>(dst + <usize>e * plane, load<f32>(out + (<usize>e << 2)));
      }
    }
  }
}

/** V = Bᵀ d B (6x6 tiles, step 4: F(4x4, 3x3)) for input channels [c0, c1); as winogradInput. */
export function winograd43Input(
  x: usize, v: usize, nStart: i32, count: i32, c0: i32, c1: i32, inChannels: i32, I: i32,
  height: i32, width: i32, padTop: i32, padLeft: i32, tilesH: i32, tilesW: i32, scratch: usize,
): void {
  input6(4, x, v, nStart, count, c0, c1, inChannels, I, height, width, padTop, padLeft, tilesH, tilesW, scratch);
}

// Aᵀ m (4 from 6) on 4 lanes, written to dst, dst + ds, dst + 2 ds, dst + 3 ds.
// @ts-ignore: decorator
@inline
function at43v(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, ds: usize): void {
  const sum12 = f32x4.add(m1, m2), dif12 = f32x4.sub(m1, m2);
  const sum34 = f32x4.add(m3, m4), dif34 = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(m0, sum12), sum34));
  v128.store(dst + ds, f32x4.add(dif12, f32x4.mul(f32x4.splat(2), dif34)));
  v128.store(dst + 2 * ds, f32x4.add(sum12, f32x4.mul(f32x4.splat(4), sum34)));
  v128.store(dst + 3 * ds, f32x4.add(f32x4.add(dif12, f32x4.mul(f32x4.splat(8), dif34)), m5));
}

// The same on one value per row.
// @ts-ignore: decorator
@inline
function at43(src: usize, ss: usize, dst: usize, ds: usize): void {
  const m0 = load<f32>(src), m1 = load<f32>(src + ss), m2 = load<f32>(src + 2 * ss);
  const m3 = load<f32>(src + 3 * ss), m4 = load<f32>(src + 4 * ss), m5 = load<f32>(src + 5 * ss);
  const sum12: f32 = m1 + m2, dif12: f32 = m1 - m2, sum34: f32 = m3 + m4, dif34: f32 = m3 - m4;
  store<f32>(dst, m0 + sum12 + sum34);
  store<f32>(dst + ds, dif12 + 2 * dif34);
  store<f32>(dst + 2 * ds, sum12 + 4 * sum34);
  store<f32>(dst + 3 * ds, dif12 + 8 * dif34 + m5);
}

/**
 * y = Aᵀ M A (4x4 from 6x6) for output channels [c0, c1); as winogradOutput. 4 tiles at a time
 * (each output row one 4x4 transpose; columns past y's border go through scratch and are
 * dropped), the rest one by one.
 */
export function winograd43Output(
  m: usize, y: usize, nStart: i32, count: i32, c0: i32, c1: i32, outChannels: i32, O: i32,
  outH: i32, outW: i32, tilesH: i32, tilesW: i32, bias: usize, flags: i32, scratch: usize,
): void {
  const s = scratch + 1024; // Aᵀ M: 4 rows x 6 columns of vectors (or of floats)
  const out = scratch + 2048; // 4 x 4 vectors
  const cut = scratch + 3072; // one output row of 4 tiles, when the border cuts it
  const T = count * tilesH * tilesW;
  const plane = tilePlane(O, T);
  for (let c = c0; c < c1; c++) {
    const gr = c / O;
    const o = c - gr * O;
    for (let n = 0; n < count; n++) {
      const dst = y + (<usize>(((nStart + n) * outChannels + c) * outH * outW) << 2);
      for (let ty = 0; ty < tilesH; ty++) {
        const oy = 4 * ty;
        const rowsInside = min(4, outH - oy);
        let tx = 0;
        for (; tx + 4 <= tilesW; tx += 4) {
          const src = m + <usize>(gr * 36) * plane + (<usize>(o * T + (n * tilesH + ty) * tilesW + tx) << 2);
          const inside = min(16, outW - 4 * tx);
          // Aᵀ down each column q (rows 6 planes apart) into s[r][q].
          for (let q = 0; q < 6; q++) {
            const at = src + <usize>q * plane;
            at43v(
              v128.load(at), v128.load(at + 6 * plane), v128.load(at + 12 * plane),
              v128.load(at + 18 * plane), v128.load(at + 24 * plane), v128.load(at + 30 * plane),
              s + (<usize>q << 4), 96,
            );
          }
          // Then across each row r of s into out[r][0..3].
          for (let r = 0; r < 4; r++) {
            const at = s + <usize>r * 96;
            at43v(
              v128.load(at), v128.load(at, 16), v128.load(at, 32), v128.load(at, 48), v128.load(at, 64), v128.load(at, 80),
              out + <usize>r * 64, 16,
            );
          }
          for (let r = 0; r < rowsInside; r++) {
            const at = out + <usize>r * 64;
            const row = dst + (<usize>((oy + r) * outW + 4 * tx) << 2);
            transpose4(v128.load(at), v128.load(at, 16), v128.load(at, 32), v128.load(at, 48), inside == 16 ? row : cut, 16);
            if (inside < 16) memory.copy(row, cut, <usize>inside << 2);
          }
        }
        for (; tx < tilesW; tx++) {
          const src = m + <usize>(gr * 36) * plane + (<usize>(o * T + (n * tilesH + ty) * tilesW + tx) << 2);
          for (let q = 0; q < 6; q++) at43(src + <usize>q * plane, 6 * plane, s + (<usize>q << 2), 24);
          for (let r = 0; r < 4; r++) at43(s + <usize>r * 24, 4, out + <usize>r * 16, 4);
          const ox = 4 * tx;
          const colsInside = min(4, outW - ox);
          for (let r = 0; r < rowsInside; r++) {
            const row = dst + (<usize>((oy + r) * outW + ox) << 2);
            for (let q = 0; q < colsInside; q++) store<f32>(row + (<usize>q << 2), load<f32>(out + (<usize>(r * 4 + q) << 2)));
          }
        }
      }
      epilogue(dst, outH * outW, bias, c, flags);
    }
  }
}

// A p for 4 values: [p0, p0 + p1 + p2 + p3, p0 - p1 + p2 - p3, p0 + 2p1 + 4p2 + 8p3,
// p0 - 2p1 + 4p2 - 8p3, p3], 4 lanes, to 6 slots `ds` apart.
// @ts-ignore: decorator
@inline
function a43v(p0: v128, p1: v128, p2: v128, p3: v128, dst: usize, ds: usize): void {
  const even = f32x4.add(p0, p2), odd = f32x4.add(p1, p3);
  const even4 = f32x4.add(p0, f32x4.mul(f32x4.splat(4), p2));
  const odd8 = f32x4.add(f32x4.add(p1, p1), f32x4.mul(f32x4.splat(8), p3));
  v128.store(dst, p0);
  v128.store(dst + ds, f32x4.add(even, odd));
  v128.store(dst + 2 * ds, f32x4.sub(even, odd));
  v128.store(dst + 3 * ds, f32x4.add(even4, odd8));
  v128.store(dst + 4 * ds, f32x4.sub(even4, odd8));
  v128.store(dst + 5 * ds, p3);
}

/**
 * D = A dy Aᵀ (6x6 from 4x4) for output channels [c0, c1) of images [nStart, nStart + count),
 * layout D [groups][36][O][T]; outside dy reads as zero. Each tile's 4x4 block of dy is
 * gathered into scratch (4 tiles at a time by 4x4 transposes; a row cut by the border is
 * copied and zero-filled first).
 */
export function winograd43GradOutput(
  dy: usize, d: usize, nStart: i32, count: i32, c0: i32, c1: i32, outChannels: i32, O: i32,
  outH: i32, outW: i32, tilesH: i32, tilesW: i32, scratch: usize,
): void {
  const T = count * tilesH * tilesW;
  const plane = tilePlane(O, T);
  const block = scratch + 1024; // p[r][q]: 16 vectors (4 tiles) or 16 floats (one)
  const half = scratch + 2048; // A p down the rows: e[row 0..5][q 0..3]
  const cut = scratch + 3072 + 128; // one row of dy for 4 tiles, zero past the border
  const zero = f32x4.splat(0);
  for (let c = c0; c < c1; c++) {
    const g = c / O;
    const o = c - g * O;
    for (let n = 0; n < count; n++) {
      const src = dy + (<usize>(((nStart + n) * outChannels + c) * outH * outW) << 2);
      for (let ty = 0; ty < tilesH; ty++) {
        const oy = 4 * ty;
        const rowsInside = min(4, outH - oy);
        let tx = 0;
        for (; tx + 4 <= tilesW; tx += 4) {
          const inside = min(16, outW - 4 * tx);
          for (let r = 0; r < 4; r++) {
            const dstRow = block + (<usize>r << 6);
            if (r < rowsInside) {
              let at = src + (<usize>((oy + r) * outW + 4 * tx) << 2);
              if (inside < 16) {
                memory.fill(cut, 0, 64);
                memory.copy(cut, at, <usize>inside << 2);
                at = cut;
              }
              transpose4(v128.load(at), v128.load(at, 16), v128.load(at, 32), v128.load(at, 48), dstRow, 16);
            } else {
              v128.store(dstRow, zero); v128.store(dstRow, zero, 16); v128.store(dstRow, zero, 32); v128.store(dstRow, zero, 48);
            }
          }
          // A down each column q, then A across each of the 6 rows, straight into D's planes.
          for (let q = 0; q < 4; q++) {
            const at = block + (<usize>q << 4);
            a43v(v128.load(at), v128.load(at, 64), v128.load(at, 128), v128.load(at, 192), half + (<usize>q << 4), 64);
          }
          const dst = d + <usize>(g * 36) * plane + (<usize>(o * T + (n * tilesH + ty) * tilesW + tx) << 2);
          for (let e = 0; e < 6; e++) {
            const at = half + (<usize>e << 6);
            a43v(v128.load(at), v128.load(at, 16), v128.load(at, 32), v128.load(at, 48), dst + <usize>(e * 6) * plane, plane);
          }
        }
        for (; tx < tilesW; tx++) {
          const ox = 4 * tx;
          const colsInside = min(4, outW - ox);
          for (let r = 0; r < 4; r++) {
            for (let q = 0; q < 4; q++) {
              const v: f32 = r < rowsInside && q < colsInside ? load<f32>(src + (<usize>((oy + r) * outW + ox + q) << 2)) : 0;
              store<f32>(block + (<usize>(r * 4 + q) << 2), v);
            }
          }
          const dst = d + <usize>(g * 36) * plane + (<usize>(o * T + (n * tilesH + ty) * tilesW + tx) << 2);
          // The same arithmetic one tile per lane 0 (the other lanes unused).
          for (let q = 0; q < 4; q++) {
            const at = block + (<usize>q << 2);
            a43v(
              f32x4.splat(load<f32>(at)), f32x4.splat(load<f32>(at, 16)), f32x4.splat(load<f32>(at, 32)), f32x4.splat(load<f32>(at, 48)),
              half + (<usize>q << 4), 64,
            );
          }
          for (let e = 0; e < 6; e++) {
            const at = half + (<usize>e << 6);
            a43v(v128.load(at), v128.load(at, 16), v128.load(at, 32), v128.load(at, 48), scratch + 3072, 16);
            for (let f = 0; f < 6; f++) store<f32>(dst + <usize>(e * 6 + f) * plane, load<f32>(scratch + 3072 + (<usize>f << 4)));
          }
        }
      }
    }
  }
}

// Gᵀ m (3 from 6) on 4 lanes: [m0/4 - (m1 + m2)/6 + (m3 + m4)/24, (m2 - m1)/6 + (m3 - m4)/12,
// (m3 + m4 - m1 - m2)/6 + m5].
// @ts-ignore: decorator
@inline
function gt43v(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, ds: usize): void {
  const sum12 = f32x4.add(m1, m2), sum34 = f32x4.add(m3, m4);
  const sixth = f32x4.splat(1.0 / 6);
  v128.store(dst, f32x4.add(f32x4.sub(f32x4.mul(m0, f32x4.splat(0.25)), f32x4.mul(sum12, sixth)), f32x4.mul(sum34, f32x4.splat(1.0 / 24))));
  v128.store(dst + ds, f32x4.add(f32x4.mul(f32x4.sub(m2, m1), sixth), f32x4.mul(f32x4.sub(m3, m4), f32x4.splat(1.0 / 12))));
  v128.store(dst + 2 * ds, f32x4.add(f32x4.mul(f32x4.sub(sum34, sum12), sixth), m5));
}

/**
 * dW = Gᵀ M G for output channels [o0, o1) of every group: M [groups][36][O][I] -> dW
 * [groups*O][I][3][3]. In SIMD over 4 input channels; the last I % 4 by the generic products.
 */
export function winograd43FilterOutput(m: usize, dw: usize, groups: i32, O: i32, I: i32, o0: i32, o1: i32, scratch: usize): void {
  const tile = scratch, t = scratch + 256, out = scratch + 512;
  const tv = scratch + 1024; // Gᵀ M: 3 rows x 6 columns of vectors
  const kv = scratch + 1536; // the 9 results, a vector each
  const GT = changetype<usize>(G43T);
  const plane = <usize>(O * I) << 2;
  for (let g = 0; g < groups; g++) {
    for (let o = o0; o < o1; o++) {
      let i = 0;
      for (; i + 4 <= I; i += 4) {
        const src = m + (<usize>((g * 36 * O + o) * I + i) << 2);
        for (let q = 0; q < 6; q++) {
          const at = src + <usize>q * plane;
          gt43v(
            v128.load(at), v128.load(at + 6 * plane), v128.load(at + 12 * plane),
            v128.load(at + 18 * plane), v128.load(at + 24 * plane), v128.load(at + 30 * plane),
            tv + (<usize>q << 4), 96,
          );
        }
        for (let r = 0; r < 3; r++) {
          const at = tv + <usize>r * 96;
          gt43v(v128.load(at), v128.load(at, 16), v128.load(at, 32), v128.load(at, 48), v128.load(at, 64), v128.load(at, 80), kv + <usize>r * 48, 16);
        }
        // The 4 channels' kernels are 36 adjacent floats of dW.
        const dst = dw + (<usize>(((g * O + o) * I + i) * 9) << 2);
        for (let lane = 0; lane < 4; lane++) {
          for (let q = 0; q < 9; q++) store<f32>(dst + (<usize>(lane * 9 + q) << 2), load<f32>(kv + (<usize>((q << 2) + lane) << 2)));
        }
      }
      for (; i < I; i++) {
        const src = m + (<usize>((g * 36 * O + o) * I + i) << 2);
        for (let e = 0; e < 36; e++) store<f32>(tile + (<usize>e << 2), load<f32>(src + <usize>e * plane));
        leftMul(GT, 3, 6, tile, 6, t); // Gᵀ M: 3x6
        rightMulT(t, 3, 6, GT, 3, out); // (Gᵀ M) G: 3x3
        memory.copy(dw + (<usize>(((g * O + o) * I + i) * 9) << 2), out, 36);
      }
    }
  }
}
