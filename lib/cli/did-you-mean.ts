export { didYouMean } from '../core/did-you-mean';
