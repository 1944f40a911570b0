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
 * Max pooling without padding or dilation (AlexNet's 3x3/2), separably: for each output row, the
 * vertical maximum over the window's rows into `row` (w + 4 floats of scratch), then the horizontal
 * maximum over the window's columns (4 outputs per SIMD step for a 3/2 window). Windows past the edge (ceil mode) are clipped. f32.max returns
 * NaN when either side is NaN, as PyTorch does.
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
      let ox = 0;
      if (sw == 2 && kw == 3) {
        // AlexNet's 3/2 window, 4 outputs per step: the even, odd and next-even columns of the
        // row maxima are shuffled out of three loads (the scratch row has 4 floats of slack).
        const full = (w - 3) / 2 + 1; // outputs whose window lies inside the row
        for (; ox + 4 <= full; ox += 4) {
          const at = row + (<usize>(2 * ox) << 2);
          const a = v128.load(at);
          const b = v128.load(at, 16);
          const c8 = v128.load(at, 32);
          const even = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
          const odd = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
          const next = v128.shuffle<f32>(even, c8, 1, 2, 3, 4);
          v128.store(y, f32x4.max(f32x4.max(even, odd), next));
          y += 16;
        }
      }
      for (; ox < ow; ox++) {
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
