// The two vendor packages under test: where npm installed them, and what each lacks.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const compatDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(compatDir, '..');

/** ourProto is seen's msync schema (internal/msync/pb); MSYNC_PROTO overrides it to try a draft. */
export const ourProto = process.env.MSYNC_PROTO || path.join(repoRoot, 'internal/msync/pb/msync.proto');

/**
 * vendors are the SDK packages, each with its UMD bundle (it defines the global WebIM) and the
 * Provision.version it reports. lacks names what its schema does not have, relative to the
 * easemob.pb package (see the reference, section 3, and the descriptor test that keeps this
 * list exact).
 */
export const vendors = [
  {
    name: 'easemob-websdk',
    version: '4.21.1',
    bundle: 'Easemob-chat.js',
    lacks: [],
  },
  {
    name: 'agora-chat',
    version: '1.4.0',
    bundle: 'Agora-chat.js',
    lacks: [
      'Logout',
      'MSync.traceId',
      'MSync.Command.LOGOUT',
      'MessageBody.stream',
      'MessageBody.Stream',
      'MessageBody.Stream.StreamStatus',
      'MessageBody.Content.SubType.SUB_STREAM',
      'Provision.protocolCompressType',
      'Provision.protocolCompressDirection',
      'Provision.CompressType.COMPRESS_LZ4',
      'Provision.CompressDirection',
    ],
  },
].map((v) => ({
  ...v,
  dir: path.join(compatDir, 'node_modules', v.name),
  bundlePath: path.join(compatDir, 'node_modules', v.name, v.bundle),
  script: `/vendor/${v.name}.js`,
  wsUrl: (seenUrl) => `${seenUrl.replace(/^http/, 'ws')}/websocket`,
}));

/**
 * seenSdk is the control: seen's own Web SDK (served by seen at /sdk/webim.js, over seen's own
 * protocol) on the same kind of page. The flows pass with it today; when one fails for a vendor
 * SDK only, the vendor protocol is at fault, not the test.
 */
export const seenSdk = {
  name: 'seen-sdk',
  version: 'this repository',
  script: (seenUrl) => `${seenUrl}/sdk/webim.js`,
  wsUrl: (seenUrl) => seenUrl,
};

/** installedVersion is the version in the installed package's package.json. */
export function installedVersion(v) {
  return JSON.parse(readFileSync(path.join(v.dir, 'package.json'), 'utf8')).version;
}

/**
 * only keeps the clients named in COMPAT_CLIENTS (comma-separated, e.g. "seen-sdk,agora-chat"),
 * all of them when it is unset: to run one SDK's flows while working on it.
 */
export function only(clients) {
  const want = process.env.COMPAT_CLIENTS?.split(',').map((s) => s.trim()).filter(Boolean);
  return want?.length ? clients.filter((c) => want.includes(c.name)) : clients;
}
