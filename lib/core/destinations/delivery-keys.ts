import { deliveriesRoot, deliveryRunPrefix } from '../layout';

/**
 * Where destinations keep their state in our store, beside the run records:
 *   <prefix>/_deliveries/<feed>/[partner=<id>/]slot=<slot>/<runId>/<destination>.json   what was sent (resume)
 *   <prefix>/_deliveries/<feed>/[partner=<id>/]slot=<slot>/<runId>/<destination>/       change set, dead letters
 *   <prefix>/_deliveries/<feed>/[partner=<id>/]<destination>.last.json                   base of the next diff
 */
export interface DeliveryRef {
  readonly prefix: string;
  readonly feed: string;
  readonly partner: string | null;
  readonly slot: string;
  readonly runId: string;
  readonly manifestKey: string;
}

const root = (ref: Pick<DeliveryRef, 'prefix' | 'feed' | 'partner'>) => deliveriesRoot(ref);

export function deliveryRecordKey(ref: DeliveryRef, destination: string): string {
  return `${deliveryRunPrefix(ref, ref.slot, ref.runId)}${destination}.json`;
}

export function deliveryPrefix(ref: DeliveryRef, destination: string): string {
  return `${deliveryRunPrefix(ref, ref.slot, ref.runId)}${destination}/`;
}

export function baseKey(ref: Pick<DeliveryRef, 'prefix' | 'feed' | 'partner'>, destination: string): string {
  return `${root(ref)}${destination}.last.json`;
}
