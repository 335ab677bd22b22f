// `palmpay bench match` refuses bad options with one line and exit code 1, before any gallery is built.
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

describe('palmpay bench match options', () => {
  it.each([['2'], ['0'], ['abc']])('--screen-fraction %s is refused', async (v) => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    const code = await main(['node', 'palmpay', 'bench', 'match', '--n', '1000', '--load', '0', '--screen-fraction', v]);
    spy.mockRestore();
    expect(code).toBe(1);
    expect(lines).toEqual([`palmpay: --screen-fraction must be a number in (0, 1], got ${v}`]);
  });
});
