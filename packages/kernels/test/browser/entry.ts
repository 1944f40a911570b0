/**
 * The browser side of the harness: runs the conformance suite of @gpunet/tensor
 * (`@gpunet/tensor/conformance`) on the mode named by `globalThis.GPUNET_MODE`, with the mode's
 * tolerance, then the split cases and the backend checks the Node modes run in
 * src/backend.test.ts (training, compile cache, leaks counted down to the device's textures
 * and buffers, data on the device), and leaves the results on `globalThis.gpunetResults`.
 */
import { checkConformance, conformanceCases } from '@gpunet/tensor/conformance';
import type { GpuMode } from '../../src/modes.js';
import { checkSplitCase, SPLIT_CASES } from '../../src/split-cases.js';
import { BACKEND_CHECKS } from '../backend-checks.js';
import { startMode, TOLERANCE } from '../modes.js';

interface CaseResult {
  name: string;
  isPassed: boolean;
  error: string;
  ms: number;
}

interface Harness {
  GPUNET_MODE?: GpuMode;
  /** Only the cases whose name contains one of these words (the run's GPUNET_CASES). */
  GPUNET_CASES?: string[] | null;
  gpunetResults?: { mode: string; startError: string; cases: CaseResult[]; isDone: boolean };
}

async function main(): Promise<void> {
  const g = globalThis as unknown as Harness;
  const mode = g.GPUNET_MODE ?? 'webgl2';
  const results = { mode, startError: '', cases: [] as CaseResult[], isDone: false };
  g.gpunetResults = results;
  try {
    await startMode(mode);
  } catch (error) {
    results.startError = String(error);
    results.isDone = true;
    return;
  }
  const checks = [
    ...conformanceCases.map((c) => ({
      name: c.name,
      check: () => checkConformance(c, mode, { tolerance: TOLERANCE[mode] }),
    })),
    // The split paths lose no precision of their own: the mode's conformance tolerance.
    ...SPLIT_CASES.map((c) => ({
      name: `split: ${c.name}`,
      check: () => checkSplitCase(mode, c, TOLERANCE[mode]),
    })),
    ...BACKEND_CHECKS.map((c) => ({ name: `backend: ${c.name}`, check: () => c.check(mode) })),
  ];
  const only = g.GPUNET_CASES;
  for (const c of checks.filter((k) => !only || only.some((w) => k.name.includes(w)))) {
    const start = performance.now();
    let error = '';
    try {
      await c.check();
    } catch (e) {
      error = e instanceof Error ? `${e.message}` : String(e);
    }
    const ms = Math.round(performance.now() - start);
    results.cases.push({ name: c.name, isPassed: error === '', error, ms });
    console.log(
      `${error === '' ? 'PASS' : 'FAIL'} ${c.name} (${ms} ms)${error ? `: ${error}` : ''}`,
    );
  }
  results.isDone = true;
}

void main();
