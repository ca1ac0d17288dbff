//! The guest store on SQL, written once for SQLite and PostgreSQL: [`SqlGuestStore`] runs the
//! statements of `sql.rs` on either database; [`GuestDialect`] is what differs between them.

use std::future::Future;
use std::sync::Arc;

use sqlx::Pool;

use super::{
    CleanupHook, CleanupPolicy, CleanupReport, ClientKey, CreateGuest, Created, Guest, GuestConfig,
    GuestError, GuestFuture, GuestMetrics, GuestStats, GuestStore, GuestTx, Identity,
    LimitDecision, Limits, Rate, UpgradeHook, UpgradeOutcome, key_hash, millis, new_id, sql,
};
use crate::adapter::{Dialect, SqlAdapter};
use crate::sql_driver::{Driver, column, statement};

/// What differs between the databases a [`SqlGuestStore`] runs on. Implemented for
/// `sqlx::Sqlite` and `sqlx::Postgres`; sealed (through [`Dialect`]).
pub trait GuestDialect: Dialect {
    /// What the store keeps in this process beside its pools.
    #[doc(hidden)]
    type Local: Send + Sync + 'static;
    /// Held while a write transaction runs (SQLite: this store's turn to write the file).
    #[doc(hidden)]
    type WriteTurn: Send;
    /// The statement that charges a limit bucket (`sql::TAKE` or a variant).
    #[doc(hidden)]
    const TAKE: &'static str;
    /// The statement that gives a bucket's charge back.
    #[doc(hidden)]
    const GIVE_BACK: &'static str;
    /// Whether the engine keeps its password attempt limits in this database (several servers
    /// share it) rather than in the server's memory.
    #[doc(hidden)]
    const SHARES_ATTEMPT_BUCKETS: bool;

    /// A write transaction, after this store's turn to write.
    #[doc(hidden)]
    fn begin_write(
        store: &SqlGuestStore<Self>,
    ) -> impl Future<
        Output = Result<(Self::WriteTurn, sqlx::Transaction<'static, Self>), sqlx::Error>,
    > + Send;

    /// [`GuestStore::check_active`]: whether guest `id` is still a guest, recording activity.
    #[doc(hidden)]
    fn check_active<'a>(
        store: &'a SqlGuestStore<Self>,
        id: &'a str,
    ) -> impl Future<Output = Result<bool, GuestError>> + Send + 'a;

    /// A creation by a path of the store's own, or `None` to run the statements one by one.
    #[doc(hidden)]
    fn create_batched<'a>(
        store: &'a SqlGuestStore<Self>,
        request: &'a CreateGuest<'a>,
    ) -> impl Future<Output = Option<Result<Created, GuestError>>> + Send + 'a;

    /// Forgets what the process remembers of guest `id` (every guest for `None`): it was
    /// upgraded or removed.
    #[doc(hidden)]
    fn forget(local: &Self::Local, id: Option<&str>);

    /// The transaction as the application's hooks see it.
    #[doc(hidden)]
    fn hook_tx<'a>(tx: &'a mut sqlx::Transaction<'static, Self>) -> GuestTx<'a>;

    /// Ends what the store runs beside its pools (SQLite: the batch thread).
    #[doc(hidden)]
    fn stop(local: &Self::Local) -> impl Future<Output = ()> + Send;
}

/// Guests in an SQL database: [`SqliteGuestStore`](super::SqliteGuestStore) (the default, one
/// app server) and [`PostgresGuestStore`](super::PostgresGuestStore) (several app servers on
/// one database) are this store on each database. Its tables are part of the adapter's
/// migrations ([`SqlAdapter::migrations`]): users, sessions and guests are one schema in one
/// database, and [`GuestStore::adapter`] is the adapter on the store's own pools.
pub struct SqlGuestStore<DB: GuestDialect> {
    /// Where writes go (SQLite: the one writer connection).
    pub(super) writer: Pool<DB>,
    /// Where reads go (SQLite: read-only connections beside the writer).
    pub(super) reader: Pool<DB>,
    pub(super) local: DB::Local,
    pub(super) config: GuestConfig,
    pub(super) metrics: GuestMetrics,
}

impl<DB: GuestDialect> std::fmt::Debug for SqlGuestStore<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlGuestStore")
            .field("database", &DB::NAME)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Reads a guest row: id, created_at, last_seen_at, upgraded_to.
