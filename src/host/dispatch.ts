// The one place a call crosses from an untrusted transport into the host: name checked against the table,
// input parsed with the call's schema, output checked too (a host bug must not leak odd shapes), errors
// turned into {code, message}. Both transports (WebSocket, Electron IPC) go through here; no transport
// knows about any particular call.
import { z } from 'zod';
import { calls, isCallName, type CallName, type CallResult, type Handlers } from '../api/index.ts';
import { PalmPayError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';

export type Dispatch = (name: unknown, input: unknown) => Promise<CallResult>;

export function createDispatcher(handlers: Handlers, log: Logger): Dispatch {
  return async (name, input) => {
    if (!isCallName(name)) return fail('UNKNOWN_CALL', `no such call: ${String(name).slice(0, 64)}`);
    const spec = calls[name];
    const parsed = spec.input.safeParse(input);
    if (!parsed.success) return fail('BAD_INPUT', `${name}: ${summarise(parsed.error)}`);
    try {
      const handler = handlers[name] as (input: unknown) => unknown;
      const output = await handler(parsed.data);
      const checked = spec.output.safeParse(output);
      if (!checked.success) {
        log.error({ call: name, issues: checked.error.issues }, 'handler returned output that breaks its schema');
        return fail('INTERNAL', `${name}: internal error`);
      }
      return { ok: true, output: checked.data };
    } catch (err) {
      if (err instanceof PalmPayError) return fail(err.code, err.message);
      log.error({ call: name, err }, 'handler failed');
      return fail('INTERNAL', `${name}: internal error`);
    }
  };
}

function fail(code: string, message: string): CallResult {
  return { ok: false, error: { code, message: message.slice(0, 1000) } };
}

function summarise(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`)
    .join('; ');
}

/** The handler names a dispatcher covers: handy for asserting a host implements the whole table. */
export function missingHandlers(handlers: Partial<Handlers>): CallName[] {
  return (Object.keys(calls) as CallName[]).filter((n) => typeof handlers[n] !== 'function');
}
