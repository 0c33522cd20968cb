import { testBus } from '@repopulse/bus-contract';
import { createMemoryBus } from '../src/index';

// The memory bus keeps history in this process only, so a second bus is "another process".
testBus('memory', (options) => createMemoryBus(options), { sharedHistory: false });
