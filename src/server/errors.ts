// The centre's refusal type, shared by every service module and mapped to HTTP by http.ts.
import { PalmPayError } from '../util/errors.ts';

/** A refusal with its HTTP status; `code` is stable for clients and tests. `attemptsLeft`: a wrong PIN's tries left. */
export class ServerError extends PalmPayError {
  constructor(code: string, message: string, readonly status: number, readonly attemptsLeft?: number) {
    super(code, message);
  }
}
