//! The adapter's tables, as numbered migrations per database. Table definitions differ between
//! SQLite and PostgreSQL (types, `ALTER TABLE` abilities); the statements that read and write
//! them do not (`sql.rs`).
//!
//! PostgreSQL's first migration is Auth.js's own schema, created only where it is missing, so a
//! database next-auth's adapter already uses is taken as it is; the second adds this library's
//! columns and the indexes its queries need.

/// One numbered step of the schema. Applied in order, each once, recorded in
/// `auth_schema_migrations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The step's number, from 1.
    pub version: i64,
    /// What it does.
    pub description: &'static str,
    /// Its statements.
    pub statements: &'static [&'static str],
}

impl Migration {
    /// The statements of `migrations` as one SQL script, for a DBA to read or run by hand
    /// (`psql -f`), recording each step as the adapter would.
    pub fn script(migrations: &[Migration]) -> String {
        let mut script = format!("{RECORD_TABLE};\n");
        for migration in migrations {
            script.push_str(&format!(
                "\n-- {}: {}\n",
                migration.version, migration.description
            ));
            for statement in migration.statements {
                script.push_str(statement);
                script.push_str(";\n");
            }
            script.push_str(&format!(
                "INSERT INTO auth_schema_migrations (version, description, applied_at) \
                 VALUES ({}, '{}', 0);\n",
                migration.version,
                migration.description.replace('\'', "''")
            ));
        }
        script
    }
}

/// Where applied migrations are recorded (the same on both databases).
pub(super) const RECORD_TABLE: &str = "CREATE TABLE IF NOT EXISTS auth_schema_migrations (\
     version BIGINT PRIMARY KEY NOT NULL, description TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/// The table of session versions (sign-out everywhere for token sessions), the same on both.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const SESSION_VERSIONS: &str = "CREATE TABLE IF NOT EXISTS auth_session_versions (\
     user_id TEXT PRIMARY KEY NOT NULL, version BIGINT NOT NULL)";

/// The guest tables (`crate::guests`), the same on both databases: guests (kept after an
/// upgrade, as a record of the user each became), which user each sign-in identity belongs
/// to, and the creation limits' buckets; then the indexes that end a guest's database sessions
/// and user row with the guest.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const GUESTS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS auth_guests (\
        id TEXT PRIMARY KEY NOT NULL, \
        key_hash TEXT UNIQUE, \
        created_at BIGINT NOT NULL, \
        last_seen_at BIGINT NOT NULL, \
        upgraded_to TEXT, \
        upgraded_at BIGINT, \
        outcome TEXT)",
    "CREATE INDEX IF NOT EXISTS auth_guests_idle ON auth_guests (last_seen_at) \
        WHERE upgraded_to IS NULL",
    "CREATE TABLE IF NOT EXISTS auth_guest_identities (\
        provider TEXT NOT NULL, \
        subject TEXT NOT NULL, \
        user_id TEXT NOT NULL, \
        created_at BIGINT NOT NULL, \
        PRIMARY KEY (provider, subject))",
    "CREATE TABLE IF NOT EXISTS auth_guest_limits (\
        bucket TEXT PRIMARY KEY NOT NULL, \
        tat BIGINT NOT NULL, \
        ok BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sessions_guest ON sessions (guest_id) WHERE guest_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS accounts_anonymous ON accounts (\"providerAccountId\") \
        WHERE type = 'anonymous'",
];

/// What the guest migration does.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const GUESTS_DESCRIPTION: &str = "guests, their identities and creation limits";

/// What the passkey migration does.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const AUTHENTICATORS_DESCRIPTION: &str = "passkeys: the authenticator table";

/// Auth.js's `Authenticator` table for passkeys (WebAuthn), the same on both databases: the
/// lower-case name Auth.js's Drizzle adapter gives it, the quoted camel-case columns of the
/// tables above. Created in every build, with or without the `passkey` feature, so a database's
/// migrations do not depend on the build that ran them. `counter` is `BIGINT` because a signature
/// counter is an unsigned 32-bit number; `credentialID` is unique (a credential belongs to one
/// user); the rows end with their user.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const AUTHENTICATORS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS authenticator (\
        \"credentialID\" TEXT NOT NULL UNIQUE, \
        \"userId\" INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, \
        \"providerAccountId\" TEXT NOT NULL, \
        \"credentialPublicKey\" TEXT NOT NULL, \
        counter BIGINT NOT NULL, \
        \"credentialDeviceType\" TEXT NOT NULL, \
        \"credentialBackedUp\" BOOLEAN NOT NULL, \
        transports TEXT, \
        PRIMARY KEY (\"userId\", \"credentialID\"))",
    "CREATE INDEX IF NOT EXISTS authenticator_user ON authenticator (\"userId\")",
];

/// What the verification-token expiry migration does.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const TOKEN_EXPIRY_DESCRIPTION: &str = "verification tokens by expiry";

/// Expired verification tokens found without reading the others: answered passkey challenges
/// are kept until their ceremony ends, as many as sign-ins in that time, and removed by expiry.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const TOKEN_EXPIRY: &[&str] = &["CREATE INDEX IF NOT EXISTS verification_token_expires \
        ON verification_token (identifier, expires)"];

