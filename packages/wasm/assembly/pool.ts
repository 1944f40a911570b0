// Pooling and local response normalization over NCHW planes, PyTorch semantics (see the
// reference backend in @gpunet/tensor for the readable loops these follow).

/**
 * y[plane, oy, ox] = max over the window of x. Each window is clipped to the image once, and the
 * taps use f32.max, which returns NaN when either side is NaN, as PyTorch does. Padding is never read.
 */
export function maxPool(
  x: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, y: usize,
): void {
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      // First and last tap rows inside the image.
      const kyLo = y0 >= 0 ? 0 : (-y0 + dh - 1) / dh;
      const kyHi = min(kh, (h - y0 + dh - 1) / dh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pw;
        const kxLo = x0 >= 0 ? 0 : (-x0 + dw - 1) / dw;
        const kxHi = min(kw, (w - x0 + dw - 1) / dw);
        let best: f32 = -Infinity;
        for (let ky = kyLo; ky < kyHi; ky++) {
          const row = plane + (<usize>((y0 + ky * dh) * w + x0) << 2);
          for (let kx = kxLo; kx < kxHi; kx++) best = max<f32>(best, load<f32>(row + (<usize>(kx * dw) << 2)));
        }
        store<f32>(y, best);
        y += 4;
      }
    }
  }
}

/** dx (zeroed by the caller) += dy at the first maximum of each window. */
export function maxPoolGrad(
  dy: usize, x: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, dx: usize,
): void {
  // dx is written here, zeros first: threads take disjoint ranges of planes.
  memory.fill(dx, 0, <usize>(planes * h * w) << 2);
  for (let p = 0; p < planes; p++) {
    const offset = <usize>(p * h * w) << 2;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best: f32 = -Infinity;
        let at = -1;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const v = load<f32>(x + offset + (<usize>(iy * w + ix) << 2));
            if (at < 0 || v > best || (v != v && best == best)) {
              best = v;
              at = iy * w + ix;
            }
          }
        }
        if (at >= 0) {
          const dst = dx + offset + (<usize>at << 2);
          store<f32>(dst, load<f32>(dst) + load<f32>(dy));
        }
        dy += 4;
      }
    }
  }
}

// The divisor of one average-pooling window: PyTorch's pool_size (the window clipped to the
// padded input), or the taps inside the input, or the forcedDivisor when it is > 0.
@inline
function divisor(y0: i32, x0: i32, h: i32, w: i32, kh: i32, kw: i32, ph: i32, pw: i32, countIncludePad: i32, forcedDivisor: f32): f32 {
  if (forcedDivisor > 0) return forcedDivisor;
  if (countIncludePad) return <f32>((min(y0 + kh, h + ph) - y0) * (min(x0 + kw, w + pw) - x0));
  return <f32>((min(y0 + kh, h) - max(y0, 0)) * (min(x0 + kw, w) - max(x0, 0)));
}

export function avgPool(
  x: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, countIncludePad: i32, forcedDivisor: f32, y: usize,
): void {
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pw;
        let acc: f32 = 0;
        for (let iy = max(y0, 0); iy < min(y0 + kh, h); iy++) {
          for (let ix = max(x0, 0); ix < min(x0 + kw, w); ix++) acc += load<f32>(plane + (<usize>(iy * w + ix) << 2));
        }
        store<f32>(y, acc / divisor(y0, x0, h, w, kh, kw, ph, pw, countIncludePad, forcedDivisor));
        y += 4;
      }
    }
  }
}

/** dx (zeroed by the caller) += dy / divisor over each window. */
export function avgPoolGrad(
  dy: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, countIncludePad: i32, forcedDivisor: f32, dx: usize,
): void {
  for (let p = 0; p < planes; p++) {
    const plane = dx + (<usize>(p * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pw;
        const g = load<f32>(dy) / divisor(y0, x0, h, w, kh, kw, ph, pw, countIncludePad, forcedDivisor);
        for (let iy = max(y0, 0); iy < min(y0 + kh, h); iy++) {
          for (let ix = max(x0, 0); ix < min(x0 + kw, w); ix++) {
            const at = plane + (<usize>(iy * w + ix) << 2);
            store<f32>(at, load<f32>(at) + g);
          }
        }
        dy += 4;
      }
    }
  }
}

// s = k + alpha / size * sum of squares over the channel window c - floor(size/2) ..
// c + floor((size-1)/2), for every element of x [n, c, hw], written to `s`; 4 positions per step.
function lrnScale(x: usize, n: i32, c: i32, hw: i32, size: i32, alpha: f32, k: f32, s: usize): void {
  const before = size / 2;
  const after = (size - 1) / 2;
  const scale = f32x4.splat(alpha / <f32>size);
  const kv = f32x4.splat(k);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const lo = max(0, ch - before);
      const hi = min(c - 1, ch + after);
      const out = s + (<usize>((b * c + ch) * hw) << 2);
      let p = 0;
      for (; p + 4 <= hw; p += 4) {
        let acc = f32x4.splat(0);
        for (let j = lo; j <= hi; j++) {
          const v = v128.load(x + (<usize>((b * c + j) * hw + p) << 2));
          acc = f32x4.add(acc, f32x4.mul(v, v));
        }
        v128.store(out + (<usize>p << 2), f32x4.add(kv, f32x4.mul(scale, acc)));
      }
      for (; p < hw; p++) {
        let acc: f32 = 0;
        for (let j = lo; j <= hi; j++) {
          const v = load<f32>(x + (<usize>((b * c + j) * hw + p) << 2));
          acc += v * v;
        }
        store<f32>(out + (<usize>p << 2), k + (alpha / <f32>size) * acc);
      }
    }
  }
}

