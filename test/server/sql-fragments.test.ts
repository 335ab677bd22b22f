// The SQL fragments render to each backend's native placeholders; a set is one bound array on PostgreSQL (so one
// prepared statement serves every set size) and a list of placeholders on SQLite.
import { describe, expect, it } from 'vitest';
import { anyOf, raw, render, sql, textArray } from '../../src/server/sql.ts';

describe('sql fragments', () => {
  it('anyOf binds the set as one text[] on PostgreSQL and as a list on SQLite', () => {
    const q = sql`SELECT id FROM persons WHERE ${anyOf(raw('id'), ['a', 'b?', "c'"])} AND status = ${'confirmed'}`;
    expect(render(q, 'postgres')).toEqual({ text: 'SELECT id FROM persons WHERE id = ANY($1::text[]) AND status = $2', params: [['a', 'b?', "c'"], 'confirmed'] });
    expect(render(q, 'sqlite')).toEqual({ text: 'SELECT id FROM persons WHERE id IN (?, ?, ?) AND status = ?', params: ['a', 'b?', "c'", 'confirmed'] });
  });

  it('an empty set and a PostgreSQL array on SQLite are refused, not rendered', () => {
    expect(() => anyOf(raw('id'), [])).toThrow(RangeError);
    expect(() => render(sql`SELECT * FROM unnest(${textArray(['a'])})`, 'sqlite')).toThrow(/PostgreSQL only/);
  });
});
