import { describe, expect, it } from 'vitest';
import { FlowDriver } from '../../src/flows/driver.ts';
import { createPerformers } from '../../src/flows/effects.ts';
import { initialSession, reduceSession, type SessionEvent, type SessionState } from '../../src/flows/session.ts';
import { testPorts } from './helpers.ts';

const cfg = { idleMs: 60_000 };
function sessionDriver(ports = testPorts()) {
  const reducer = (s: SessionState, e: SessionEvent) => reduceSession(cfg, s, e);
  return { ports, d: new FlowDriver(reducer, { state: initialSession, effects: [] }, createPerformers(ports).auth as never) };
}

describe('operator session', () => {
  it('logs in with palm + PIN, then locks after the idle time', async () => {
    const { ports, d } = sessionDriver();
    d.dispatch({ type: 'login.start' });
    ports.palm.present('op-ali');
    await d.waitFor((s) => s.step === 'login' && s.auth.step === 'pin');
    d.dispatch({ type: 'auth.submit', pin: '1234' });
    const active = await d.waitFor((s) => s.step === 'active');
    expect(active.step === 'active' && active.operator.id).toBe('cashier-1');
    d.dispatch({ type: 'tick', at: 1000 });
    d.dispatch({ type: 'activity', at: 50_000 });
    d.dispatch({ type: 'tick', at: 100_000 });
    expect(d.state.step).toBe('active');
    d.dispatch({ type: 'tick', at: 110_000 });
    expect(d.state).toEqual({ step: 'locked', reason: 'idle' });
  });

  it('a customer palm is not an operator; an unknown palm is asked again', async () => {
    const { ports, d } = sessionDriver();
    d.dispatch({ type: 'login.start' });
    ports.palm.present('ahmad');
    await d.waitFor((s) => s.step === 'login' && s.auth.step === 'palm' && s.auth.retry === 'not-an-operator');
    ports.palm.present('stranger');
    await d.waitFor((s) => s.step === 'login' && s.auth.step === 'palm' && s.auth.retry === 'unknown-palm');
    d.dispatch({ type: 'login.cancel' });
    expect(d.state).toEqual({ step: 'locked', reason: 'manual' });
  });

  it('three wrong PINs lock the operator out', async () => {
    const { ports, d } = sessionDriver();
    d.dispatch({ type: 'login.start' });
    ports.palm.present('op-ali');
    for (let i = 0; i < 3; i++) {
      await d.waitFor((s) => s.step === 'login' && s.auth.step === 'pin');
      d.dispatch({ type: 'auth.submit', pin: '0000' });
      await d.waitFor((s) => !(s.step === 'login' && s.auth.step === 'checking-pin'));
    }
    expect(d.state).toEqual({ step: 'locked', reason: 'pin-locked' });
  });

  it('ignores a malformed PIN and a manual lock works from anywhere', () => {
    let s: SessionState = { step: 'login', auth: { step: 'pin', need: 'any', operator: { id: 'o', name: 'O', roles: ['cashier'] }, wrong: false, attemptsLeft: null } };
    const r = reduceSession(cfg, s, { type: 'auth.submit', pin: '12' });
    expect(r.effects).toEqual([]);
    s = reduceSession(cfg, s, { type: 'lock' }).state;
    expect(s).toEqual({ step: 'locked', reason: 'manual' });
  });
});
