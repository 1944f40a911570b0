import { REDUCE_KERNELS, type ReduceKernelName } from '@gpunet/tensor';
import { asGpu } from '../backend.js';
import { dot, numbered, stridesOf, unravel } from '../internal/indexing.js';
import type { GpuKernel } from './types.js';

const INITIAL: Record<ReduceKernelName, string> = { Sum: '0', Max: '-Infinity', Min: 'Infinity' };
// NaN wins in Max and Min, as in PyTorch.
const COMBINE: Record<ReduceKernelName, string> = {
  Sum: 'acc = acc + v;',
  Max: 'if (v > acc || v !== v) { acc = v; }',
  Min: 'if (v < acc || v !== v) { acc = v; }',
};

/**
 * One output element per kept position: unravel it over the kept dims, then walk every
 * combination of the reduced dims.
 */
export const reduceKernels: GpuKernel[] = REDUCE_KERNELS.map((kernelName) => ({
  kernelName,
  kernelFunc: ({ inputs: [x], attrs, backend }) => {
    const { dims } = attrs as { dims: number[] };
    const strides = stridesOf(x.shape);
    const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
    const keptShape = kept.map((i) => x.shape[i]);
    const reducedShape = dims.map((i) => x.shape[i]);
    const count = reducedShape.reduce((a, b) => a * b, 1);
    return asGpu(backend).run({
      name: `${kernelName}-${kept.length}-${dims.length}`,
      params: ['input'],
      body: [
        unravel(kept.length, 'this.thread.x', 'k', 'kd'),
        `const base = ${dot(kept.length, 'k', 'ks')};`,
        `let acc = ${INITIAL[kernelName]};`,
        'for (let r = 0; r < this.constants.count; r++) {',
        unravel(dims.length, 'r', 'q', 'rd'),
        `  const v = input[base + ${dot(dims.length, 'q', 'rs')}];`,
        `  ${COMBINE[kernelName]}`,
        '}',
        'return acc;',
      ].join('\n'),
      constants: {
        count,
        ...numbered('kd', keptShape),
        ...numbered(
          'ks',
          kept.map((i) => strides[i]),
        ),
        ...numbered('rd', reducedShape),
        ...numbered(
          'rs',
          dims.map((i) => strides[i]),
        ),
      },
      inputs: [x],
      shape: keptShape,
      dtype: x.dtype,
    });
  },
}));

export const argMaxKernel: GpuKernel<'ArgMax'> = {
  kernelName: 'ArgMax',
  kernelFunc: ({ inputs: [x], attrs: { dim }, backend }) => {
    const inner = x.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    return asGpu(backend).run({
      name: 'ArgMax',
      params: ['input'],
      body: [
        'const o = Math.floor(this.thread.x / this.constants.inner);',
        'const i = this.thread.x % this.constants.inner;',
        'const base = o * this.constants.length * this.constants.inner + i;',
        'let best = 0;',
        'let bestValue = input[base];',
        'for (let j = 1; j < this.constants.length; j++) {',
        '  const v = input[base + j * this.constants.inner];',
        '  if (v > bestValue || (v !== v && bestValue === bestValue)) { best = j; bestValue = v; }',
        '}',
        'return best;',
      ].join('\n'),
      constants: { inner, length: x.shape[dim] },
      inputs: [x],
      shape: x.shape.filter((_, i) => i !== dim),
      dtype: 'int32',
    });
  },
};
