export { createMemoryBus, type MemoryBus, type MemoryBusOptions } from './memory-bus';
export { RingBuffer } from './ring-buffer';
