// Where seen keeps its data in these tests: SQLite in a temp --data dir always, and PostgreSQL
// (a fresh schema of SEEN_TEST_POSTGRES_URL, dropped afterwards) when that is set, as `make test`
// sets it when PostgreSQL answers on 127.0.0.1. NATS (SEEN_TEST_NATS_URL) joins for the cluster.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const postgresUrl = process.env.SEEN_TEST_POSTGRES_URL || '';
export const natsUrl = process.env.SEEN_TEST_NATS_URL || '';

function psql(base, sql) {
  execFileSync('psql', [base, '-qtAc', sql], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * postgresSchema creates a schema of its own in the PostgreSQL database at base (psql does it,
 * as .ci/run does) and returns the URL that selects it (search_path) and drop, which removes it.
 */
export function postgresSchema(base = postgresUrl) {
  const schema = `compat_${randomBytes(6).toString('hex')}`;
  psql(base, `CREATE SCHEMA ${schema}`);
  const u = new URL(base);
  u.searchParams.set('search_path', schema);
  return { dsn: u.toString(), drop: () => psql(base, `DROP SCHEMA ${schema} CASCADE`) };
}

/**
 * stores are the stores to run a flow on: each has a name and start(), which returns the extra
 * flags of seen and a cleanup function.
 */
export const stores = [
  { name: 'SQLite', start: () => ({ args: [], cleanup: () => {} }) },
  ...(postgresUrl
    ? [
        {
          name: 'PostgreSQL',
          start: () => {
            const s = postgresSchema();
            return { args: ['--postgres', s.dsn], cleanup: s.drop };
          },
        },
      ]
    : []),
];
