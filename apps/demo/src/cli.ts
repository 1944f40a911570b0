// The gpunet CLI: filled in by the demo issue (#8).
console.log('gpunet: not built yet');