// s^-beta, with a fast exact path for AlexNet's beta = 0.75: s^-3/4 = 1 / (sqrt(s) sqrt(sqrt(s))).
@inline
function powNegBeta(s: f32, beta: f32): f32 {
  if (beta == 0.75) {
    const r = Mathf.sqrt(s);
    return 1 / (r * Mathf.sqrt(r));
  }
  return Mathf.pow(s, -beta);
}

/** y = x * s^-beta (PyTorch local_response_norm). `s` is scratch of x's size. */
export function lrn(x: usize, n: i32, c: i32, hw: i32, size: i32, alpha: f32, beta: f32, k: f32, s: usize, y: usize): void {
  lrnScale(x, n, c, hw, size, alpha, k, s);
  const total = n * c * hw;
  let i = 0;
  if (beta == 0.75) {
    // AlexNet's beta, 4 lanes at a time: x / (sqrt(s) sqrt(sqrt(s))).
    for (; i + 4 <= total; i += 4) {
      const at = <usize>i << 2;
      const r = f32x4.sqrt(v128.load(s + at));
      v128.store(y + at, f32x4.div(v128.load(x + at), f32x4.mul(r, f32x4.sqrt(r))));
    }
  }
  for (; i < total; i++) {
    const at = <usize>i << 2;
    store<f32>(y + at, load<f32>(x + at) * powNegBeta(load<f32>(s + at), beta));
  }
}

/**
 * dx[i] = dy[i] s[i]^-beta - (2 alpha beta / size) x[i] sum_c t[c], t = dy x s^(-beta-1), the sum
 * over the channels c whose window holds i. `s` and `t` are scratch of x's size.
 */
export function lrnGrad(
  x: usize, dy: usize, n: i32, c: i32, hw: i32, size: i32, alpha: f32, beta: f32, k: f32, s: usize, t: usize, dx: usize,
): void {
  lrnScale(x, n, c, hw, size, alpha, k, s);
  const total = n * c * hw;
  for (let i = 0; i < total; i++) {
    const at = <usize>i << 2;
    const si = load<f32>(s + at);
    const p = powNegBeta(si, beta);
    store<f32>(t + at, load<f32>(dy + at) * load<f32>(x + at) * p / si);
    store<f32>(s + at, p);
  }
  const before = size / 2;
  const after = (size - 1) / 2;
  const coefficient: f32 = (<f32>2 * alpha * beta) / <f32>size;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const lo = max(0, ch - after);
      const hi = min(c - 1, ch + before);
      for (let p = 0; p < hw; p++) {
        let acc: f32 = 0;
        for (let j = lo; j <= hi; j++) acc += load<f32>(t + (<usize>((b * c + j) * hw + p) << 2));
        const at = <usize>((b * c + ch) * hw + p) << 2;
        store<f32>(dx + at, load<f32>(dy + at) * load<f32>(s + at) - coefficient * load<f32>(x + at) * acc);
      }
    }
  }
}

/**
 * Max pooling without padding or dilation (any window and stride), separably: for each output
 * row, the vertical maximum over the window's rows into `row` (w floats of scratch), then the
 * horizontal maximum over the window's columns. Windows past the edge (ceil mode) are clipped.
 * f32.max returns NaN when either side is NaN, as PyTorch does.
 */
export function maxPoolSeparable(
  x: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, y: usize, row: usize,
): void {
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const top = plane + (<usize>(oy * sh * w) << 2);
      const rows = min(kh, h - oy * sh);
      let c = 0;
      for (; c + 4 <= w; c += 4) {
        let m = v128.load(top + (<usize>c << 2));
        for (let r = 1; r < rows; r++) m = f32x4.max(m, v128.load(top + (<usize>(r * w + c) << 2)));
        v128.store(row + (<usize>c << 2), m);
      }
      for (; c < w; c++) {
        let m = load<f32>(top + (<usize>c << 2));
        for (let r = 1; r < rows; r++) m = max<f32>(m, load<f32>(top + (<usize>(r * w + c) << 2)));
        store<f32>(row + (<usize>c << 2), m);
      }
      for (let ox = 0; ox < ow; ox++) {
        const left = ox * sw;
        const cols = min(kw, w - left);
        let m = load<f32>(row + (<usize>left << 2));
        for (let k = 1; k < cols; k++) m = max<f32>(m, load<f32>(row + (<usize>(left + k) << 2)));
        store<f32>(y, m);
        y += 4;
      }
    }
  }
}

// The outputs of a stride-2 row whose window of kw columns lies inside the w input columns.
@inline
function fullStride2(w: i32, kw: i32): i32 {
  return w >= kw ? (w - kw) / 2 + 1 : 0;
}

