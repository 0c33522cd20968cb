import type { EventBus } from '@repopulse/events-core';

/**
 * The handler options a mount passes to its adapter, on top of the fixed ones every mount sets
 * (`topic` from the route's `id` through {@link topicOf}, `authorize` through {@link accessOf}).
 * Whatever is undefined is left to the adapter's default.
 */
export interface ContractHandlerOptions {
  /** The bus the handler reads. */
  bus: EventBus;
  /** Stream token secret; with it, requests need a token (`requireToken` default). */
  tokenSecret?: string;
  heartbeatMs?: number;
  retryMs?: number;
  maxBufferedBytes?: number;
  writeTimeoutMs?: number;
  maxDurationMs?: number;
  longPollWaitMs?: number;
}

/** Counters the suite reads from the handler under test (a subset of its `stats()`). */
export interface ContractStats {
  connections: number;
  streams: number;
  longPolls: number;
  topics: number;
  closedForBackpressure: number;
  closedForTokenExpiry: number;
  closedForShutdown: number;
}

/** A server started by a mount, with the handler mounted on `GET|HEAD|… <origin>/…/:id/events`. */
export interface MountedServer {
  /** `http://127.0.0.1:<port>` or `https://localhost:<port>`. */
  origin: string;
  /** The events URL of route id `id` (its topic is `topicOf(id)`), with `query` (`?…`) appended. */
  url(id: string, query?: string): string;
  /** The handler's counters. */
  stats(): ContractStats | Promise<ContractStats>;
  /** Destroys every open connection to the server, as a network drop does. */
  dropConnections(): void;
  /** The handler's `close({ graceMs })`: drains, ends every stream; the server keeps listening. */
  closeHandler(options?: { graceMs?: number }): Promise<void>;
  /** Closes the handler and the server, dropping every connection. */
  close(): Promise<void>;
}

/**
 * Starts a real server with the adapter under test mounted for every method on a route with an
 * `id` parameter, `topic: topicOf(id)` and `authorize` answering per {@link accessOf}.
 */
export type ServerMount = (options: ContractHandlerOptions) => Promise<MountedServer>;

/** The topic a mount derives from its route's `id`. */
export function topicOf(id: string): string {
  return `contract:${id}`;
}

/**
 * What `authorize` answers for route id `id`: ids starting `forbidden-` are refused (`false`, 403),
 * ids starting `missing-` are unknown (throw the adapter's 404 `not_found` error), others allowed.
 */
export function accessOf(id: string): 'allow' | 'forbidden' | 'not_found' {
  if (id.startsWith('forbidden-')) return 'forbidden';
  if (id.startsWith('missing-')) return 'not_found';
  return 'allow';
}
