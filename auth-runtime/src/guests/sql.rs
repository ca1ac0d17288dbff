//! The SQL both stores run: one dialect for SQLite (3.35+) and PostgreSQL. Parameters are `$n`,
//! which SQLite reads as numbered parameters too; timestamps are `BIGINT` Unix milliseconds;
//! no `GREATEST`, `FOR UPDATE` or array binds, so every statement runs unchanged on both.
//!
//! Tables:
//! - `auth_guests`: one row per guest, kept after an upgrade (as a record of the user it became,
//!   so a replayed upgrade or idempotency key answers "already upgraded");
//! - `auth_guest_identities`: which user each sign-in identity belongs to (Promoted or Merged);
//! - `auth_guest_limits`: one GCRA bucket per client key, plus `global`.

pub(super) const MIGRATION: &[&str] = &[
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
];

pub(super) const INSERT: &str = "INSERT INTO auth_guests (id, key_hash, created_at, last_seen_at) \
     VALUES ($1, $2, $3, $3) ON CONFLICT (key_hash) DO NOTHING \
     RETURNING id, created_at, last_seen_at, upgraded_to";

pub(super) const GET: &str =
    "SELECT id, created_at, last_seen_at, upgraded_to FROM auth_guests WHERE id = $1";

pub(super) const BY_KEY: &str =
    "SELECT id, created_at, last_seen_at, upgraded_to FROM auth_guests WHERE key_hash = $1";

pub(super) const TOUCH: &str = "UPDATE auth_guests SET last_seen_at = \
     CASE WHEN last_seen_at < $2 THEN $2 ELSE last_seen_at END WHERE id = $1";

pub(super) const LAST_SEEN: &str = "SELECT last_seen_at FROM auth_guests WHERE id = $1";

/// Claims a guest for an upgrade: one winner per guest.
pub(super) const CLAIM: &str = "UPDATE auth_guests \
     SET upgraded_to = id, upgraded_at = $2, outcome = 'promoted' \
     WHERE id = $1 AND upgraded_to IS NULL RETURNING created_at";

pub(super) const UPGRADED_TO: &str = "SELECT upgraded_to FROM auth_guests WHERE id = $1";

pub(super) const LINK: &str = "INSERT INTO auth_guest_identities \
     (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (provider, subject) DO NOTHING RETURNING user_id";

pub(super) const OWNER: &str =
    "SELECT user_id FROM auth_guest_identities WHERE provider = $1 AND subject = $2";

pub(super) const MARK_MERGED: &str =
    "UPDATE auth_guests SET upgraded_to = $2, outcome = 'merged' WHERE id = $1";

/// The statement that takes one token from a bucket (GCRA), atomically, with its rows from
/// `$source`: `$1` bucket, `$2` now, `$3` interval, `$4` tolerance. Returns whether it was
/// allowed and the new theoretical arrival time. A refused request leaves the bucket as it was.
macro_rules! take_from {
    ($source:literal) => {
        concat!(
            "INSERT INTO auth_guest_limits (bucket, tat, ok) ",
            $source,
            " ON CONFLICT (bucket) DO UPDATE SET \
             ok = CASE WHEN auth_guest_limits.tat - $2 <= $4 THEN 1 ELSE 0 END, \
             tat = CASE WHEN auth_guest_limits.tat - $2 <= $4 \
                THEN (CASE WHEN auth_guest_limits.tat > $2 THEN auth_guest_limits.tat ELSE $2 END) + $3 \
                ELSE auth_guest_limits.tat END \
             RETURNING ok, tat"
        )
    };
}

/// Takes one token from a bucket (see `take_from!`).
pub(super) const TAKE: &str = take_from!("VALUES ($1, $2 + $3, 1)");

/// [`TAKE`] in one round trip whose commit does not wait for the WAL flush (PostgreSQL): a
/// crash may forget the last few charges, which only errs towards allowing.
pub(super) const TAKE_WITHOUT_FLUSH: &str = take_from!(
    "SELECT $1, $2 + $3, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush"
);

/// Gives back one use of a bucket: `$1` bucket, `$2` interval.
pub(super) const GIVE_BACK: &str = "UPDATE auth_guest_limits SET tat = tat - $2 WHERE bucket = $1";

