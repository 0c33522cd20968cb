export { topicKey } from './keys';
export {
  createRedisBus,
  DEFAULT_KEY_PREFIX,
  DEFAULT_MAX_PENDING_PUBLISHES,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  type RedisBus,
  type RedisBusOptions,
} from './redis-bus';
