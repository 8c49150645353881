import pkg from '../package.json';

export const TOOLKIT_VERSION: string = `dropkit ${pkg.version}`;
