/**
 * The base of every typed error PalmPay raises on purpose. `code` is stable and machine-readable
 * (the UI and the tests switch on it); `message` is one clear line for a person.
 */
export class PalmPayError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
