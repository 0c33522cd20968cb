export { createSharedEventStream } from './share/shared-stream';
export type { SharedEventStreamOptions, ShareOptions } from './share/types';
