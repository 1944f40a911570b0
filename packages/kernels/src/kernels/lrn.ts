/**
 * Local response normalization across channels and its gradient, with PyTorch's window
 * `c - floor(size/2) .. c + floor((size-1)/2)` (see LrnAttrs in @gpunet/tensor):
 *   y = x s^-beta,  s = k + alpha/size * sum x[j]^2
 *   dx[i] = dy[i] s[i]^-beta - (2 alpha beta / size) x[i] sum_c dy[c] x[c] s[c]^(-beta-1)
 * The gradient recomputes each neighbour's `s` in place (size^2 reads per element, 25 for
 * AlexNet) rather than storing `s` from the forward pass: the kernel signature carries only x.
 */
import type { LrnAttrs } from '@gpunet/tensor';
import { defineKernel, type GpuKernel } from '../internal/define.js';
import { kernelSource, unravel } from '../internal/index-math.js';
import { literal } from './transform.js';

/**
 * Source of `base ** exponent` for a positive `base`. An exponent that is a multiple of 1/4 (the
 * paper's beta = 0.75 gives -0.75 and -1.75) is built from products of `sqrt(base)` and
 * `sqrt(sqrt(base))`: on webasm `Math.pow` is a call out to JavaScript, one per SIMD lane, while
 * `Math.sqrt` is one f32x4 instruction for four lanes. Each sqrt is correctly rounded, so the
 * result is within a few ulps of `pow` (the conformance tolerance covers it).
 */
function powSource(base: string, exponent: number): string {
  const quarters = exponent * 4;
  if (!Number.isInteger(quarters) || Math.abs(quarters) > 16 || quarters === 0) {
    return `Math.pow(${base}, ${literal(exponent)})`;
  }
  const q = Math.abs(quarters);
  const factors: string[] = [];
  for (let n = 0; n < Math.floor(q / 4); n++) factors.push(base);
  if (q % 4 >= 2) factors.push(`Math.sqrt(${base})`);
  if (q % 2 === 1) factors.push(`Math.sqrt(Math.sqrt(${base}))`);
  const product = factors.length === 1 ? factors[0] : `(${factors.join(' * ')})`;
  return quarters > 0 ? product : `(1.0 / ${product})`;
}

/** Source declaring `${name}`, the scale s of channel expression `c` at this pixel. */
function scaleSource(a: LrnAttrs, channels: number, c: string, name: string): string {
  const before = Math.floor(a.size / 2);
  return [
    `let ${name}Sum = 0;`,
    `for (let t = 0; t < ${a.size}; t++) {`,
    `const j = ${c} - ${before} + t;`,
    `if (j >= 0 && j < ${channels}) { const e = x[pixel + j * plane]; ${name}Sum += e * e; }`,
    '}',
    `const ${name} = ${literal(a.k)} + ${literal(a.alpha / a.size)} * ${name}Sum;`,
  ].join('\n');
}

function prelude(shape: readonly number[]): string {
  const [batch, channels, height, width] = shape;
  return [
    unravel('i', [batch, channels, height * width], 'o'),
    `const plane = ${height * width};`,
    `const pixel = o0 * ${channels * height * width} + o2;`,
  ].join('\n');
}

export const lrnKernel = defineKernel('LRN', ({ inputs: [x], attrs: a, backend }) => {
  const body = [
    prelude(x.shape),
    scaleSource(a, x.shape[1], 'o1', 's'),
    `return x[i] * ${powSource('s', -a.beta)};`,
  ].join('\n');
  return backend.run(kernelSource(['x'], body), [x], x.shape);
});

export const lrnGradKernel = defineKernel('LRNGrad', ({ inputs: [x, dy], attrs: a, backend }) => {
  const channels = x.shape[1];
  const after = Math.floor((a.size - 1) / 2);
  const body = [
    prelude(x.shape),
    scaleSource(a, channels, 'o1', 'own'),
    'let acc = 0;',
    `for (let u = 0; u < ${a.size}; u++) {`,
    `const c = o1 - ${after} + u;`,
    `if (c >= 0 && c < ${channels}) {`,
    scaleSource(a, channels, 'c', 'sc'),
    'const ci = pixel + c * plane;',
    `acc += dy[ci] * x[ci] * ${powSource('sc', -a.beta - 1)};`,
    '}',
    '}',
    `return dy[i] * ${powSource('own', -a.beta)} - ${literal((2 * a.alpha * a.beta) / a.size)} * x[i] * acc;`,
  ].join('\n');
  return backend.run(kernelSource(['x', 'dy'], body), [x, dy], x.shape);
});

export const lrnKernels: GpuKernel[] = [lrnKernel, lrnGradKernel];
