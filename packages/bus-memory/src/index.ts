export {
  createMemoryBus,
  type MemoryBus,
  type MemoryBusOptions,
  type MemoryHistoryStats,
} from './memory-bus';
