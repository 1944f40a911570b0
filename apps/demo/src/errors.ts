/** An error the CLI reports as one line (no stack) with a non-zero exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    /** Process exit code: 2 for bad usage or input, 1 for a failure while running. */
    readonly exitCode = 2,
    /** Lines printed after the message, indented (e.g. every bad file and its reason). */
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

/** The one line a failure prints: the message of a known error, or `name: message`. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const line = error.message.split('\n')[0] ?? '';
  return error instanceof CliError ? line : `${error.name}: ${line}`;
}