fn guest_of<DB: Driver>(row: &DB::Row) -> Result<Guest, sqlx::Error> {
    Ok(Guest {
        id: column::<DB, _>(row, 0)?,
        created_at: column::<DB, _>(row, 1)?,
        last_seen_at: column::<DB, _>(row, 2)?,
        upgraded_to: column::<DB, _>(row, 3)?,
    })
}

/// Deletes what the adapter's tables hold of guest `id` (its database sessions, its user row
/// and `anonymous` account), in the caller's transaction: an upgraded or removed guest's
/// session opens nothing, and leaves no user behind.
async fn end_guest_rows<DB: Driver>(on: &mut DB::Connection, id: &str) -> Result<(), sqlx::Error> {
    for sql_text in [sql::END_GUEST_SESSIONS].iter().chain(&sql::END_GUEST_USER) {
        statement::<DB>(*sql_text).bind(id).execute(on).await?;
    }
    Ok(())
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl<DB: GuestDialect> SqlGuestStore<DB> {
    /// A store on `writer` and `reader` whose schema is up to date.
    pub(super) fn from_parts(
        writer: Pool<DB>,
        reader: Pool<DB>,
        local: DB::Local,
        config: GuestConfig,
    ) -> Self {
        SqlGuestStore {
            writer,
            reader,
            local,
            config,
            metrics: GuestMetrics::default(),
        }
    }

    /// The pool writes go through: the application may run its own statements on it (its cart
    /// table in the same database, say).
    pub fn pool(&self) -> &Pool<DB> {
        &self.writer
    }

    /// Commits what is queued, ends the store's own work and closes the pools (on SQLite the
    /// last connection to close folds the WAL into the file): what a server calls once it has
    /// stopped serving. Later calls fail as [`GuestError::Unavailable`].
    pub async fn close(&self) {
        DB::stop(&self.local).await;
        self.reader.close().await;
        self.writer.close().await;
    }

    pub(super) fn now(&self) -> i64 {
        (self.config.clock)()
    }
}

/// Brings `pool`'s database up to date: the adapter's migrations, which hold the guest tables.
pub(super) async fn migrate<DB: GuestDialect>(pool: &Pool<DB>) -> Result<(), GuestError> {
    SqlAdapter::new(pool.clone()).await?;
    Ok(())
}

impl<DB: GuestDialect> SqlGuestStore<DB> {
    async fn by_key(&self, hash: &str) -> Result<Option<Guest>, GuestError> {
        let row = statement::<DB>(sql::BY_KEY)
            .bind(hash)
            .fetch_optional(&mut *self.writer.acquire().await?)
            .await?;
        Ok(row.map(|row| guest_of::<DB>(&row)).transpose()?)
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
        statement::<DB>(sql::TOUCH)
            .bind(guest.id.as_str())
            .bind(now)
            .execute(&mut *self.writer.acquire().await?)
            .await?;
        guest.last_seen_at = guest.last_seen_at.max(now);
        self.metrics.reused(&guest.id);
        Ok(Created { guest, new: false })
    }

    /// Takes one token from `bucket` at `now`: whether it was allowed, and the bucket's new
    /// theoretical arrival time.
    async fn take_token(
        &self,
        bucket: &str,
        now: i64,
        rate: Rate,
    ) -> Result<(bool, i64), GuestError> {
        let row = statement::<DB>(DB::TAKE)
            .bind(bucket)
            .bind(now)
            .bind(rate.interval)
            .bind(rate.tolerance)
            .fetch_one(&mut *self.writer.acquire().await?)
            .await?;
        Ok((column::<DB, i64>(&row, 0)? == 1, column::<DB, _>(&row, 1)?))
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
            let (ok, tat) = self.take_token(bucket, now, rate).await?;
            match rate.decide(scope, now, ok, tat) {
                LimitDecision::Allowed { remaining: left } => remaining = remaining.min(left),
                rejected => {
                    self.metrics.rejected(scope, client);
                    return Ok(rejected);
                }
            }
        }
        Ok(LimitDecision::Allowed { remaining })
    }

    /// A creation statement by statement: the key's guest, else the limits, then the row.
    async fn create_here(&self, request: CreateGuest<'_>) -> Result<Created, GuestError> {
        let hash = request.key.map(key_hash);
        if let Some(hash) = &hash
            && let Some(guest) = self.by_key(hash).await?
        {
            return self.reuse(guest).await;
        }
        let limits = request.limits.unwrap_or(self.config.limits);
        if let LimitDecision::Rejected { scope, retry_after } =
            self.charge(request.client.as_ref(), limits).await?
        {
            return Err(GuestError::RateLimited { scope, retry_after });
        }
        let row = statement::<DB>(sql::INSERT)
            .bind(new_id().as_str())
            .bind(hash.as_deref())
            .bind(self.now())
            .fetch_optional(&mut *self.writer.acquire().await?)
            .await?;
        match (row, hash) {
            (Some(row), _) => {
                let guest = guest_of::<DB>(&row)?;
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
    }

    /// The user `identity` belongs to, read on `executor`.
    async fn owner(
        &self,
        identity: &Identity,
        on: &mut DB::Connection,
    ) -> Result<String, GuestError> {
        let row = statement::<DB>(sql::OWNER)
            .bind(identity.provider.as_str())
            .bind(identity.subject.as_str())
            .fetch_one(on)
            .await?;
        Ok(column::<DB, _>(&row, 0)?)
    }

    /// The upgrade's transaction: claim the guest, link the identity (or find its owner), end
    /// the guest's database sessions and user row, run the hook.
    async fn upgrade_here(
        &self,
        guest_id: &str,
        identity: &Identity,
        hook: &dyn UpgradeHook,
    ) -> Result<UpgradeOutcome, GuestError> {
        let now = self.now();
        let (_turn, mut tx) = DB::begin_write(self).await?;
        let claimed = statement::<DB>(sql::CLAIM)
            .bind(guest_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(claimed) = claimed else {
            let row = statement::<DB>(sql::UPGRADED_TO)
                .bind(guest_id)
                .fetch_optional(&mut *tx)
                .await?;
            let into: Option<String> = row
                .map(|row| column::<DB, _>(&row, 0))
                .transpose()?
                .flatten();
            let _ = tx.rollback().await;
            return Err(match into {
                Some(into) => GuestError::AlreadyUpgraded {
                    guest_id: guest_id.to_owned(),
                    into,
                },
                None => GuestError::NotFound {
                    guest_id: guest_id.to_owned(),
                },
            });
        };
        let created_at: i64 = column::<DB, _>(&claimed, 0)?;
        let linked = statement::<DB>(sql::LINK)
            .bind(identity.provider.as_str())
            .bind(identity.subject.as_str())
            .bind(guest_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let owner = match linked {
            Some(row) => column::<DB, _>(&row, 0)?,
            None => self.owner(identity, &mut *tx).await?,
        };
        let outcome = if owner == guest_id {
            UpgradeOutcome::Promoted { user_id: owner }
        } else {
            statement::<DB>(sql::MARK_MERGED)
                .bind(guest_id)
                .bind(owner.as_str())
                .execute(&mut *tx)
                .await?;
            UpgradeOutcome::Merged {
                guest_id: guest_id.to_owned(),
                into: owner,
            }
        };
        end_guest_rows::<DB>(&mut tx, guest_id).await?;
        if let Err(error) = hook.on_upgrade(&outcome, DB::hook_tx(&mut tx)).await {
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
        DB::forget(&self.local, Some(guest_id));
        self.metrics.upgraded(&outcome, now - created_at);
        Ok(outcome)
    }

    async fn link_here(&self, identity: &Identity, user_id: &str) -> Result<String, GuestError> {
        let linked = statement::<DB>(sql::LINK)
            .bind(identity.provider.as_str())
            .bind(identity.subject.as_str())
            .bind(user_id)
            .bind(self.now())
            .fetch_optional(&mut *self.writer.acquire().await?)
            .await?;
        match linked {
            Some(row) => Ok(column::<DB, _>(&row, 0)?),
            None => {
                self.owner(identity, &mut *self.writer.acquire().await?)
                    .await
            }
        }
    }

    async fn touch_here(&self, id: &str) -> Result<bool, GuestError> {
        let now = self.now();
        let seen = statement::<DB>(sql::LAST_SEEN)
            .bind(id)
            .fetch_optional(&mut *self.reader.acquire().await?)
            .await?;
        let Some(seen) = seen else {
            return Ok(false);
        };
        if now - column::<DB, i64>(&seen, 0)? < millis(self.config.touch_interval) {
            return Ok(true);
        }
        let done = statement::<DB>(sql::TOUCH)
            .bind(id)
            .bind(now)
            .execute(&mut *self.writer.acquire().await?)
            .await?;
        Ok(done > 0)
    }

    /// How many guests are idle since `cutoff`, and the oldest one's last activity.
    async fn idle_count(&self, cutoff: i64) -> Result<(i64, Option<i64>), GuestError> {
        let row = statement::<DB>(sql::IDLE_COUNT)
            .bind(cutoff)
            .fetch_one(&mut *self.reader.acquire().await?)
            .await?;
        Ok((column::<DB, _>(&row, 0)?, column::<DB, _>(&row, 1)?))
    }

    /// One cleanup batch in one transaction: the idle guests, their database sessions and user
    /// rows, the application's hook. The removed guests' ids and last activity; none when nothing is idle.
    async fn cleanup_batch(
        &self,
        cutoff: i64,
        batch: i64,
        hook: &dyn CleanupHook,
    ) -> Result<Vec<(String, i64)>, GuestError> {
        let (_turn, mut tx) = DB::begin_write(self).await?;
        let rows = statement::<DB>(sql::DELETE_IDLE)
            .bind(cutoff)
            .bind(batch)
            .fetch_all(&mut *tx)
            .await?;
        let removed = rows
            .iter()
            .map(|row| Ok((column::<DB, _>(row, 0)?, column::<DB, _>(row, 1)?)))
            .collect::<Result<Vec<(String, i64)>, sqlx::Error>>()?;
        if removed.is_empty() {
            let _ = tx.rollback().await;
            return Ok(removed);
        }
        for (id, _) in &removed {
            end_guest_rows::<DB>(&mut tx, id).await?;
        }
        let ids: Vec<String> = removed.iter().map(|(id, _)| id.clone()).collect();
        if let Err(error) = hook.on_cleanup(&ids, DB::hook_tx(&mut tx)).await {
            let _ = tx.rollback().await;
            return Err(GuestError::from_hook(error));
        }
        tx.commit().await?;
        DB::forget(&self.local, None);
        Ok(removed)
    }

    async fn cleanup_here(
        &self,
        policy: &CleanupPolicy,
        hook: &dyn CleanupHook,
    ) -> Result<CleanupReport, GuestError> {
        let now = self.now();
        let cutoff = now.saturating_sub(millis(policy.idle));
        let mut report = CleanupReport {
            dry_run: policy.dry_run,
            cutoff,
            ..CleanupReport::default()
        };
        if policy.dry_run {
            let (n, oldest) = self.idle_count(cutoff).await?;
            let sample = statement::<DB>(sql::IDLE_SAMPLE)
                .bind(cutoff)
                .fetch_all(&mut *self.reader.acquire().await?)
                .await?;
            report.guests = count(n);
            report.oldest_last_seen = oldest;
            report.sample = sample
                .iter()
                .map(|row| column::<DB, _>(row, 0))
                .collect::<Result<_, _>>()?;
            return Ok(report);
        }
        let batch = i64::from(policy.batch_size.max(1));
        let mut last_batch_took = None;
        loop {
            if report.batches >= policy.max_batches {
                report.more = true;
                break;
            }
            // Background work: between batches, leave the store to the requests for as long as
            // the last batch held it (at most half its write time).
            if let Some(took) = last_batch_took {
                tokio::time::sleep(took).await;
            }
            let started = std::time::Instant::now();
            let removed = self.cleanup_batch(cutoff, batch, hook).await?;
            if removed.is_empty() {
                break;
            }
            last_batch_took = Some(started.elapsed());
            let n = removed.len() as u64;
            self.metrics.cleaned(n);
            report.batches += 1;
            report.guests += n;
            let oldest = removed.iter().map(|(_, seen)| *seen).min();
            report.oldest_last_seen = match (report.oldest_last_seen, oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if (removed.len() as i64) < batch {
                break;
            }
        }
        if report.more {
            report.more = self.idle_count(cutoff).await?.0 > 0;
        }
        let pruned = statement::<DB>(sql::PRUNE_BUCKETS)
            .bind(now)
            .execute(&mut *self.writer.acquire().await?)
            .await?;
        report.buckets_pruned = pruned;
        Ok(report)
    }

    async fn stats_here(&self) -> Result<GuestStats, GuestError> {
        let since = self.now() - millis(self.config.active_window);
        let row = statement::<DB>(sql::STATS)
            .bind(since)
            .fetch_one(&mut *self.reader.acquire().await?)
            .await?;
        let mut stats = self.metrics.snapshot();
        stats.guests = count(column::<DB, _>(&row, 0)?);
        stats.active = count(column::<DB, _>(&row, 1)?);
        stats.promoted_total = count(column::<DB, _>(&row, 2)?);
        stats.merged_total = count(column::<DB, _>(&row, 3)?);
        Ok(stats)
    }
}

/// The store's database keeps every [`RateBuckets`](crate::rate_limit::RateBuckets) bucket next
/// to the guest limits, so that every server shares them.
impl<DB: GuestDialect> crate::rate_limit::RateBuckets for SqlGuestStore<DB> {
    fn take<'a>(
        &'a self,
        bucket: &'a str,
        rate: Rate,
    ) -> crate::rate_limit::BucketFuture<'a, crate::rate_limit::Verdict> {
        Box::pin(async move {
            let now = self.now();
            let (ok, tat) = self.take_token(bucket, now, rate).await?;
            Ok(rate.verdict(now, ok, tat))
        })
    }

    fn give_back<'a>(
        &'a self,
        bucket: &'a str,
        rate: Rate,
    ) -> crate::rate_limit::BucketFuture<'a, ()> {
        Box::pin(async move {
            statement::<DB>(DB::GIVE_BACK)
                .bind(bucket)
                .bind(rate.interval)
                .execute(&mut *self.writer.acquire().await?)
                .await
                .map_err(GuestError::from)?;
            Ok(())
        })
    }
}

impl<DB: GuestDialect> GuestStore for SqlGuestStore<DB> {
    fn create<'a>(&'a self, request: CreateGuest<'a>) -> GuestFuture<'a, Created> {
        Box::pin(async move {
            if let Some(created) = DB::create_batched(self, &request).await {
                return created;
            }
            self.create_here(request).await
        })
    }

    fn check_active<'a>(&'a self, id: &'a str) -> GuestFuture<'a, bool> {
        Box::pin(DB::check_active(self, id))
    }

    fn get<'a>(&'a self, id: &'a str) -> GuestFuture<'a, Option<Guest>> {
        Box::pin(async move {
            let row = statement::<DB>(sql::GET)
                .bind(id)
                .fetch_optional(&mut *self.reader.acquire().await?)
                .await?;
            Ok(row.map(|row| guest_of::<DB>(&row)).transpose()?)
        })
    }

    fn touch<'a>(&'a self, id: &'a str) -> GuestFuture<'a, bool> {
        Box::pin(self.touch_here(id))
    }

    fn upgrade<'a>(
        &'a self,
        guest_id: &'a str,
        identity: &'a Identity,
        hook: &'a dyn UpgradeHook,
    ) -> GuestFuture<'a, UpgradeOutcome> {
        Box::pin(self.upgrade_here(guest_id, identity, hook))
    }

    fn user_for<'a>(&'a self, identity: &'a Identity) -> GuestFuture<'a, Option<String>> {
        Box::pin(async move {
            let row = statement::<DB>(sql::OWNER)
                .bind(identity.provider.as_str())
                .bind(identity.subject.as_str())
                .fetch_optional(&mut *self.reader.acquire().await?)
                .await?;
            Ok(row.map(|row| column::<DB, _>(&row, 0)).transpose()?)
        })
    }

    fn link_identity<'a>(
        &'a self,
        identity: &'a Identity,
        user_id: &'a str,
    ) -> GuestFuture<'a, String> {
        Box::pin(self.link_here(identity, user_id))
    }

    fn adapter(&self) -> Option<Arc<dyn crate::adapter::Adapter>> {
        // Session reads go to the reader pool (SQLite: read-only connections beside the one
        // writer); upgrades and cleanup end guests' session rows in their own transactions.
        let adapter = SqlAdapter::lazy(self.writer.clone())
            .with_reader(self.reader.clone())
            .ending_guest_sessions();
        Some(Arc::new(adapter))
    }

    fn rate_buckets(self: Arc<Self>) -> Option<Arc<dyn crate::rate_limit::RateBuckets>> {
        DB::SHARES_ATTEMPT_BUCKETS.then_some(self as Arc<dyn crate::rate_limit::RateBuckets>)
    }

    fn check_limits<'a>(&'a self, client: Option<&'a ClientKey>) -> GuestFuture<'a, LimitDecision> {
        Box::pin(self.charge(client, self.config.limits))
    }

    fn cleanup<'a>(
        &'a self,
        policy: &'a CleanupPolicy,
        hook: &'a dyn CleanupHook,
    ) -> GuestFuture<'a, CleanupReport> {
        Box::pin(self.cleanup_here(policy, hook))
    }

    fn stats<'a>(&'a self) -> GuestFuture<'a, GuestStats> {
        Box::pin(self.stats_here())
    }

    fn close(&self) -> GuestFuture<'_, ()> {
        Box::pin(async move {
            SqlGuestStore::close(self).await;
            Ok(())
        })
    }
}
