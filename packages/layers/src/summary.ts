/** One leaf module's line in `Module.summary`. */
export interface SummaryRow {
  /** Dotted path, as in the state dict (`features.0`). */
  name: string;
  /** Class name (`Conv2d`). */
  type: string;
  /** Output shape, batch included. */
  outputShape: number[];
  /** Number of parameter elements the module itself holds. */
  params: number;
}

/** What `Module.summary` returns. */
export interface ModelSummary {
  inputShape: number[];
  /** One row per leaf module call, in call order. */
  rows: SummaryRow[];
  /** Elements in all parameters. */
  totalParams: number;
  /** Elements in parameters that require grad. */
  trainableParams: number;
}

/** Options of `Module.summary`. */
export interface SummaryOptions {
  /** Where the table goes; console.log by default, null for nowhere. */
  print?: ((text: string) => void) | null;
}

/** Formats a summary as a Keras-like table (`Layer (type) | Output Shape | Param #`). */
export function formatSummary(summary: ModelSummary): string {
  const header = ['Layer (type)', 'Output Shape', 'Param #'];
  const body = summary.rows.map((r) => [
    `${r.name} (${r.type})`,
    `[${r.outputShape.join(', ')}]`,
    r.params.toLocaleString('en-US'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('   ');
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0) + 6);
  return [
    `Input: [${summary.inputShape.join(', ')}]`,
    rule('='),
    line(header),
    rule('='),
    ...body.map(line),
    rule('='),
    `Total params: ${summary.totalParams.toLocaleString('en-US')}`,
    `Trainable params: ${summary.trainableParams.toLocaleString('en-US')}`,
    `Non-trainable params: ${(summary.totalParams - summary.trainableParams).toLocaleString('en-US')}`,
  ].join('\n');
}
