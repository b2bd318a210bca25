/** A CLI failure with the message the operator reads and the exit code (1 failed, 2 usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