// The maximum of the window rows [0, rows) of the clipped window at (top row pointer, left
// column): the scalar path for the last outputs of ceil mode and for rows too short for SIMD.
@inline
function windowMax(top: usize, w: i32, rows: i32, left: i32, cols: i32): f32 {
  let m: f32 = -Infinity;
  for (let r = 0; r < rows; r++) {
    const at = top + (<usize>(r * w + left) << 2);
    for (let k = 0; k < cols; k++) m = max<f32>(m, load<f32>(at + (<usize>k << 2)));
  }
  return m;
}

// f32x4.max is 8-10 x86 instructions in V8 (it must propagate NaN and order -0 below +0) where
// f32x4.pmax (b if a < b, else a) is one maxps, as XNNPACK's wasmsimd_x86 kernels use: the 3x3/2
// path below takes pmax, which can drop a NaN, and returns the sum of every value it read, which
// is NaN when any was NaN (or when +inf and -inf met); the caller redoes such a row with
// f32x4.max. pmax keeps the first of equal values, so -0 and +0 may come out either way.

// The pmax of one column vector of the window's 3 rows, and their sum (max3x3Stride2By4/By8 load
// each value once and pass it to both).
@inline
function pmax3(a0: v128, a1: v128, a2: v128): v128 {
  return f32x4.pmax(f32x4.pmax(a0, a1), a2);
}

@inline
function sum3(a0: v128, a1: v128, a2: v128): v128 {
  return f32x4.add(f32x4.add(a0, a1), a2);
}

// The 3-column stride-2 pmax of the vertical maxima a (columns 0-3), b (4-7) and e (8, lane 0):
// the even, odd and next-even columns shuffled out.
@inline
function pmaxColumns3(a: v128, b: v128, e: v128): v128 {
  const even = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
  const m = f32x4.pmax(even, v128.shuffle<f32>(a, b, 1, 3, 5, 7));
  return f32x4.pmax(m, v128.shuffle<f32>(even, e, 1, 2, 3, 4));
}

// Outputs [at, at + 4) of a 3x3/2 output row whose window rows start at `top`; returns the sum
// of the values read (NaN check).
@inline
function max3x3Stride2By4(top: usize, rowBytes: usize, at: i32, y: usize): v128 {
  const r0 = top + (<usize>(2 * at) << 2);
  const r1 = r0 + rowBytes;
  const r2 = r1 + rowBytes;
  const a0 = v128.load(r0);
  const a1 = v128.load(r1);
  const a2 = v128.load(r2);
  const b0 = v128.load(r0, 16);
  const b1 = v128.load(r1, 16);
  const b2 = v128.load(r2, 16);
  const e0 = v128.load32_zero(r0 + 32);
  const e1 = v128.load32_zero(r1 + 32);
  const e2 = v128.load32_zero(r2 + 32);
  v128.store(y + (<usize>at << 2), pmaxColumns3(pmax3(a0, a1, a2), pmax3(b0, b1, b2), pmax3(e0, e1, e2)));
  return f32x4.add(f32x4.add(sum3(a0, a1, a2), sum3(b0, b1, b2)), sum3(e0, e1, e2));
}

// Outputs [at, at + 2) (the end of a row): columns 2at .. 2at + 4, stored as 64 bits.
@inline
function max3x3Stride2By2(top: usize, rowBytes: usize, at: i32, y: usize): v128 {
  const r0 = top + (<usize>(2 * at) << 2);
  const r1 = r0 + rowBytes;
  const r2 = r1 + rowBytes;
  const a0 = v128.load(r0);
  const a1 = v128.load(r1);
  const a2 = v128.load(r2);
  const e0 = v128.load32_zero(r0 + 16);
  const e1 = v128.load32_zero(r1 + 16);
  const e2 = v128.load32_zero(r2 + 16);
  const a = pmax3(a0, a1, a2);
  const e = pmax3(e0, e1, e2);
  const even = v128.shuffle<f32>(a, e, 0, 2, 4, 4);
  const odd = v128.shuffle<f32>(a, a, 1, 3, 1, 3);
  const next = v128.shuffle<f32>(a, e, 2, 4, 2, 4);
  v128.store64_lane(y + (<usize>at << 2), f32x4.pmax(f32x4.pmax(even, odd), next), 0);
  return f32x4.add(sum3(a0, a1, a2), sum3(e0, e1, e2));
}

// Outputs [at, at + 6) (pool5's 13-column rows): columns 2at .. 2at + 12 in three vectors and
// one column; the last two outputs from the third vector and that column, stored as 64 bits.
@inline
function max3x3Stride2By6(top: usize, rowBytes: usize, at: i32, y: usize): v128 {
  const r0 = top + (<usize>(2 * at) << 2);
  const r1 = r0 + rowBytes;
  const r2 = r1 + rowBytes;
  const a0 = v128.load(r0);
  const a1 = v128.load(r1);
  const a2 = v128.load(r2);
  const b0 = v128.load(r0, 16);
  const b1 = v128.load(r1, 16);
  const b2 = v128.load(r2, 16);
  const c0 = v128.load(r0, 32);
  const c1 = v128.load(r1, 32);
  const c2 = v128.load(r2, 32);
  const e0 = v128.load32_zero(r0 + 48);
  const e1 = v128.load32_zero(r1 + 48);
  const e2 = v128.load32_zero(r2 + 48);
  const c = pmax3(c0, c1, c2);
  const e = pmax3(e0, e1, e2);
  const out = y + (<usize>at << 2);
  v128.store(out, pmaxColumns3(pmax3(a0, a1, a2), pmax3(b0, b1, b2), c));
  const even = v128.shuffle<f32>(c, e, 0, 2, 4, 4);
  const odd = v128.shuffle<f32>(c, c, 1, 3, 1, 3);
  const next = v128.shuffle<f32>(c, e, 2, 4, 2, 4);
  v128.store64_lane(out, f32x4.pmax(f32x4.pmax(even, odd), next), 0, 16);
  const ab = f32x4.add(sum3(a0, a1, a2), sum3(b0, b1, b2));
  return f32x4.add(ab, f32x4.add(sum3(c0, c1, c2), sum3(e0, e1, e2)));
}

