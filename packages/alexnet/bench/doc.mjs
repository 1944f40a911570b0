// Writes a benchmark's section into docs/benchmarks.md, replacing the section of the same heading
// and keeping the others.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function writeBenchSection(heading, notes, lines) {
  const path = new URL('../../../docs/benchmarks.md', import.meta.url);
  // Ends with a blank line, so the next heading stays apart from it.
  const section = [heading, '', ...notes, '', ...lines, '', ''].join('\n');
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const start = doc.indexOf(heading);
  if (start >= 0) {
    const end = doc.indexOf('\n## ', start + heading.length);
    doc = doc.slice(0, start) + section + (end >= 0 ? doc.slice(end + 1) : '');
  } else doc = `${doc.trimEnd()}\n\n${section}`;
  writeFileSync(path, doc);
  console.log(`wrote ${path.pathname}`);
}
