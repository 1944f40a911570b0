/** A bad input to the data pipeline: names the file (or dataset and record) and what is wrong. */
export class DataError extends Error {
  /** The file, or `file#record`, that the error is about. */
  readonly source: string;

  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'DataError';
    this.source = source;
  }
}
