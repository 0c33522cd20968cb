export { createMemoryBus, type MemoryBus, type MemoryBusOptions } from './memory-bus';