// Outputs [at, at + 8): as max3x3Stride2By4 twice, the first half's next-even columns shuffled
// from the second half's even columns instead of loaded.
@inline
function max3x3Stride2By8(top: usize, rowBytes: usize, at: i32, y: usize): v128 {
  const r0 = top + (<usize>(2 * at) << 2);
  const r1 = r0 + rowBytes;
  const r2 = r1 + rowBytes;
  const a0 = v128.load(r0);
  const a1 = v128.load(r1);
  const a2 = v128.load(r2);
  const b0 = v128.load(r0, 16);
  const b1 = v128.load(r1, 16);
  const b2 = v128.load(r2, 16);
  const c0 = v128.load(r0, 32);
  const c1 = v128.load(r1, 32);
  const c2 = v128.load(r2, 32);
  const d0 = v128.load(r0, 48);
  const d1 = v128.load(r1, 48);
  const d2 = v128.load(r2, 48);
  const e0 = v128.load32_zero(r0 + 64);
  const e1 = v128.load32_zero(r1 + 64);
  const e2 = v128.load32_zero(r2 + 64);
  const c = pmax3(c0, c1, c2);
  const out = y + (<usize>at << 2);
  v128.store(out, pmaxColumns3(pmax3(a0, a1, a2), pmax3(b0, b1, b2), c));
  v128.store(out, pmaxColumns3(c, pmax3(d0, d1, d2), pmax3(e0, e1, e2)), 16);
  const ab = f32x4.add(sum3(a0, a1, a2), sum3(b0, b1, b2));
  const cd = f32x4.add(sum3(c0, c1, c2), sum3(d0, d1, d2));
  return f32x4.add(f32x4.add(ab, cd), sum3(e0, e1, e2));
}

/**
 * Max pooling with a window 2 or 3 columns wide (any height) at column stride 2, no padding or
 * dilation: AlexNet's 3x3/2 and the common 2x2/2. SIMD steps in registers: the vertical maximum
 * of the window's rows over consecutive columns, then its even, odd and next-even columns
 * shuffled out and maxed. 3x3 windows take the pmax steps above (8, 6, 4 and 2 outputs) and a
 * plane that read a NaN is pooled again here with f32x4.max (4 outputs per step), which returns
 * NaN when either side is NaN, as PyTorch does. The last step of a row is moved back to end at
 * the row's last full window (it recomputes up to 3 outputs, which max makes harmless), so every
 * full window is SIMD and no load leaves the row. Windows past the edge (ceil mode) are clipped,
 * scalar.
 */
export function maxPoolStride2(
  x: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, y: usize,
): void {
  const full = min(ow, fullStride2(w, kw));
  const rowBytes = <usize>w << 2;
  const outRowBytes = <usize>ow << 2;
  // Output rows whose 3x3 windows are whole (all but a ceil-mode last row) take the fast path.
  const fastRows = kh == 3 && kw == 3 && full >= 4 && h >= 3 ? min(oh, (h - 3) / sh + 1) : 0;
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * h * w) << 2);
    let fastDone = 0;
    if (fastRows > 0) {
      // AlexNet's 3x3 window: 8 outputs per step, then 6 or 4, then 2 (a step moved back to end at
      // the row's last full window recomputes up to 3 outputs, which max makes harmless); with
      // pmax, and the plane done again below with f32x4.max if it read a NaN.
      let check = f32x4.splat(0);
      for (let oy = 0; oy < fastRows; oy++) {
        const top = plane + <usize>(oy * sh) * rowBytes;
        const out = y + <usize>oy * outRowBytes;
        let ox = 0;
        for (; ox + 8 <= full; ox += 8) check = f32x4.add(check, max3x3Stride2By8(top, rowBytes, ox, out));
        if (full - ox >= 6) {
          check = f32x4.add(check, max3x3Stride2By6(top, rowBytes, ox, out));
          ox += 6;
        } else if (full - ox >= 4) {
          check = f32x4.add(check, max3x3Stride2By4(top, rowBytes, ox, out));
          ox += 4;
        }
        // 0-3 outputs left: 3 as a 4-output step moved back, 1-2 as a 2-output step.
        if (full - ox == 3) check = f32x4.add(check, max3x3Stride2By4(top, rowBytes, full - 4, out));
        else if (full > ox) check = f32x4.add(check, max3x3Stride2By2(top, rowBytes, full - 2, out));
      }
      if (!v128.any_true(f32x4.ne(check, check))) fastDone = fastRows;
      if (fastDone == oh && full == ow) {
        y += <usize>oh * outRowBytes;
        continue;
      }
    }
    for (let oy = 0; oy < oh; oy++) {
      const top = plane + <usize>(oy * sh) * rowBytes;
      const rows = min(kh, h - oy * sh);
      let ox = oy < fastDone ? full : 0;
      if (full >= 4) {
        for (; ox < full; ox += 4) {
          const at = min(ox, full - 4);
          const left = top + (<usize>(2 * at) << 2);
          let a = v128.load(left);
          let b = v128.load(left, 16);
          let c = kw == 3 ? v128.load32_zero(left, 32) : f32x4.splat(0);
          for (let r = 1; r < rows; r++) {
            const next = left + <usize>r * rowBytes;
            a = f32x4.max(a, v128.load(next));
            b = f32x4.max(b, v128.load(next, 16));
            if (kw == 3) c = f32x4.max(c, v128.load32_zero(next, 32));
          }
          const even = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
          let m = f32x4.max(even, v128.shuffle<f32>(a, b, 1, 3, 5, 7));
          if (kw == 3) m = f32x4.max(m, v128.shuffle<f32>(even, c, 1, 2, 3, 4));
          v128.store(y + (<usize>at << 2), m);
        }
        ox = full;
      }
      for (; ox < ow; ox++) {
        const left = ox * 2;
        store<f32>(y + (<usize>ox << 2), windowMax(top, w, rows, left, min(kw, w - left)));
      }
      y += <usize>ow << 2;
    }
  }
}

