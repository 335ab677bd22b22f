// The kiosk state as React sees it: the operator session and the one flow this screen runs, kept current by
// the host's 'session' and 'flow' events (other tabs' flows are ignored). Every call goes through the typed API.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AnyFlowState, FlowKind, FlowView, HostApi, HostEvent, SessionState, SessionUiEvent, SessionView, UiEvent } from '@api/index.ts';
import type { Transport } from '../api-client.ts';

export interface Kiosk {
  session: SessionView | null;
  flow: { flowId: string; kind: FlowKind; rev: number; state: AnyFlowState } | null;
  /** The code of the last refused call (translated by the screen), e.g. SESSION_LOCKED. */
  error: string | null;
  busy: boolean;
  start(kind: FlowKind): void;
  /** The first operator (lock screen): the code proven online, then this screen runs that operator's enrolment. Rejects with the refusal. */
  enrolOperator(code: string): Promise<void>;
  send(event: UiEvent): void;
  sessionSend(event: SessionUiEvent): void;
  leave(): void;
  clearError(): void;
}

const typed = (v: FlowView) => ({ flowId: v.flowId, kind: v.kind, rev: v.rev, state: v.state as unknown as AnyFlowState });

/** A call's result and the host's event can arrive in either order: keep the newer view of the same flow. */
function newer<T extends { rev: number; flowId?: string }>(prev: T | null, next: T): T {
  if (prev && prev.flowId === next.flowId && prev.rev > next.rev) return prev;
  return next;
}

export function useKiosk(api: HostApi, transport: Transport): Kiosk {
  const [session, setSession] = useState<SessionView | null>(null);
  const [flow, setFlow] = useState<Kiosk['flow']>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const flowId = useRef<string | null>(null);
  // Events can overtake the result of the call that started a flow: remember recent views by flow id.
  const recent = useRef(new Map<string, NonNullable<Kiosk['flow']>>());

  useEffect(() => {
    void api['kiosk.session']({}).then((s) => setSession((p) => newer(p, s)), () => {});
    return transport.onEvent((event: HostEvent) => {
      if (event.type === 'session') setSession((p) => newer(p, event.session));
      if (event.type !== 'flow') return;
      const view = typed(event.view);
      const seen = recent.current;
      seen.set(view.flowId, newer(seen.get(view.flowId) ?? null, view));
      if (seen.size > 32) seen.delete(seen.keys().next().value!);
      if (view.flowId === flowId.current) {
        setFlow((p) => newer(p, view));
        if (view.state.step === 'finished') flowId.current = null;
      }
    });
  }, [api, transport]);

  // A lock ends every flow on the host: leave the screen too. Not an operator enrolment with a code: it runs on the
  // locked screen, and its start (stopping the sign-in) is itself what locks a sign-in in progress.
  const locked = (session?.state as SessionState | undefined)?.step === 'locked';
  const operatorFlow = useRef<string | null>(null);
  useEffect(() => {
    if (locked && (flowId.current === null || flowId.current !== operatorFlow.current)) {
      flowId.current = null;
      setFlow(null);
    }
  }, [locked]);

  const fail = (err: unknown) => setError((err as { code?: string }).code ?? 'INTERNAL');

  const start = useCallback(
    (kind: FlowKind) => {
      setError(null);
      setBusy(true);
      api['kiosk.start']({ kind })
        .then((v) => {
          flowId.current = v.flowId;
          setFlow(newer(recent.current.get(v.flowId) ?? null, typed(v)));
        }, fail)
        .finally(() => setBusy(false));
    },
    [api],
  );

  const enrolOperator = useCallback(
    (code: string) =>
      api['kiosk.enrolOperator']({ code }).then((v) => {
        setError(null);
        operatorFlow.current = v.flowId;
        flowId.current = v.flowId;
        setFlow(newer(recent.current.get(v.flowId) ?? null, typed(v)));
      }),
    [api],
  );

  const send = useCallback(
    (event: UiEvent) => {
      const id = flowId.current;
      if (!id) return;
      api['kiosk.send']({ flowId: id, event }).then((v) => {
        if (flowId.current === v.flowId) setFlow((p) => newer(p, typed(v)));
      }, fail);
    },
    [api],
  );

  const sessionSend = useCallback(
    (event: SessionUiEvent) => {
      setError(null);
      api['kiosk.sessionSend']({ event }).then((s) => setSession((p) => newer(p, s)), fail);
    },
    [api],
  );

  const leave = useCallback(() => {
    const id = flowId.current;
    flowId.current = null;
    setFlow(null);
    if (id) void api['kiosk.send']({ flowId: id, event: { type: 'cancel' } }).catch(() => {});
  }, [api]);

  return { session, flow, error, busy, start, enrolOperator, send, sessionSend, leave, clearError: () => setError(null) };
}
