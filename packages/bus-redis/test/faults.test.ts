import { faultsSuite } from './suites/faults';

faultsSuite('ioredis 5');
