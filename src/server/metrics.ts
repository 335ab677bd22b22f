// The centre's Prometheus metrics (prom-client), one registry per server instance: process defaults (CPU, memory,
// event-loop lag), HTTP, ingestion counts, the database pool (connections, errors, retried transactions) and the
// palm index. Counters kept elsewhere (Central.counters, the pool's stats) are read when /metrics is scraped.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Central } from './service.ts';

export interface ServerMetrics {
  registry: Registry;
  inFlight: Gauge;
  responses: Counter<'route' | 'status'>;
}

/** The upload gate (http.ts): uploads being worked on, those waiting their turn, and those turned away (queue full). */
export interface UploadGate {
  readonly activeCount: number;
  readonly pendingCount: number;
  readonly refusedCount: number;
}

export function serverMetrics(central: Central, uploads?: UploadGate): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const started = Date.now();
  const registers = [registry];
  new Gauge({ name: 'palmpay_uptime_seconds', help: 'seconds since this server process started', registers, collect() {
    this.set(Math.round((Date.now() - started) / 1000));
  } });
  const inFlight = new Gauge({ name: 'palmpay_http_in_flight', help: 'HTTP requests being served', registers });
  const responses = new Counter({ name: 'palmpay_http_responses_total', help: 'HTTP responses by route and status', labelNames: ['route', 'status'] as const, registers });
  // Mirrors of counters that live in Central and in the pool: reset and set on each scrape.
  const mirror = (name: string, help: string, read: () => number) =>
    new Counter({ name, help, registers, collect() {
      this.reset();
      this.inc(read());
    } });
  mirror('palmpay_batches_total', 'upload batches ingested', () => central.counters.batches);
  mirror('palmpay_auth_failures_total', 'terminal requests refused at authentication', () => central.counters.authFailures);
  mirror('palmpay_db_pool_errors_total', 'errors reported by idle pooled database connections', () => central.repo.db.stats().errors);
  mirror('palmpay_db_tx_retries_total', 'transactions run again after a serialisation failure or a deadlock', () => central.repo.db.stats().retries);
  new Counter({ name: 'palmpay_records_total', help: 'records answered, by status', labelNames: ['status'] as const, registers, collect() {
    this.reset();
    for (const [status, n] of Object.entries(central.counters.records)) this.inc({ status }, n);
  } });
  new Gauge({ name: 'palmpay_db_pool_connections', help: 'database pool connections by state', labelNames: ['state'] as const, registers, collect() {
    const s = central.repo.db.stats();
    this.set({ state: 'total' }, s.total);
    this.set({ state: 'idle' }, s.idle);
    this.set({ state: 'waiting' }, s.waiting);
  } });
  if (uploads) {
    new Gauge({ name: 'palmpay_uploads', help: "uploads in this process: being worked on, or waiting for a slot (--upload-slots)", labelNames: ['state'] as const, registers, collect() {
      this.set({ state: 'active' }, uploads.activeCount);
      this.set({ state: 'waiting' }, uploads.pendingCount);
    } });
    new Counter({ name: 'palmpay_uploads_refused_total', help: 'uploads turned away with 503 because the upload queue was full (--upload-queue)', registers, collect() {
      this.reset();
      this.inc(uploads.refusedCount);
    } });
  }
  new Gauge({ name: 'palmpay_palm_index_entries', help: "entries in this process's palm index", registers, collect() {
    this.set(central.palmIndex.stats().entries);
  } });
  new Gauge({ name: 'palmpay_palm_index_position', help: 'last person change position the palm index applied', registers, collect() {
    this.set(central.palmIndex.stats().position);
  } });
  return { registry, inFlight, responses };
}
