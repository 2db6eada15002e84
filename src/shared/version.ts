/** Kept equal to package.json's version (a test checks it). */
export const KESTREL_VERSION = '0.1.0';
