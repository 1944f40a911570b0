/**
 * Reverse-mode autograd over the graph that ops record (define-by-run, as in PyTorch):
 * a topological sort from the output, then one loop that hands each node's gradient to its
 * gradient function and accumulates what comes back.
 */
import { keep, noGrad, tidy } from './engine.js';
import { formatShape, ShapeError } from './errors.js';
import { shapesEqual } from './internal/shape.js';
import { add, onesLike } from './ops/index.js';
import type { Tensor } from './tensor.js';

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative post-order DFS: deep graphs must not overflow the call stack.
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, next] = top;
    if (next < node.parents.length) {
      top[1]++;
      const parent = node.parents[next];
      if (parent.requiresGrad && !visited.has(parent)) {
        visited.add(parent);
        stack.push([parent, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order;
}

/** See `Tensor.backward`. */
export function backward(root: Tensor, gradient?: Tensor): void {
  if (!root.requiresGrad) {
    throw new Error(
      'backward: the tensor does not require grad (no input had requiresGrad = true)',
    );
  }
  if (gradient === undefined && root.size !== 1) {
    throw new ShapeError(
      `backward: a gradient is needed for a non-scalar tensor ${formatShape(root.shape)}; pass one shaped like it`,
    );
  }
  if (gradient !== undefined && !shapesEqual(gradient.shape, root.shape)) {
    throw new ShapeError(
      `backward: gradient ${formatShape(gradient.shape)} does not match tensor ${formatShape(root.shape)}`,
    );
  }
  const order = topologicalOrder(root);
  tidy(() =>
    noGrad(() => {
      const grads = new Map<Tensor, Tensor>([[root, gradient ?? onesLike(root)]]);
      for (let i = order.length - 1; i >= 0; i--) {
        const node = order[i];
        const dy = grads.get(node);
        if (!dy) continue;
        if (node.gradFn === null) {
          // A leaf: its .grad outlives this tidy. A fresh alias, so that two leaves never share one object.
          const previous = node.grad;
          node.grad = keep(previous ? add(previous, dy) : dy.detach());
          previous?.dispose();
          continue;
        }
        const inputGrads = node.gradFn(dy, node);
        node.parents.forEach((parent, j) => {
          const g = inputGrads[j];
          if (!g || !parent.requiresGrad) return;
          if (!shapesEqual(g.shape, parent.shape)) {
            throw new Error(
              `internal: gradient of ${node.opName} for input ${j} is ${formatShape(g.shape)}, ` +
                `expected ${formatShape(parent.shape)}`,
            );
          }
          const existing = grads.get(parent);
          grads.set(parent, existing ? add(existing, g) : g);
        });
      }
    }),
  );
}
