export * from './aggregate';
export * from './bus';
export * from './catalog';
export * from './envelope';
export * from './error-log';
export * from './errors';
export { newEventId } from './ids';
export * from './options-check';
export * from './position';
export { isKnownEventType, registerEventType } from './registry';
export {
  type FieldSpec,
  field,
  type OptionalFieldSpec,
  type PayloadOf,
  type PayloadSchema,
  type RequiredFieldSpec,
} from './schema';
export * from './sse-frame';
export * from './status';
export * from './status-tracker';
