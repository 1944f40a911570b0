/**
 * Reverse-mode autograd over the graph that ops record (define-by-run, as in PyTorch):
 * a topological sort from the output, then one loop that hands each node's gradient to its
 * gradient function and accumulates what comes back.
 */
import { keep, nextTensorId, noGrad, tidy } from './engine.js';
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
  // Memory: a node's gradient is freed as soon as its gradient function has run, and each
  // gradient function's temporaries when it returns, so backward holds the gradients of the
  // frontier only, not of the whole graph (what lets AlexNet train at batch 128 in wasm32).
  // Only tensors made here are freed: a gradient function may hand back dy itself, or the
  // caller's `gradient`, and the same object may feed several parents, hence the counts.
  const firstId = nextTensorId();
  const holds = new Map<Tensor, number>();
  const hold = (t: Tensor) => holds.set(t, (holds.get(t) ?? 0) + 1);
  const release = (t: Tensor) => {
    const count = (holds.get(t) ?? 0) - 1;
    if (count > 0) {
      holds.set(t, count);
      return;
    }
    holds.delete(t);
    if (t.id >= firstId) t.dispose();
  };
  tidy(() =>
    noGrad(() => {
      const seed = gradient ?? onesLike(root);
      const grads = new Map<Tensor, Tensor>([[root, seed]]);
      hold(seed);
      for (let i = order.length - 1; i >= 0; i--) {
        const node = order[i];
        const dy = grads.get(node);
        if (!dy) continue;
        grads.delete(node);
        if (node.gradFn === null) {
          // A leaf: its .grad outlives this tidy. A fresh alias, so that two leaves never share one object.
          const previous = node.grad;
          node.grad = keep(previous ? add(previous, dy) : dy.detach());
          previous?.dispose();
          release(dy);
          continue;
        }
        const gradFn = node.gradFn;
        const inputGrads = tidy(() => gradFn(dy, node));
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
          const sum = existing ? add(existing, g) : g;
          grads.set(parent, sum);
          hold(sum);
          if (existing) release(existing);
        });
        for (const g of new Set(inputGrads)) {
          if (g && !holds.has(g) && g.id >= firstId) g.dispose();
        }
        release(dy);
      }
    }),
  );
}
