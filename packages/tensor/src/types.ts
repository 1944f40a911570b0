/** Element types a tensor can hold: `float32` for values, `int32` for labels and indices. */
export type DType = 'float32' | 'int32';

/** The typed array that stores a tensor of each dtype. */
export type TypedArray = Float32Array | Int32Array;

/** A tensor's dimensions, outermost first (NCHW for images). */
export type Shape = readonly number[];

/** Nested number arrays, as `Tensor.array()` returns and `tensor()` accepts. */
export type NestedArray = number | NestedArray[];
