#!/usr/bin/env node
// First, before anything compiles WebAssembly: lets Node 20 run the wasm backend's fused
// multiply-add build (Node 22+ and browsers have it anyway; GPUNET_WASM_RELAXED_SIMD=0 opts out).
import '@gpunet/wasm/relaxed-simd';

const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
// Worker threads (the wasm backend's pool, data loader workers) must not keep the process alive.
setImmediate(() => process.exit(process.exitCode));
