#!/usr/bin/env node
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
// Worker threads (the wasm backend's pool, data loader workers) must not keep the process alive.
setImmediate(() => process.exit(process.exitCode));
