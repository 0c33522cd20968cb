export { createSharedEventStream } from './share/shared-stream';
export { tabSharing } from './share/tab-sharing';
export type { SharedEventStreamOptions, ShareOptions } from './share/types';