// Where the first maximum of the clipped window lies (offset from `top` in floats; -1 for an
// empty window): the scalar twin of the SIMD scan in maxPoolGradStride2, and the reference
// backend's rule (row-major taps, the first strict maximum, NaN beats any number).
@inline
function windowArgMax(top: usize, w: i32, rows: i32, left: i32, cols: i32): i32 {
  let best: f32 = 0;
  let at = -1;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const offset = r * w + left + k;
      const v = load<f32>(top + (<usize>offset << 2));
      if (at < 0 || (best == best && !(v <= best))) {
        best = v;
        at = offset;
      }
    }
  }
  return at;
}

// dx[top + offset(lane)] += dy[lane] for lanes [first, 4) of one SIMD step.
@inline
function scatterLanes(dx: usize, base: i32, offsets: v128, dy: v128, first: i32): void {
  if (first <= 0) {
    const at = dx + (<usize>(base + i32x4.extract_lane(offsets, 0)) << 2);
    store<f32>(at, load<f32>(at) + f32x4.extract_lane(dy, 0));
  }
  if (first <= 1) {
    const at = dx + (<usize>(base + 2 + i32x4.extract_lane(offsets, 1)) << 2);
    store<f32>(at, load<f32>(at) + f32x4.extract_lane(dy, 1));
  }
  if (first <= 2) {
    const at = dx + (<usize>(base + 4 + i32x4.extract_lane(offsets, 2)) << 2);
    store<f32>(at, load<f32>(at) + f32x4.extract_lane(dy, 2));
  }
  const at = dx + (<usize>(base + 6 + i32x4.extract_lane(offsets, 3)) << 2);
  store<f32>(at, load<f32>(at) + f32x4.extract_lane(dy, 3));
}

// One tap of the SIMD argmax scan: take v where best is a number and v is not <= best (v is
// greater, or NaN), which is the reference's first-maximum rule with NaN as the maximum.
@inline
function takeTap(v: v128, best: v128): v128 {
  return v128.andnot(f32x4.eq(best, best), f32x4.le(v, best));
}

