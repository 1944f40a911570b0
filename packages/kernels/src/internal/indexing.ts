/**
 * Index arithmetic shared by every kernel, as gpu.js source snippets: a kernel's output is a flat
 * 1-D range, and each kernel turns `this.thread.x` back into coordinates the same way.
 */

/**
 * Source that splits the flat index `flat` into coordinates `${prefix}0 ..` of a tensor whose
 * dim sizes are the constants `${sizes}0 ..` (row-major), innermost first.
 */
export function unravel(rank: number, flat: string, prefix: string, sizes: string): string {
  if (rank === 0) return '';
  const lines = [`let ${prefix}Rest = ${flat};`];
  for (let d = rank - 1; d >= 0; d--) {
    lines.push(`const ${prefix}${d} = ${prefix}Rest % this.constants.${sizes}${d};`);
    if (d > 0)
      lines.push(`${prefix}Rest = Math.floor(${prefix}Rest / this.constants.${sizes}${d});`);
  }
  return lines.join('\n');
}

/** Source of the sum `c0 * constants.s0 + c1 * constants.s1 + ...` (0 for rank 0). */
export function dot(rank: number, prefix: string, strides: string): string {
  if (rank === 0) return '0';
  return Array.from(
    { length: rank },
    (_, d) => `${prefix}${d} * this.constants.${strides}${d}`,
  ).join(' + ');
}

/** Constants named `${name}0 ..` from a list of numbers. */
export function numbered(name: string, values: readonly number[]): Record<string, number> {
  return Object.fromEntries(values.map((v, i) => [`${name}${i}`, v]));
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}
