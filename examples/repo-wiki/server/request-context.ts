import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, context } from '@opentelemetry/api';
import { newEventId } from '@repopulse/events-core';
import type { NextFunction, Request, Response } from 'express';

/**
 * One user action (a mutating REST request) and everything it causes later: the events it
 * publishes, the background work it queues, the log lines written meanwhile.
 */
export interface ActionContext {
  /** The action's request id: the caller's valid `X-Request-Id`, or one made by the server. */
  requestId: string;
  /** The OpenTelemetry context of its request (its span), so work queued for later stays in its trace. */
  trace?: Context;
}

/**
 * A valid `X-Request-Id`: 1–128 characters of `A–Z a–z 0–9 . _ : -` (what fits in a log line,
 * a URL query and a shell argument unquoted). Anything else is replaced by a server-made id.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const storage = new AsyncLocalStorage<ActionContext>();

/** The action the current code runs for (`undefined` outside of one, e.g. startup cleanup). */
export function currentAction(): ActionContext | undefined {
  return storage.getStore();
}

/** Runs `fn` (and everything it starts) as part of `action`. */
export function runInAction<T>(action: ActionContext | undefined, fn: () => T): T {
  if (!action) return storage.exit(fn);
  return storage.run(action, () => (action.trace ? context.with(action.trace, fn) : fn()));
}

/** The request id of an incoming request: its `X-Request-Id` when valid, else a new ULID. */
export function requestIdOf(req: Request): string {
  const given = req.get('x-request-id');
  return given && REQUEST_ID_PATTERN.test(given) ? given : newEventId();
}

/**
 * Express middleware: gives every request a request id, returns it in the `X-Request-Id`
 * response header and runs the rest of the request inside its {@link ActionContext}.
 */
export function requestContext(req: Request, res: Response, next: NextFunction): void {
  const requestId = requestIdOf(req);
  res.setHeader('X-Request-Id', requestId);
  storage.run({ requestId, trace: context.active() }, next);
}