// One step of maxPoolGradStride2's 3x3 path: outputs [at, at + 4) of the output row whose window
// rows start at `top` (row `topRow` of the plane): the 9 taps shuffled out as in the forward,
// their pmax, the offset of the first tap equal to it, and dy of lanes [first, 4) added there.
// Returns the sum of the values read (NaN check).
@inline
function argMax3x3Stride2By4(
  top: usize, rowBytes: usize, w: i32, at: i32, dxPlane: usize, topRowStart: i32, dyRow: usize, first: i32,
): v128 {
  const r0 = top + (<usize>(2 * at) << 2);
  const r1 = r0 + rowBytes;
  const r2 = r1 + rowBytes;
  const a0 = v128.load(r0);
  const b0 = v128.load(r0, 16);
  const e0 = v128.load32_zero(r0 + 32);
  const a1 = v128.load(r1);
  const b1 = v128.load(r1, 16);
  const e1 = v128.load32_zero(r1 + 32);
  const a2 = v128.load(r2);
  const b2 = v128.load(r2, 16);
  const e2 = v128.load32_zero(r2 + 32);
  const even0 = v128.shuffle<f32>(a0, b0, 0, 2, 4, 6);
  const odd0 = v128.shuffle<f32>(a0, b0, 1, 3, 5, 7);
  const next0 = v128.shuffle<f32>(even0, e0, 1, 2, 3, 4);
  const even1 = v128.shuffle<f32>(a1, b1, 0, 2, 4, 6);
  const odd1 = v128.shuffle<f32>(a1, b1, 1, 3, 5, 7);
  const next1 = v128.shuffle<f32>(even1, e1, 1, 2, 3, 4);
  const even2 = v128.shuffle<f32>(a2, b2, 0, 2, 4, 6);
  const odd2 = v128.shuffle<f32>(a2, b2, 1, 3, 5, 7);
  const next2 = v128.shuffle<f32>(even2, e2, 1, 2, 3, 4);
  const m = f32x4.pmax(
    f32x4.pmax(f32x4.pmax(even0, odd0), f32x4.pmax(next0, even1)),
    f32x4.pmax(f32x4.pmax(odd1, next1), pmax3(even2, odd2, next2)),
  );
  let offset = i32x4.splat(2 * w + 2);
  offset = v128.bitselect(i32x4.splat(2 * w + 1), offset, f32x4.eq(odd2, m));
  offset = v128.bitselect(i32x4.splat(2 * w), offset, f32x4.eq(even2, m));
  offset = v128.bitselect(i32x4.splat(w + 2), offset, f32x4.eq(next1, m));
  offset = v128.bitselect(i32x4.splat(w + 1), offset, f32x4.eq(odd1, m));
  offset = v128.bitselect(i32x4.splat(w), offset, f32x4.eq(even1, m));
  offset = v128.bitselect(i32x4.splat(2), offset, f32x4.eq(next0, m));
  offset = v128.bitselect(i32x4.splat(1), offset, f32x4.eq(odd0, m));
  offset = v128.bitselect(i32x4.splat(0), offset, f32x4.eq(even0, m));
  scatterLanes(dxPlane, topRowStart + 2 * at, offset, v128.load(dyRow + (<usize>at << 2)), first);
  return f32x4.add(f32x4.add(sum3(a0, a1, a2), sum3(b0, b1, b2)), sum3(e0, e1, e2));
}

/**
 * The gradient of maxPoolStride2: dx = 0, then dy of each output added at the first maximum of
 * its window, found again from x (row-major taps; NaN counts as the maximum), as the reference
 * backend and PyTorch do. Four outputs per SIMD step: the window's taps as shuffled columns, a
 * branch-free running argmax (the tap's offset in floats kept beside the best value), then four
 * scalar adds in output order (windows overlap, so lanes may hit the same input). The row's last
 * step is moved back as in the forward and adds only the lanes not done before.
 */
export function maxPoolGradStride2(
  dy: usize, x: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, dx: usize,
): void {
  memory.fill(dx, 0, <usize>(planes * h * w) << 2);
  const full = min(ow, fullStride2(w, kw));
  const rowBytes = <usize>w << 2;
  const fastRows = kh == 3 && kw == 3 && full >= 4 && h >= 3 ? min(oh, (h - 3) / sh + 1) : 0;
  for (let p = 0; p < planes; p++) {
    const plane = <usize>(p * h * w) << 2;
    let fastDone = 0;
    if (fastRows > 0) {
      // 3x3 windows: the maximum by pmax, then the first tap equal to it (taps compared in
      // reverse, each match replacing the offset), which is the reference's first maximum when
      // no NaN was read; a plane that read one is zeroed and done again below.
      let check = f32x4.splat(0);
      for (let oy = 0; oy < fastRows; oy++) {
        const topRow = oy * sh;
        const top = x + plane + <usize>topRow * rowBytes;
        const dyRow = dy + (<usize>(oy * ow) << 2);
        for (let ox = 0; ox < full; ox += 4) {
          const at = min(ox, full - 4);
          check = f32x4.add(check, argMax3x3Stride2By4(top, rowBytes, w, at, dx + plane, topRow * w, dyRow, ox - at));
        }
      }
      if (v128.any_true(f32x4.ne(check, check))) memory.fill(dx + plane, 0, <usize>(h * w) << 2);
      else fastDone = fastRows;
    }
    for (let oy = 0; oy < oh; oy++) {
      const topRow = oy * sh;
      const top = x + plane + (<usize>(topRow * w) << 2);
      const dxTop = dx + plane;
      const rows = min(kh, h - topRow);
      let ox = oy < fastDone ? full : 0;
      if (full >= 4 && ox < full) {
        for (; ox < full; ox += 4) {
          const at = min(ox, full - 4);
          const left = top + (<usize>(2 * at) << 2);
          let best = f32x4.splat(0);
          let offset = i32x4.splat(0);
          for (let r = 0; r < rows; r++) {
            const row = left + <usize>r * rowBytes;
            const a = v128.load(row);
            const b = v128.load(row, 16);
            const even = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
            const odd = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
            const o = r * w;
            if (r == 0) {
              best = even;
            } else {
              const take = takeTap(even, best);
              best = v128.bitselect(even, best, take);
              offset = v128.bitselect(i32x4.splat(o), offset, take);
            }
            let take = takeTap(odd, best);
            best = v128.bitselect(odd, best, take);
            offset = v128.bitselect(i32x4.splat(o + 1), offset, take);
            if (kw == 3) {
              const next = v128.shuffle<f32>(even, v128.load32_zero(row, 32), 1, 2, 3, 4);
              take = takeTap(next, best);
              best = v128.bitselect(next, best, take);
              offset = v128.bitselect(i32x4.splat(o + 2), offset, take);
            }
          }
          const g = v128.load(dy + (<usize>at << 2));
          scatterLanes(dxTop, topRow * w + 2 * at, offset, g, ox - at);
        }
        ox = full;
      }
      for (; ox < ow; ox++) {
        const left = ox * 2;
        const offset = windowArgMax(top, w, rows, left, min(kw, w - left));
        if (offset >= 0) {
          const target = dxTop + (<usize>(topRow * w + offset) << 2);
          store<f32>(target, load<f32>(target) + load<f32>(dy + (<usize>ox << 2)));
        }
      }
      dy += <usize>ow << 2;
    }
  }
}

