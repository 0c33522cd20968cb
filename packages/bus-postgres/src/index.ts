export {
  createPostgresBus,
  DEFAULT_POSTGRES_PUBLISH_TIMEOUT_MS,
  type PostgresBus,
  type PostgresBusOptions,
  type PostgresPublishOptions,
} from './postgres-bus';
export { DEFAULT_SCHEMA, postgresBusSchemaSql } from './schema-sql';
