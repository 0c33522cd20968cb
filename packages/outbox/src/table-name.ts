import { requireOption } from '@repopulse/events-core/bus-kit';

/** The outbox table's name when none is given. */
export const DEFAULT_OUTBOX_TABLE = 'repopulse_outbox';

/**
 * Checks a table name option (letters, digits and `_`, not starting with a digit; Postgres also takes
 * `schema.table`) and returns it quoted for SQL.
 */
export function quotedTable(scope: string, table: unknown, allowSchema: boolean): string {
  const part = '[A-Za-z_][A-Za-z0-9_]{0,62}';
  const pattern = new RegExp(allowSchema ? `^(${part}\\.)?${part}$` : `^${part}$`);
  requireOption(
    scope,
    'table',
    typeof table === 'string' && pattern.test(table),
    allowSchema
      ? 'an SQL name (letters, digits, _; optionally schema.table)'
      : 'an SQL name (letters, digits, _)',
    table,
  );
  return (table as string)
    .split('.')
    .map((name) => `"${name}"`)
    .join('.');
}
