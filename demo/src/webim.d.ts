/**
 * The global `WebIM` that the page loads from /sdk/webim.js, typed with the SDK's own generated
 * types (sdk/dist/types, mapped to `@seen/webim` in tsconfig.json). The demo declares no SDK
 * type of its own: the modules import what they use from `@seen/webim` (types only; nothing is
 * bundled, the SDK is the script the server serves).
 */
import type { WebIMNamespace } from '@seen/webim';

export {};

declare global {
  // eslint-disable-next-line no-var
  var WebIM: WebIMNamespace | undefined;
}
