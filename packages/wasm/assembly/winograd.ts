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
// so that U_e, V_e and M_e are row-major matrices and the GEMM needs no packing of its own.
// The work is split over threads by channel (transforms) and by (group, e) (GEMMs).
import { sgemm } from './index';

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
  const plane = <usize>(I * T) << 2;
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
          let dst = v + (<usize>((g * 16 * I + i) * T + t) << 2);
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

/** M_e = U_e V_e for the (group, e) pairs [w0, w1) of [0, groups * 16). */
export function winogradGemm(u: usize, v: usize, m: usize, O: i32, I: i32, T: i32, w0: i32, w1: i32, scratch: usize): void {
  for (let item = w0; item < w1; item++) {
    sgemm(
      O, T, I,
      u + (<usize>(item * O * I) << 2), I, 1,
      v + (<usize>(item * I * T) << 2), T, 1,
      m + (<usize>(item * O * T) << 2), T, 0, 0, T, scratch,
    );
  }
}

/**
 * y = Aᵀ M A for output channels [c0, c1) (over all groups) of images [nStart, nStart + count)
 * of y [N][outChannels][outH][outW]; the last tile row and column are cut at the border.
 */
export function winogradOutput(
  m: usize, y: usize, nStart: i32, count: i32, c0: i32, c1: i32, outChannels: i32, O: i32,
  outH: i32, outW: i32, tilesH: i32, tilesW: i32,
): void {
  const T = count * tilesH * tilesW;
  const plane = <usize>(O * T) << 2;
  for (let c = c0; c < c1; c++) {
    const g = c / O;
    const o = c - g * O;
    for (let n = 0; n < count; n++) {
      const dst = y + (<usize>(((nStart + n) * outChannels + c) * outH * outW) << 2);
      for (let ty = 0; ty < tilesH; ty++) {
        for (let tx = 0; tx < tilesW; tx++) {
          const t = (n * tilesH + ty) * tilesW + tx;
          let src = m + (<usize>((g * 16 * O + o) * T + t) << 2);
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
  const plane = <usize>(O * T) << 2;
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
          let dst = d + (<usize>((g * 16 * O + o) * T + t) << 2);
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
      d + (<usize>(item * O * T) << 2), T, 1,
      v + (<usize>(item * I * T) << 2), 1, T,
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
