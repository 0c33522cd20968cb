import type { BusDelivery, BusErrorHandler, DeliveryHandler, Topic } from '../bus';

/**
 * Wraps a subscriber's handler so that nothing it does can break delivery to others: it is called
 * and not awaited (a promise that never settles holds nothing up), a throw and a rejection both go
 * to `report` with `source: 'handler'`.
 *
 * @example
 * ```ts
 * const deliver = isolateHandler(handler, resolved.report, 'repo:42');
 * deliver({ position: '1-0', event }); // never throws
 * ```
 */
export function isolateHandler(
  handler: DeliveryHandler,
  report: BusErrorHandler,
  topic: Topic,
): (delivery: BusDelivery) => void {
  const onRejected = (error: unknown) => report(error, { topic, source: 'handler' });
  return (delivery) => {
    try {
      const result = handler(delivery);
      if (result && typeof result.then === 'function') result.then(undefined, onRejected);
    } catch (error) {
      onRejected(error);
    }
  };
}
