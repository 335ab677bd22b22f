// A scratch database for one bench run: a fresh schema on PostgreSQL (dropped afterwards), or a temporary SQLite file.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScratchDb {
  url: string;
  dialect: 'sqlite' | 'postgres';
  drop(): Promise<void>;
}

export async function scratchDb(base: string | undefined): Promise<ScratchDb> {
  if (!base) {
    const dir = mkdtempSync(join(tmpdir(), 'palmpay-bench-centre-'));
    return { url: `sqlite:${join(dir, 'centre.db')}`, dialect: 'sqlite', drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const { default: pg } = await import('pg');
  const name = `palmpay_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${name}`);
  await admin.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    url: url.toString(),
    dialect: 'postgres',
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await c.end();
    },
  };
}

export function quantile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

export const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
