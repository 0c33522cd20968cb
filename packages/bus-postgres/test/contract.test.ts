import { testBus } from '@repopulse/bus-contract';
import { describeWithPostgres, useBusSchema } from './postgres-support';

describeWithPostgres('bus-postgres contract (a schema of its own on the test Postgres)', () => {
  const db = useBusSchema('bus_contract');
  testBus('postgres', (options) => db.bus(options), {
    sharedHistory: true,
    // The count limit trims in steps of an eighth of historyLimit (1 for the suite's limit of 10).
    trimSlack: 2,
  });
});
