import type { LongPollBody, ErrorBody as WireErrorBody } from '@repopulse/events-core/wire';

/** @deprecated The wire module's `ErrorBody` (`@repopulse/events-core/wire`). */
export type ErrorBody = WireErrorBody;

/** @deprecated The wire module's `LongPollBody` (`@repopulse/events-core/wire`). */
export type LongPollResponse = LongPollBody;