/// [`GIVE_BACK`] whose commit does not wait for the WAL flush (PostgreSQL).
pub(super) const GIVE_BACK_WITHOUT_FLUSH: &str = "UPDATE auth_guest_limits SET tat = tat - $2 \
     FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush WHERE bucket = $1";

/// Buckets whose arrival time has passed are full again: same as no row.
pub(super) const PRUNE_BUCKETS: &str = "DELETE FROM auth_guest_limits WHERE tat < $1";

/// One cleanup batch. The outer conditions are re-checked on each row when it is locked
/// (PostgreSQL), so a guest seen or upgraded meanwhile is kept.
pub(super) const DELETE_IDLE: &str = "DELETE FROM auth_guests \
     WHERE upgraded_to IS NULL AND last_seen_at < $1 AND id IN (\
        SELECT id FROM auth_guests WHERE upgraded_to IS NULL AND last_seen_at < $1 \
        ORDER BY last_seen_at LIMIT $2) \
     RETURNING id, last_seen_at";

pub(super) const IDLE_COUNT: &str = "SELECT COUNT(*), MIN(last_seen_at) FROM auth_guests \
     WHERE upgraded_to IS NULL AND last_seen_at < $1";

pub(super) const IDLE_SAMPLE: &str = "SELECT id FROM auth_guests \
     WHERE upgraded_to IS NULL AND last_seen_at < $1 ORDER BY last_seen_at LIMIT 20";

pub(super) const STATS: &str = "SELECT \
     COALESCE(SUM(CASE WHEN upgraded_to IS NULL THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN upgraded_to IS NULL AND last_seen_at >= $1 THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN outcome = 'promoted' THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN outcome = 'merged' THEN 1 ELSE 0 END), 0) \
     FROM auth_guests";

/// A guest row: id, created_at, last_seen_at, upgraded_to.
pub(super) type GuestRow = (String, i64, i64, Option<String>);

