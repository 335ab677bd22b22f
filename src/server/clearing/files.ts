// Writing a day's settlement to a folder: the signed settlement file and one CSV per participant. The same
// settlement always writes the same bytes, so a re-run leaves the folder as it was.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settlementFileName, type Settlement } from './settlement.ts';

/** Writes the files (0600: they are financial data) and returns their paths, the signed file first. */
export function writeSettlement(dir: string, s: Settlement): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out: string[] = [];
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    out.push(path);
  };
  write(settlementFileName(s.file.body.date), `${JSON.stringify(s.file, null, 2)}\n`);
  for (const c of s.csvs) write(c.name, c.text);
  return out;
}
