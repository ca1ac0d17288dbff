//! The one place that ties the SQL stores to sqlx's generic traits. The adapter, the guest store
//! and the session versions are written once for SQLite and PostgreSQL over [`Driver`], which
//! binds the few value types they use (text, integers, either nullable), reads them back, and
//! runs a statement on a connection. Its blanket implementation names sqlx's bounds once, so
//! code generic over a database carries one bound (`DB: Driver`, through `Dialect`) instead of a
//! list of them in every `impl`.

use std::future::Future;
use std::pin::Pin;

use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};

/// A value bound to a statement's parameter.
#[derive(Debug, Clone, Copy)]
pub enum Value<'q> {
    /// `TEXT`, or `NULL`.
    Text(Option<&'q str>),
    /// `BIGINT`, or `NULL`.
    Int(Option<i64>),
}

impl<'q> From<&'q str> for Value<'q> {
    fn from(value: &'q str) -> Self {
        Value::Text(Some(value))
    }
}

impl<'q> From<&'q String> for Value<'q> {
    fn from(value: &'q String) -> Self {
        Value::Text(Some(value))
    }
}

impl<'q> From<Option<&'q str>> for Value<'q> {
    fn from(value: Option<&'q str>) -> Self {
        Value::Text(value)
    }
}

impl From<i64> for Value<'_> {
    fn from(value: i64) -> Self {
        Value::Int(Some(value))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(value: Option<i64>) -> Self {
        Value::Int(value)
    }
}

/// A statement as sqlx holds it (its values are encoded as they are bound).
pub type Unbound<DB> = Query<'static, DB, <DB as Database>::Arguments>;

/// A future of a statement's result.
pub type SqlFuture<'e, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'e>>;

/// What the SQL stores need of a database: bind [`Value`]s, read text and integers, run a
/// statement on a connection. Implemented for every sqlx database that can do it.
pub trait Driver: Database {
    /// Binds `value` to the next parameter of `query`.
    #[doc(hidden)]
    fn bind_value(query: Unbound<Self>, value: Value<'_>) -> Unbound<Self>;
    /// Column `index` of `row` as text.
    #[doc(hidden)]
    fn text(row: &Self::Row, index: usize) -> Result<Option<String>, sqlx::Error>;
    /// Column `index` of `row` as an integer.
    #[doc(hidden)]
    fn int(row: &Self::Row, index: usize) -> Result<Option<i64>, sqlx::Error>;
    /// Runs `query`; its rows.
    #[doc(hidden)]
    fn fetch_all(
        query: Unbound<Self>,
        connection: &mut Self::Connection,
    ) -> SqlFuture<'_, Vec<Self::Row>>;
    /// Runs `query`; its first row, if any.
    #[doc(hidden)]
    fn fetch_optional(
        query: Unbound<Self>,
        connection: &mut Self::Connection,
    ) -> SqlFuture<'_, Option<Self::Row>>;
    /// Runs `query`; how many rows it changed.
    #[doc(hidden)]
    fn execute(query: Unbound<Self>, connection: &mut Self::Connection) -> SqlFuture<'_, u64>;
}

impl<DB> Driver for DB
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'r> Option<String>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<i64>: Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    DB::QueryResult: RowsAffected,
{
    fn bind_value(query: Unbound<DB>, value: Value<'_>) -> Unbound<DB> {
        match value {
            Value::Text(text) => query.bind(text),
            Value::Int(int) => query.bind(int),
        }
    }

    fn text(row: &DB::Row, index: usize) -> Result<Option<String>, sqlx::Error> {
        row.try_get(index)
    }

    fn int(row: &DB::Row, index: usize) -> Result<Option<i64>, sqlx::Error> {
        row.try_get(index)
    }

    fn fetch_all(
        query: Unbound<DB>,
        connection: &mut DB::Connection,
    ) -> SqlFuture<'_, Vec<DB::Row>> {
        Box::pin(query.fetch_all(connection))
    }

