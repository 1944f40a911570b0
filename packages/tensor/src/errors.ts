import type { Shape } from './types.js';

/** Thrown at the call when shapes do not fit; the message names the op, the argument and the shapes. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** Thrown at the call when a tensor has a dtype the op does not take. */
export class DTypeError extends Error {
  override name = 'DTypeError';
}

/** `[2, 3, 4]`: how shapes appear in every message. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}
