// Only the version: a named import lets bundlers leave the rest of package.json out of a Lambda.
import { version } from '../package.json';

export const TOOLKIT_VERSION: string = `dropkit ${version}`;