#[cfg(feature = "sqlite")]
pub(super) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        description: "users, accounts, sessions and verification tokens",
        statements: &[
            "CREATE TABLE IF NOT EXISTS users (\
            id INTEGER PRIMARY KEY AUTOINCREMENT, \
            name TEXT, \
            email TEXT, \
            \"emailVerified\" BIGINT, \
            image TEXT)",
            "CREATE INDEX IF NOT EXISTS users_email ON users (email)",
            "CREATE TABLE IF NOT EXISTS accounts (\
            id INTEGER PRIMARY KEY AUTOINCREMENT, \
            \"userId\" INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, \
            type TEXT NOT NULL, \
            provider TEXT NOT NULL, \
            \"providerAccountId\" TEXT NOT NULL, \
            refresh_token TEXT, \
            access_token TEXT, \
            expires_at BIGINT, \
            id_token TEXT, \
            scope TEXT, \
            session_state TEXT, \
            token_type TEXT)",
            "CREATE UNIQUE INDEX IF NOT EXISTS accounts_provider_account \
            ON accounts (provider, \"providerAccountId\")",
            "CREATE INDEX IF NOT EXISTS accounts_user ON accounts (\"userId\")",
            "CREATE TABLE IF NOT EXISTS sessions (\
            id INTEGER PRIMARY KEY AUTOINCREMENT, \
            \"userId\" INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE, \
            expires BIGINT NOT NULL, \
            \"sessionToken\" TEXT NOT NULL UNIQUE, \
            created_at BIGINT, \
            last_seen_at BIGINT, \
            user_agent TEXT, \
            claims TEXT, \
            guest_id TEXT, \
            subject TEXT)",
            "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (\"userId\")",
            "CREATE INDEX IF NOT EXISTS sessions_subject ON sessions (subject)",
            "CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires)",
            "CREATE TABLE IF NOT EXISTS verification_token (\
            identifier TEXT NOT NULL, \
            expires BIGINT NOT NULL, \
            token TEXT NOT NULL, \
            PRIMARY KEY (identifier, token))",
        ],
    },
    Migration {
        version: 2,
        description: "session versions (sign-out everywhere for token sessions)",
        statements: &[SESSION_VERSIONS],
    },
    Migration {
        version: 3,
        description: GUESTS_DESCRIPTION,
        statements: GUESTS,
    },
    Migration {
        version: 4,
        description: AUTHENTICATORS_DESCRIPTION,
        statements: AUTHENTICATORS,
    },
    Migration {
        version: 5,
        description: TOKEN_EXPIRY_DESCRIPTION,
        statements: TOKEN_EXPIRY,
    },
];

#[cfg(feature = "postgres")]
pub(super) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        description: "Auth.js's tables: users, accounts, sessions, verification_token",
        statements: &[
            "CREATE TABLE IF NOT EXISTS users (\
                id SERIAL PRIMARY KEY, \
                name VARCHAR(255), \
                email VARCHAR(255), \
                \"emailVerified\" TIMESTAMPTZ, \
                image TEXT)",
            "CREATE TABLE IF NOT EXISTS accounts (\
                id SERIAL PRIMARY KEY, \
                \"userId\" INTEGER NOT NULL, \
                type VARCHAR(255) NOT NULL, \
                provider VARCHAR(255) NOT NULL, \
                \"providerAccountId\" VARCHAR(255) NOT NULL, \
                refresh_token TEXT, \
                access_token TEXT, \
                expires_at BIGINT, \
                id_token TEXT, \
                scope TEXT, \
                session_state TEXT, \
                token_type TEXT)",
            "CREATE TABLE IF NOT EXISTS sessions (\
                id SERIAL PRIMARY KEY, \
                \"userId\" INTEGER NOT NULL, \
                expires TIMESTAMPTZ NOT NULL, \
                \"sessionToken\" VARCHAR(255) NOT NULL)",
            "CREATE TABLE IF NOT EXISTS verification_token (\
                identifier TEXT NOT NULL, \
                expires TIMESTAMPTZ NOT NULL, \
                token TEXT NOT NULL, \
                PRIMARY KEY (identifier, token))",
        ],
    },
    Migration {
        version: 2,
        description: "device-list and claims columns on sessions; lookup indexes",
        statements: &[
            "ALTER TABLE sessions \
                ADD COLUMN IF NOT EXISTS created_at BIGINT, \
                ADD COLUMN IF NOT EXISTS last_seen_at BIGINT, \
                ADD COLUMN IF NOT EXISTS user_agent TEXT, \
                ADD COLUMN IF NOT EXISTS claims TEXT, \
                ADD COLUMN IF NOT EXISTS guest_id TEXT, \
                ADD COLUMN IF NOT EXISTS subject TEXT",
            "CREATE UNIQUE INDEX IF NOT EXISTS sessions_token ON sessions (\"sessionToken\")",
            "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (\"userId\")",
            "CREATE INDEX IF NOT EXISTS sessions_subject ON sessions (subject)",
            "CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires)",
            "CREATE UNIQUE INDEX IF NOT EXISTS accounts_provider_account \
                ON accounts (provider, \"providerAccountId\")",
            "CREATE INDEX IF NOT EXISTS accounts_user ON accounts (\"userId\")",
            "CREATE INDEX IF NOT EXISTS users_email ON users (email)",
        ],
    },
    Migration {
        version: 3,
        description: "session versions (sign-out everywhere for token sessions)",
        statements: &[SESSION_VERSIONS],
    },
    Migration {
        version: 4,
        description: GUESTS_DESCRIPTION,
        statements: GUESTS,
    },
    Migration {
        version: 5,
        description: AUTHENTICATORS_DESCRIPTION,
        statements: AUTHENTICATORS,
    },
    Migration {
        version: 6,
        description: TOKEN_EXPIRY_DESCRIPTION,
        statements: TOKEN_EXPIRY,
    },
];