    fn fetch_optional(
        query: Unbound<DB>,
        connection: &mut DB::Connection,
    ) -> SqlFuture<'_, Option<DB::Row>> {
        Box::pin(query.fetch_optional(connection))
    }

    fn execute(query: Unbound<DB>, connection: &mut DB::Connection) -> SqlFuture<'_, u64> {
        Box::pin(async move { Ok(query.execute(connection).await?.rows()) })
    }
}

/// How many rows a statement changed: each database's result type says it, with no trait of
/// sqlx's to name it by.
pub trait RowsAffected {
    /// The count.
    fn rows(&self) -> u64;
}

#[cfg(feature = "sqlite")]
impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

#[cfg(feature = "postgres")]
impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

/// A statement and the values bound to it so far, on any [`Driver`].
#[must_use = "a statement does nothing until it runs"]
pub struct Statement<DB: Driver>(Unbound<DB>);

/// The statement `sql` (text of this crate's, or built from it), with nothing bound yet.
pub fn statement<DB: Driver>(sql: impl sqlx::SqlSafeStr) -> Statement<DB> {
    Statement(sqlx::query(sql))
}

impl<DB: Driver> Statement<DB> {
    /// Binds the next parameter.
    pub fn bind<'v>(self, value: impl Into<Value<'v>>) -> Self {
        Statement(DB::bind_value(self.0, value.into()))
    }

    /// Runs it; its rows.
    pub async fn fetch_all(self, on: &mut DB::Connection) -> Result<Vec<DB::Row>, sqlx::Error> {
        DB::fetch_all(self.0, on).await
    }

    /// Runs it; its first row, if any.
    pub async fn fetch_optional(
        self,
        on: &mut DB::Connection,
    ) -> Result<Option<DB::Row>, sqlx::Error> {
        DB::fetch_optional(self.0, on).await
    }

    /// Runs it; its first row (`RowNotFound` without one).
    pub async fn fetch_one(self, on: &mut DB::Connection) -> Result<DB::Row, sqlx::Error> {
        DB::fetch_optional(self.0, on)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Runs it; the first column of its first row.
    pub async fn fetch_value<T: Column>(self, on: &mut DB::Connection) -> Result<T, sqlx::Error> {
        column::<DB, T>(&self.fetch_one(on).await?, 0)
    }

    /// Runs it; how many rows it changed.
    pub async fn execute(self, on: &mut DB::Connection) -> Result<u64, sqlx::Error> {
        DB::execute(self.0, on).await
    }
}

/// A column read back as one of the [`Value`] types.
pub trait Column: Sized {
    /// Column `index` of `row`.
    fn read<DB: Driver>(row: &DB::Row, index: usize) -> Result<Self, sqlx::Error>;
}

fn not_null<T>(value: Option<T>, index: usize) -> Result<T, sqlx::Error> {
    value.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: "unexpected NULL".into(),
    })
}

impl Column for Option<String> {
    fn read<DB: Driver>(row: &DB::Row, index: usize) -> Result<Self, sqlx::Error> {
        DB::text(row, index)
    }
}

impl Column for String {
    fn read<DB: Driver>(row: &DB::Row, index: usize) -> Result<Self, sqlx::Error> {
        not_null(DB::text(row, index)?, index)
    }
}

impl Column for Option<i64> {
    fn read<DB: Driver>(row: &DB::Row, index: usize) -> Result<Self, sqlx::Error> {
        DB::int(row, index)
    }
}

impl Column for i64 {
    fn read<DB: Driver>(row: &DB::Row, index: usize) -> Result<Self, sqlx::Error> {
        not_null(DB::int(row, index)?, index)
    }
}

/// Column `index` of `row`, read as `T`.
pub fn column<DB: Driver, T: Column>(row: &DB::Row, index: usize) -> Result<T, sqlx::Error> {
    T::read::<DB>(row, index)
}
