/**
 * What an app uses: the event envelope and catalog, validation and custom event types, the task and
 * repository state machines with status aggregation, the `EventBus` interface every bus implements,
 * and the errors. Bus authors also import `@repopulse/events-core/bus-kit`; the protocol between
 * server and client (positions, SSE frames, resets on the wire, long-poll bodies) is
 * `@repopulse/events-core/wire`.
 *
 * @packageDocumentation
 */
export { aggregateRepositoryStatus, type TaskStatusLike } from './aggregate';
export type {
  BusDelivery,
  BusErrorContext,
  BusErrorHandler,
  BusOptions,
  BusStats,
  DeliveryHandler,
  EventBus,
  EventDelivery,
  PublishResult,
  SubscribeOptions,
  Subscription,
  Topic,
} from './bus';
export { DEFAULT_HISTORY_LIMIT } from './bus';
export {
  type BuiltinEventMap,
  type DocCreatedPayload,
  type EventMap,
  type EventType,
  LOG_LEVELS,
  type LogAppendPayload,
  type LogLevel,
  type RepoCreatedPayload,
  type RepoDeletedPayload,
  type RepoStatusChangedPayload,
  type TaskProgressPayload,
  type TaskQueueChangedPayload,
  type TaskStatusChangedPayload,
} from './catalog';
export {
  CLOUDEVENTS_CONTENT_TYPE,
  type CloudEvent,
  DEFAULT_CLOUDEVENT_SOURCE,
  fromCloudEvent,
  type ToCloudEventOptions,
  toCloudEvent,
} from './cloudevents';
export {
  type AnyEnvelope,
  createEvent,
  DEFAULT_MAX_EVENT_BYTES,
  type Envelope,
  type EnvelopeOf,
  type EventMeta,
  parseEnvelope,
  type ValidationOptions,
} from './envelope';
export {
  BusClosedError,
  BusError,
  type BusErrorCode,
  BusUnavailableError,
  EventValidationError,
  type EventValidationErrorCode,
  InvalidTransitionError,
  isRepoPulseError,
  RepoPulseError,
  type RepoPulseErrorCode,
  type RepoPulseErrorOptions,
  type TransitionMachine,
} from './errors';
export { newEventId } from './ids';
export { OptionsError, type OptionsErrorCode } from './options-check';
export { type EventSchema, isKnownEventType, type PayloadOf, registerEventType } from './registry';
export {
  type FieldSpec,
  type FieldsPayloadOf,
  field,
  type OptionalFieldSpec,
  type PayloadSchema,
  type RequiredFieldSpec,
} from './schema';
export { isStandardSchema, type StandardSchemaV1 } from './standard-schema';
export {
  assertRepoTransition,
  assertTaskTransition,
  canTransitionRepo,
  canTransitionTask,
  isRepositoryStatus,
  isTaskStatus,
  REPOSITORY_STATUSES,
  type RepositoryStatus,
  TASK_STATUSES,
  type TaskStatus,
  type TaskTransitionOptions,
} from './status';
export {
  createRepositoryStatusTracker,
  type RepositoryStatusSnapshot,
  type RepositoryStatusTracker,
  type RepositoryStatusTrackerOptions,
} from './status-tracker';
export { isTraceparent, isTracestate, type TraceContext, traceIdOf } from './trace-context';
export type { StreamPosition } from './wire/position';
export type { ResetDelivery, ResetReason } from './wire/reset';