/**
 * `lrn` over n images one at a time, so that `s` (the scale) needs one image's floats
 * (c * hw), not the batch's: the work buffer stays bounded whatever the batch.
 */
export function lrnImages(x: usize, n: i32, c: i32, hw: i32, size: i32, alpha: f32, beta: f32, k: f32, s: usize, y: usize): void {
  const image = <usize>(c * hw) << 2;
  for (let b = 0; b < n; b++) {
    const at = <usize>b * image;
    lrn(x + at, 1, c, hw, size, alpha, beta, k, s, y + at);
  }
}

/** `lrnGrad` over n images one at a time: `s` and `t` hold one image's floats each. */
export function lrnGradImages(
  x: usize, dy: usize, n: i32, c: i32, hw: i32, size: i32, alpha: f32, beta: f32, k: f32, s: usize, t: usize, dx: usize,
): void {
  const image = <usize>(c * hw) << 2;
  for (let b = 0; b < n; b++) {
    const at = <usize>b * image;
    lrnGrad(x + at, dy + at, 1, c, hw, size, alpha, beta, k, s, t, dx + at);
  }
}

// Spatial positions per LRN tile: a whole plane of AlexNet's LRNs (55 x 55, 27 x 27), so that the
// tile walks x channel after channel as one sequential stream (smaller tiles, 256 and 1024, read
// 1-4 KiB per channel and measured up to 1.3x slower at batch 16-32), while the rings (size rows
// of 16 KiB; 80 KiB for the forward, 240 KiB for the gradient) stay in L2.
const LRN_TILE: i32 = 4096;

/** Floats of scratch one `lrnTiles` call needs (its ring of squares). */
export function lrnScratchFloats(size: i32): i32 {
  return size * LRN_TILE;
}

/** Floats of scratch one `lrnGradTiles` call needs (rings of squares, terms and powers). */
export function lrnGradScratchFloats(size: i32): i32 {
  return 3 * size * LRN_TILE;
}

// The sum of the `size` ring rows at float `v` of a tile (the channel window, in ring order).
@inline
function ringSum(ring: usize, size: i32, v: i32): v128 {
  if (size == 5) {
    // AlexNet's window, unrolled.
    const at = ring + (<usize>v << 2);
    const row = <usize>LRN_TILE << 2;
    const pair = f32x4.add(v128.load(at), v128.load(at + row));
    const three = f32x4.add(v128.load(at + 2 * row), v128.load(at + 3 * row));
    return f32x4.add(f32x4.add(pair, three), v128.load(at + 4 * row));
  }
  let acc = v128.load(ring + (<usize>v << 2));
  for (let r = 1; r < size; r++) acc = f32x4.add(acc, v128.load(ring + (<usize>(r * LRN_TILE + v) << 2)));
  return acc;
}

// s^-beta on 4 lanes: AlexNet's beta = 0.75 as sqrt(sqrt(s)) / s (exact to a few ulps), other
// betas lane by lane with Mathf.pow.
@inline
function powNegBeta4(s: v128, beta: f32): v128 {
  if (beta == 0.75) return f32x4.div(f32x4.sqrt(f32x4.sqrt(s)), s);
  let p = f32x4.splat(Mathf.pow(f32x4.extract_lane(s, 0), -beta));
  p = f32x4.replace_lane(p, 1, Mathf.pow(f32x4.extract_lane(s, 1), -beta));
  p = f32x4.replace_lane(p, 2, Mathf.pow(f32x4.extract_lane(s, 2), -beta));
  return f32x4.replace_lane(p, 3, Mathf.pow(f32x4.extract_lane(s, 3), -beta));
}

/**
 * y = x s^-beta, s = k + alpha/size * (sum of x^2 over the channel window c - floor(size/2) ..
 * c + floor((size-1)/2)) (PyTorch local_response_norm), for images [0, n) of x [n, c, hw] at
 * positions [q0, q1) of each image (q1 - q0 >= 4). One pass over x: tiles of LRN_TILE positions,
 * channel by channel, the squares of the last `size` channels kept in a ring (`ring`,
 * lrnScratchFloats(size) floats) whose rows are zero outside the image's channels, so the window
 * sum is the sum of the whole ring; 4 positions per SIMD step.
 */
