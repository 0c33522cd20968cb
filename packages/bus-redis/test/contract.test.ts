import { contractSuite } from './suites/contract';

contractSuite('ioredis 5');