pub(super) fn guest((id, created_at, last_seen_at, upgraded_to): GuestRow) -> super::Guest {
    super::Guest {
        id,
        created_at,
        last_seen_at,
        upgraded_to,
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn counts(stats: &mut super::GuestStats, row: (i64, i64, i64, i64)) {
    stats.guests = count(row.0);
    stats.active = count(row.1);
    stats.promoted_total = count(row.2);
    stats.merged_total = count(row.3);
}

/// `impl GuestStore` for a SQL store type with fields `writer` and `reader` (pools), `config`
/// and `metrics`, and inherent `begin_write()` (a transaction, and the store's turn to write:
/// held until the transaction ends), `take()` (runs [`TAKE`]), `create_batched()`
/// (a creation path of the store's own, or `None` to run the statements below),
/// `check_active_here()`, `forget_guest()` and `forget_all_guests()` (what the store remembers of
/// guests, if anything); `$tx` wraps its transaction in a `GuestTx`.
macro_rules! sql_guest_store {
    ($store:ty, $tx:path) => {
        impl $store {
            fn now(&self) -> i64 {
                (self.config.clock)()
            }

            async fn by_key(&self, hash: &str) -> Result<Option<Guest>, GuestError> {
                let row: Option<sql::GuestRow> = sqlx::query_as(sql::BY_KEY)
                    .bind(hash)
                    .fetch_optional(&self.writer)
                    .await?;
                Ok(row.map(sql::guest))
            }

            /// An idempotency key named an existing guest: that guest, seen now.
            async fn reuse(&self, mut guest: Guest) -> Result<Created, GuestError> {
                if let Some(into) = guest.upgraded_to {
                    return Err(GuestError::AlreadyUpgraded {
                        guest_id: guest.id,
                        into,
                    });
                }
                let now = self.now();
                sqlx::query(sql::TOUCH)
                    .bind(&guest.id)
                    .bind(now)
                    .execute(&self.writer)
                    .await?;
                guest.last_seen_at = guest.last_seen_at.max(now);
                self.metrics.reused(&guest.id);
                Ok(Created { guest, new: false })
            }

            /// Charges one creation to `client` and to the global budget under `limits`.
            async fn charge(
                &self,
                client: Option<&ClientKey>,
                limits: Limits,
            ) -> Result<LimitDecision, GuestError> {
                    let mut remaining = u32::MAX;
                    for (scope, bucket, rate) in limits.buckets(client) {
                        let now = self.now();
                        let (ok, tat) = self.take(bucket, now, rate).await?;
                        match rate.decide(scope, now, ok == 1, tat) {
                            LimitDecision::Allowed { remaining: left } => {
                                remaining = remaining.min(left)
                            }
                            rejected => {
                                self.metrics.rejected(scope, client);
                                return Ok(rejected);
                            }
                        }
                    }
                    Ok(LimitDecision::Allowed { remaining })
            }
        }

        /// The store's database keeps every [`RateBuckets`](crate::rate_limit::RateBuckets)
        /// bucket next to the guest limits, so that every server shares them.
        impl crate::rate_limit::RateBuckets for $store {
            fn take<'a>(
                &'a self,
                bucket: &'a str,
                rate: Rate,
            ) -> crate::rate_limit::BucketFuture<'a, crate::rate_limit::Verdict> {
                Box::pin(async move {
                    let now = self.now();
                    let (ok, tat) = self.take(bucket, now, rate).await?;
                    Ok(rate.verdict(now, ok == 1, tat))
                })
            }

            fn give_back<'a>(
                &'a self,
                bucket: &'a str,
                rate: Rate,
            ) -> crate::rate_limit::BucketFuture<'a, ()> {
                Box::pin(async move {
                    self.give_back_bucket(bucket, rate).await?;
                    Ok(())
                })
            }
        }

        impl GuestStore for $store {
            fn create<'a>(&'a self, request: CreateGuest<'a>) -> GuestFuture<'a, Created> {
                Box::pin(async move {
                    if let Some(created) = self.create_batched(&request).await {
                        return created;
                    }
                    let hash = request.key.map(key_hash);
                    if let Some(hash) = &hash {
                        if let Some(guest) = self.by_key(hash).await? {
                            return self.reuse(guest).await;
                        }
                    }
                    if let LimitDecision::Rejected { scope, retry_after } =
                        self.charge(
                            request.client.as_ref(),
                            request.limits.unwrap_or(self.config.limits),
                        )
                        .await?
                    {
                        return Err(GuestError::RateLimited { scope, retry_after });
                    }
                    let row: Option<sql::GuestRow> = sqlx::query_as(sql::INSERT)
                        .bind(new_id())
                        .bind(hash.as_deref())
                        .bind(self.now())
                        .fetch_optional(&self.writer)
                        .await?;
                    match (row, hash) {
                        (Some(row), _) => {
                            let guest = sql::guest(row);
                            self.metrics.created(&guest.id);
                            Ok(Created { guest, new: true })
                        }
                        // Another request with the same key inserted first.
                        (None, Some(hash)) => match self.by_key(&hash).await? {
                            Some(guest) => self.reuse(guest).await,
                            None => Err(GuestError::Database(sqlx::Error::RowNotFound)),
                        },
                        (None, None) => Err(GuestError::Database(sqlx::Error::RowNotFound)),
                    }
                })
            }

            fn check_active<'a>(&'a self, id: &'a str) -> GuestFuture<'a, bool> {
                Box::pin(self.check_active_here(id))
            }

            fn get<'a>(&'a self, id: &'a str) -> GuestFuture<'a, Option<Guest>> {
                Box::pin(async move {
                    let row: Option<sql::GuestRow> = sqlx::query_as(sql::GET)
                        .bind(id)
                        .fetch_optional(&self.reader)
                        .await?;
                    Ok(row.map(sql::guest))
                })
            }

            fn touch<'a>(&'a self, id: &'a str) -> GuestFuture<'a, bool> {
                Box::pin(async move {
                    let now = self.now();
                    let seen: Option<(i64,)> = sqlx::query_as(sql::LAST_SEEN)
                        .bind(id)
                        .fetch_optional(&self.reader)
                        .await?;
                    let Some((seen,)) = seen else {
                        return Ok(false);
                    };
                    if now - seen < millis(self.config.touch_interval) {
                        return Ok(true);
                    }
                    let done = sqlx::query(sql::TOUCH)
                        .bind(id)
                        .bind(now)
                        .execute(&self.writer)
                        .await?;
                    Ok(done.rows_affected() > 0)
                })
            }

            fn upgrade<'a>(
                &'a self,
                guest_id: &'a str,
                identity: &'a Identity,
                hook: &'a dyn UpgradeHook,
            ) -> GuestFuture<'a, UpgradeOutcome> {
                Box::pin(async move {
                    let now = self.now();
                    let (_turn, mut tx) = self.begin_write().await?;
                    let claimed: Option<(i64,)> = sqlx::query_as(sql::CLAIM)
                        .bind(guest_id)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some((created_at,)) = claimed else {
                        let row: Option<(Option<String>,)> = sqlx::query_as(sql::UPGRADED_TO)
                            .bind(guest_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                        let _ = tx.rollback().await;
                        return Err(match row {
                            Some((Some(into),)) => GuestError::AlreadyUpgraded {
                                guest_id: guest_id.to_owned(),
                                into,
                            },
                            _ => GuestError::NotFound {
                                guest_id: guest_id.to_owned(),
                            },
                        });
                    };
                    let linked: Option<(String,)> = sqlx::query_as(sql::LINK)
                        .bind(&identity.provider)
                        .bind(&identity.subject)
                        .bind(guest_id)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let owner = match linked {
                        Some((owner,)) => owner,
                        None => {
                            let (owner,): (String,) = sqlx::query_as(sql::OWNER)
                                .bind(&identity.provider)
                                .bind(&identity.subject)
                                .fetch_one(&mut *tx)
                                .await?;
                            owner
                        }
                    };
                    let outcome = if owner == guest_id {
                        UpgradeOutcome::Promoted { user_id: owner }
                    } else {
                        sqlx::query(sql::MARK_MERGED)
                            .bind(guest_id)
                            .bind(&owner)
                            .execute(&mut *tx)
                            .await?;
                        UpgradeOutcome::Merged {
                            guest_id: guest_id.to_owned(),
                            into: owner,
                        }
                    };
                    if let Err(error) = hook.on_upgrade(&outcome, $tx(&mut tx)).await {
                        let _ = tx.rollback().await;
                        tracing::warn!(
                            target: "auth_runtime::guests",
                            event = "upgrade_hook_failed",
                            guest_id,
                            %error,
                            "guest upgrade rolled back"
                        );
                        return Err(GuestError::from_hook(error));
                    }
                    tx.commit().await?;
                    self.forget_guest(guest_id);
                    self.metrics.upgraded(&outcome, now - created_at);
                    Ok(outcome)
                })
            }

            fn user_for<'a>(&'a self, identity: &'a Identity) -> GuestFuture<'a, Option<String>> {
                Box::pin(async move {
                    let row: Option<(String,)> = sqlx::query_as(sql::OWNER)
                        .bind(&identity.provider)
                        .bind(&identity.subject)
                        .fetch_optional(&self.reader)
                        .await?;
                    Ok(row.map(|(id,)| id))
                })
            }

            fn link_identity<'a>(
                &'a self,
                identity: &'a Identity,
                user_id: &'a str,
            ) -> GuestFuture<'a, String> {
                Box::pin(async move {
                    let linked: Option<(String,)> = sqlx::query_as(sql::LINK)
                        .bind(&identity.provider)
                        .bind(&identity.subject)
                        .bind(user_id)
                        .bind(self.now())
                        .fetch_optional(&self.writer)
                        .await?;
                    if let Some((owner,)) = linked {
                        return Ok(owner);
                    }
                    let (owner,): (String,) = sqlx::query_as(sql::OWNER)
                        .bind(&identity.provider)
                        .bind(&identity.subject)
                        .fetch_one(&self.writer)
                        .await?;
                    Ok(owner)
                })
            }

            fn adapter(&self) -> Option<std::sync::Arc<dyn crate::adapter::Adapter>> {
                // Session reads go to the reader pool (SQLite: several read-only connections
                // beside the one writer).
                let adapter = crate::adapter::SqlAdapter::lazy(self.writer.clone())
                    .with_reader(self.reader.clone());
                Some(std::sync::Arc::new(adapter))
            }

            fn rate_buckets(
                self: std::sync::Arc<Self>,
            ) -> Option<std::sync::Arc<dyn crate::rate_limit::RateBuckets>> {
                Self::SHARES_ATTEMPT_BUCKETS
                    .then_some(self as std::sync::Arc<dyn crate::rate_limit::RateBuckets>)
            }

            fn check_limits<'a>(
                &'a self,
                client: Option<&'a ClientKey>,
            ) -> GuestFuture<'a, LimitDecision> {
                Box::pin(self.charge(client, self.config.limits))
            }

            fn cleanup<'a>(
                &'a self,
                policy: &'a CleanupPolicy,
                hook: &'a dyn CleanupHook,
            ) -> GuestFuture<'a, CleanupReport> {
                Box::pin(async move {
                    let now = self.now();
                    let cutoff = now.saturating_sub(millis(policy.idle));
                    let mut report = CleanupReport {
                        dry_run: policy.dry_run,
                        cutoff,
                        ..CleanupReport::default()
                    };
                    if policy.dry_run {
                        let (n, oldest): (i64, Option<i64>) = sqlx::query_as(sql::IDLE_COUNT)
                            .bind(cutoff)
                            .fetch_one(&self.reader)
                            .await?;
                        let sample: Vec<(String,)> = sqlx::query_as(sql::IDLE_SAMPLE)
                            .bind(cutoff)
                            .fetch_all(&self.reader)
                            .await?;
                        report.guests = u64::try_from(n).unwrap_or(0);
                        report.oldest_last_seen = oldest;
                        report.sample = sample.into_iter().map(|(id,)| id).collect();
                        return Ok(report);
                    }
                    let batch = i64::from(policy.batch_size.max(1));
                    let mut last_batch_took = None;
                    loop {
                        if report.batches >= policy.max_batches {
                            report.more = true;
                            break;
                        }
                        // Background work: between batches, leave the store to the requests
                        // for as long as the last batch held it (at most half its write time).
                        if let Some(took) = last_batch_took {
                            tokio::time::sleep(took).await;
                        }
                        let started = std::time::Instant::now();
                        let (_turn, mut tx) = self.begin_write().await?;
                        let rows: Vec<(String, i64)> = sqlx::query_as(sql::DELETE_IDLE)
                            .bind(cutoff)
                            .bind(batch)
                            .fetch_all(&mut *tx)
                            .await?;
                        if rows.is_empty() {
                            let _ = tx.rollback().await;
                            break;
                        }
                        let oldest = rows.iter().map(|r| r.1).min();
                        let ids: Vec<String> = rows.into_iter().map(|r| r.0).collect();
                        if let Err(error) = hook.on_cleanup(&ids, $tx(&mut tx)).await {
                            let _ = tx.rollback().await;
                            return Err(GuestError::from_hook(error));
                        }
                        tx.commit().await?;
                        last_batch_took = Some(started.elapsed());
                        let n = ids.len() as u64;
                        self.forget_all_guests();
                        self.metrics.cleaned(n);
                        report.batches += 1;
                        report.guests += n;
                        report.oldest_last_seen = match (report.oldest_last_seen, oldest) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                        if (ids.len() as i64) < batch {
                            break;
                        }
                    }
                    if report.more {
                        let (n, _): (i64, Option<i64>) = sqlx::query_as(sql::IDLE_COUNT)
                            .bind(cutoff)
                            .fetch_one(&self.reader)
                            .await?;
                        report.more = n > 0;
                    }
                    let pruned = sqlx::query(sql::PRUNE_BUCKETS)
                        .bind(now)
                        .execute(&self.writer)
                        .await?;
                    report.buckets_pruned = pruned.rows_affected();
                    Ok(report)
                })
            }

            fn close(&self) -> GuestFuture<'_, ()> {
                Box::pin(async move {
                    <$store>::close(self).await;
                    Ok(())
                })
            }

            fn stats<'a>(&'a self) -> GuestFuture<'a, GuestStats> {
                Box::pin(async move {
                    let since = self.now() - millis(self.config.active_window);
                    let row: (i64, i64, i64, i64) = sqlx::query_as(sql::STATS)
                        .bind(since)
                        .fetch_one(&self.reader)
                        .await?;
                    let mut stats = self.metrics.snapshot();
                    sql::counts(&mut stats, row);
                    Ok(stats)
                })
            }
        }
    };
}
