import type { OtelAttributes } from './api';

/** A key for an attribute set that does not depend on the order its keys were written in. */
export function attributesKey(attributes: OtelAttributes): string {
  return JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
}
