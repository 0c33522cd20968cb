export * from './aggregate';
export * from './bus';
export * from './catalog';
export * from './cloudevents';
export * from './envelope';
export * from './error-log';
export * from './errors';
export { newEventId } from './ids';
export * from './options-check';
export * from './position';
export { type EventSchema, isKnownEventType, type PayloadOf, registerEventType } from './registry';
export {
  type FieldSpec,
  type FieldsPayloadOf,
  field,
  type OptionalFieldSpec,
  type PayloadSchema,
  type RequiredFieldSpec,
} from './schema';
export * from './sse-frame';
export { isStandardSchema, type StandardSchemaV1 } from './standard-schema';
export * from './status';
export * from './status-tracker';
export { isTraceparent, isTracestate, type TraceContext, traceIdOf } from './trace-context';