export function lrnTiles(
  x: usize, n: i32, c: i32, hw: i32, q0: i32, q1: i32, size: i32, alpha: f32, beta: f32, k: f32, ring: usize, y: usize,
): void {
  const after = (size - 1) / 2;
  const scale = f32x4.splat(alpha / <f32>size);
  const kv = f32x4.splat(k);
  const plane = <usize>hw << 2;
  for (let b = 0; b < n; b++) {
    const image = <usize>(b * c) * plane;
    let q = q0;
    while (q < q1) {
      const length = min(LRN_TILE, q1 - q) & ~3;
      const start = length > 0 ? q : q1 - 4;
      const len = length > 0 ? length : 4;
      const xt = x + image + (<usize>start << 2);
      const yt = y + image + (<usize>start << 2);
      // The tile's part of each ring row starts at zero (rows for channels before the first).
      for (let r = 0; r < size; r++) memory.fill(ring + (<usize>(r * LRN_TILE) << 2), 0, <usize>len << 2);
      for (let a = 0; a < c + after; a++) {
        const row = ring + (<usize>((a % size) * LRN_TILE) << 2);
        if (a < c) {
          const xa = xt + <usize>a * plane;
          for (let v = 0; v < len; v += 4) {
            const value = v128.load(xa + (<usize>v << 2));
            v128.store(row + (<usize>v << 2), f32x4.mul(value, value));
          }
        } else {
          memory.fill(row, 0, <usize>len << 2);
        }
        const ch = a - after;
        if (ch < 0) continue;
        const xc = xt + <usize>ch * plane;
        const yc = yt + <usize>ch * plane;
        for (let v = 0; v < len; v += 4) {
          const s = f32x4.add(kv, f32x4.mul(scale, ringSum(ring, size, v)));
          v128.store(yc + (<usize>v << 2), f32x4.mul(v128.load(xc + (<usize>v << 2)), powNegBeta4(s, beta)));
        }
      }
      q = start + len;
    }
  }
}

/**
 * The gradient of lrnTiles: dx[j] = dy[j] s[j]^-beta - (2 alpha beta / size) x[j] sum_i t[i],
 * t = dy x s^(-beta-1), the sum over the channels i whose window holds j (j - floor((size-1)/2)
 * .. j + floor(size/2)). One pass, in tiles of positions as lrnTiles, three channel stages in
 * flight: squares of channel a, s^-beta and t of channel a - floor((size-1)/2), dx of the
 * channel floor(size/2) further back, with rings of squares, t and s^-beta (`ring`,
 * lrnGradScratchFloats(size) floats).
 */
export function lrnGradTiles(
  x: usize, dy: usize, n: i32, c: i32, hw: i32, q0: i32, q1: i32, size: i32, alpha: f32, beta: f32, k: f32, ring: usize, dx: usize,
): void {
  const before = size / 2;
  const after = (size - 1) / 2;
  const scale = f32x4.splat(alpha / <f32>size);
  const kv = f32x4.splat(k);
  const coefficient = f32x4.splat((<f32>2 * alpha * beta) / <f32>size);
  const plane = <usize>hw << 2;
  const ringBytes = <usize>(size * LRN_TILE) << 2;
  const squares = ring;
  const terms = ring + ringBytes;
  const powers = ring + 2 * ringBytes;
  for (let b = 0; b < n; b++) {
    const image = <usize>(b * c) * plane;
    let q = q0;
    while (q < q1) {
      const length = min(LRN_TILE, q1 - q) & ~3;
      const start = length > 0 ? q : q1 - 4;
      const len = length > 0 ? length : 4;
      const offset = image + (<usize>start << 2);
      // The tile's part of each row of the squares and terms rings starts at zero.
      for (let r = 0; r < size; r++) {
        const row = <usize>(r * LRN_TILE) << 2;
        memory.fill(squares + row, 0, <usize>len << 2);
        memory.fill(terms + row, 0, <usize>len << 2);
      }
      for (let a = 0; a < c + after + before; a++) {
        const square = squares + (<usize>((a % size) * LRN_TILE) << 2);
        if (a < c) {
          const xa = x + offset + <usize>a * plane;
          for (let v = 0; v < len; v += 4) {
            const value = v128.load(xa + (<usize>v << 2));
            v128.store(square + (<usize>v << 2), f32x4.mul(value, value));
          }
        } else {
          memory.fill(square, 0, <usize>len << 2);
        }
        const i = a - after;
        if (i < 0) continue;
        const slot = <usize>(((i % size) * LRN_TILE) << 2);
        if (i < c) {
          const at = offset + <usize>i * plane;
          for (let v = 0; v < len; v += 4) {
            const o = <usize>v << 2;
            const s = f32x4.add(kv, f32x4.mul(scale, ringSum(squares, size, v)));
            const power = powNegBeta4(s, beta);
            const t = f32x4.div(f32x4.mul(f32x4.mul(v128.load(dy + at + o), v128.load(x + at + o)), power), s);
            v128.store(terms + slot + o, t);
            v128.store(powers + slot + o, power);
          }
        } else {
          memory.fill(terms + slot, 0, <usize>len << 2);
        }
        const j = i - before;
        if (j < 0) continue;
        const at = offset + <usize>j * plane;
        const pj = powers + (<usize>(((j % size) * LRN_TILE) << 2));
        for (let v = 0; v < len; v += 4) {
          const o = <usize>v << 2;
          const sum = ringSum(terms, size, v);
          const g = f32x4.mul(v128.load(dy + at + o), v128.load(pj + o));
          v128.store(dx + at + o, f32x4.sub(g, f32x4.mul(coefficient, f32x4.mul(v128.load(x + at + o), sum))));
        }
      }
      q = start + len;
    }
  }
}
