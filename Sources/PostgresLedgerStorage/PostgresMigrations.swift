import LedgerService
import PostgresNIO

/// Append-only schema migrations: a shipped one is never edited; changes come as new ones.
///
/// Several processes may start at once: each takes a transaction-scoped advisory lock first,
/// so one applies what is missing and the others, once it commits, find nothing left to do.
enum PostgresMigrations {
    /// Each migration's id and its statements (one statement per query in PostgreSQL's
    /// extended protocol).
    static let all: [(id: String, statements: [PostgresQuery])] = [
        ("v1: companies, log, replicas, job projections, users and device tokens", [
            """
            CREATE TABLE company (
              key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              id text NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 64),
              initial_state bytea NOT NULL,
              state bytea NOT NULL,
              head bigint NOT NULL DEFAULT 0 CHECK (head >= 0),
              log_digest bytea NOT NULL CHECK (length(log_digest) = 32),
              server_replica bytea NOT NULL CHECK (length(server_replica) = 16),
              open_review_cases bigint NOT NULL DEFAULT 0 CHECK (open_review_cases >= 0),
              projected_through bigint NOT NULL DEFAULT 0 CHECK (projected_through >= 0)
            )
            """,
            """
            CREATE TABLE log (
              company bigint NOT NULL REFERENCES company(key),
              sequence bigint NOT NULL CHECK (sequence > 0),
              replica bytea NOT NULL CHECK (length(replica) = 16),
              counter bigint NOT NULL CHECK (counter > 0),
              entry bytea NOT NULL,
              body_digest bytea NOT NULL CHECK (length(body_digest) = 32),
              log_digest bytea NOT NULL CHECK (length(log_digest) = 32),
              PRIMARY KEY (company, sequence),
              UNIQUE (company, replica, counter)
            )
            """,
            """
            CREATE TABLE replica (
              company bigint NOT NULL REFERENCES company(key),
              replica bytea NOT NULL CHECK (length(replica) = 16),
              highest bigint NOT NULL CHECK (highest > 0),
              flagged boolean NOT NULL DEFAULT false,
              PRIMARY KEY (company, replica)
            )
            """,
            """
            CREATE TABLE job (
              company bigint NOT NULL REFERENCES company(key),
              id bytea NOT NULL CHECK (length(id) = 24),
              state bytea NOT NULL,
              PRIMARY KEY (company, id)
            )
            """,
            """
            CREATE TABLE company_user (
              company bigint NOT NULL REFERENCES company(key),
              id text NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
              role bigint NOT NULL CHECK (role IN (0, 1, 2)),
              PRIMARY KEY (company, id)
            )
            """,
            """
            CREATE TABLE device (
              token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
              company bigint NOT NULL REFERENCES company(key),
              user_id text NOT NULL,
              role bigint NOT NULL CHECK (role IN (0, 1, 2)),
              replica bytea NOT NULL UNIQUE CHECK (length(replica) = 16),
              revoked boolean NOT NULL DEFAULT false,
              FOREIGN KEY (company, user_id) REFERENCES company_user(company, id)
            )
            """,
        ]),
        // Rows from before v2 hold canonical bytes (format 0); snapshots now write the job's
        // record (format 1, decision 0022). No CHECK: a newer server's format must reach a clear
        // error (StoredJobFormat.job), not a constraint failure.
        ("v2: job rows say how they hold the job", [
            "ALTER TABLE job ADD COLUMN format bigint NOT NULL DEFAULT 0",
        ]),
        // Rows from before v3 were stored by whole snapshots, at or before the company's
        // projected_through: 0 says just that. Snapshots now store their jobs in chunks, each at
        // the head then, and the company says which snapshot a process took (decision 0038).
        ("v3: snapshots in chunks: job rows say the log sequence they are folded through", [
            "ALTER TABLE job ADD COLUMN folded_through bigint NOT NULL DEFAULT 0 CHECK (folded_through >= 0)",
            "ALTER TABLE company ADD COLUMN snapshot_claimed bigint NOT NULL DEFAULT 0 CHECK (snapshot_claimed >= 0)",
        ]),
    ]

    /// Applies the migrations the database lacks, in order, in one transaction.
    static func apply(_ storage: PostgresLedgerStorage) throws {
        try storage.transaction { session in
            try session.execute("SELECT pg_advisory_xact_lock(\(PostgresLimits.migrationLockKey))")
            try session.execute("CREATE TABLE IF NOT EXISTS fieldledger_migration (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            let applied = Set(try session.rows("SELECT id FROM fieldledger_migration").map { try $0.decode(String.self) })
            for migration in all where !applied.contains(migration.id) {
                for statement in migration.statements { try session.execute(statement) }
                try session.execute("INSERT INTO fieldledger_migration (id) VALUES (\(migration.id))")
            }
        }
    }

    /// The ids of the applied migrations, in the order they were applied.
    static func applied(_ storage: PostgresLedgerStorage) throws -> [String] {
        try storage.withSession { session in
            try session.rows("SELECT id FROM fieldledger_migration ORDER BY applied_at, id").map { try $0.decode(String.self) }
        }
    }
}
