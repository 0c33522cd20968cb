import { field, isKnownEventType, registerEventType } from '@repopulse/events-core';

/** The user actions the app records with an `action.started` event. */
export const ACTIONS = [
  'create_repo',
  'delete_repo',
  'run_all',
  'run_task',
  'reset_task',
  'force_reset_task',
] as const;

/** One of {@link ACTIONS}. */
export type ActionName = (typeof ACTIONS)[number];

/**
 * Payload of the app's own `action.started` event: which action a request id stands for and who
 * asked, so the Activity panel can title a group ("Run all · demo · …"). Published on the
 * repository topic once the request succeeded, with the request's `request_id`.
 */
export interface ActionStartedPayload {
  /** What the user asked for. */
  action: ActionName;
  /** Who asked. */
  user: string;
}

declare module '@repopulse/events-core' {
  interface EventMap {
    /** A user action on a repository (app-defined; see examples/repo-wiki). */
    'action.started': ActionStartedPayload;
  }
}

/** Registers the `action.started` schema (once per process). */
export function registerActionEvent(): void {
  if (isKnownEventType('action.started')) return;
  registerEventType('action.started', { action: field.oneOf(ACTIONS), user: field.string(200) });
}
