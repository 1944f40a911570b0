/**
 * What a command tells people while it works: a progress bar on a terminal, plain lines when
 * stderr is not one, nothing with `--json` (stdout then carries only JSON lines).
 */
import cliProgress from 'cli-progress';

/** Where human-readable and machine-readable output go. */
export interface Reporter {
  /** A line for people (stdout; silent with --json). */
  info(line: string): void;
  /** One JSON object per line on stdout (only with --json). */
  json(value: Record<string, unknown>): void;
  /**
   * Starts a bar over `total` steps; `update` moves it; `stop` ends it. `fields` is what follows
   * the count, with `{name}` placeholders for the fields `updateBar` passes (default: the
   * training fields loss, accuracy, speed and data wait).
   */
  startBar(total: number, label: string, fields?: string): void;
  updateBar(value: number, fields: Record<string, string>): void;
  stopBar(): void;
  readonly isJson: boolean;
}

/** The progress fields of a training epoch. */
export const TRAINING_FIELDS = 'loss {loss} | acc {accuracy} | {speed} img/s';

/** A reporter for `--json` (or not) on this process's streams. */
export function createReporter(isJson: boolean): Reporter {
  let bar: cliProgress.SingleBar | null = null;
  let lastPlain = 0;
  let label = '';
  let total = 0;
  let template = '';
  const tty = Boolean(process.stderr.isTTY);
  return {
    isJson,
    info(line) {
      if (isJson) return;
      if (bar) process.stderr.write('\n');
      process.stdout.write(`${line}\n`);
    },
    json(value) {
      if (isJson) process.stdout.write(`${JSON.stringify(value)}\n`);
    },
    startBar(steps, name, fields = TRAINING_FIELDS) {
      total = steps;
      label = name;
      template = fields;
      if (!tty) return;
      bar = new cliProgress.SingleBar(
        {
          format: `${name} {bar} {value}/{total} | ${fields} | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(
        steps,
        0,
        Object.fromEntries([...fields.matchAll(/\{(\w+)\}/g)].map((m) => [m[1], '-'])),
      );
    },
    updateBar(value, fields) {
      if (bar) {
        bar.update(value, fields);
        return;
      }
      // No terminal: a plain progress line every ~10 seconds, on stderr, unless --json.
      const now = Date.now();
      if (isJson || now - lastPlain < 10_000) return;
      lastPlain = now;
      const text = template.replace(/\{(\w+)\}/g, (_, key: string) => fields[key] ?? '-');
      process.stderr.write(`${label} ${value}/${total} ${text.replaceAll(' | ', ', ')}\n`);
    },
    stopBar() {
      bar?.stop();
      bar = null;
    },
  };
}
