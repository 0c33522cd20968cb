/** A result of `query`, as pg returns it. */
export interface PgResult {
  /** The rows. */
  rows: Record<string, unknown>[];
}

/** Anything that runs a query: a pg `PoolClient` (inside `BEGIN … COMMIT`), a `Client`, a `Pool`. */
export interface PgQueryable {
  /** Runs `text` with `$1…` parameters. */
  query(text: string, values?: unknown[]): Promise<PgResult>;
}

/** A pg `PoolClient`, as the relay holds one for its lease. */
export interface PgPoolClient extends PgQueryable {
  /** Returns the connection to the pool (destroys it when given an error). */
  release(error?: Error | boolean): void;
  /** pg's connection events. */
  on(event: 'error' | 'end' | 'notification', listener: (arg?: unknown) => void): unknown;
  /** Removes a listener. */
  off(event: 'error' | 'end' | 'notification', listener: (arg?: unknown) => void): unknown;
}

/** The part of a pg `Pool` (pg 8) the store uses. */
export interface PgPool extends PgQueryable {
  /** Checks a connection out. */
  connect(): Promise<PgPoolClient>;
}
