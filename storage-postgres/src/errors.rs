//! PostgreSQL's failures as the store reports them: one line for a
//! person, the driver's error kept as the cause, and its SQLSTATE
//! readable from the store error ([`sqlstate`]).

use credlog_core::store::StoreError;
use tokio_postgres::error::SqlState;

/// A PostgreSQL failure as the store reports it.
/// A lost connection (or none to be had), or the server shutting down or
/// not yet accepting connections (SQLSTATE class 08, 57P01-57P03, 53300),
/// is [`StoreError::Unavailable`]: the request may be retried, on this
/// node or another; another error the database answered is a failure of
/// the store. Either keeps the driver's error as its cause, and with it
/// the SQLSTATE ([`sqlstate`]).
pub(crate) fn pg(error: tokio_postgres::Error) -> StoreError {
    let transient = match error.code() {
        None => true,
        Some(code) => {
            let code = code.code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
        }
    };
    let message = format!("PostgreSQL: {}", causes(&error));
    if transient || error.is_closed() {
        return StoreError::unavailable(message, error);
    }
    StoreError::backend(message, error)
}

/// No connection to be had from the pool: [`StoreError::Unavailable`],
/// the pool's error kept as the cause.
pub(crate) fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    let message = format!("PostgreSQL: no connection: {}", causes(&error));
    StoreError::unavailable(message, error)
}

/// The SQLSTATE PostgreSQL answered a statement of the store with
/// (`23505`, `57P01` ...), when `error` is a failure the database
/// reported: read from the driver's error the store error keeps as its
/// cause.
///
/// ```
/// use credlog_core::store::StoreError;
///
/// // A failure that was not the database's has none.
/// let error = StoreError::Backend("the store's writer stopped".into());
/// assert!(credlog_storage_postgres::sqlstate(&error).is_none());
/// ```
pub fn sqlstate(error: &StoreError) -> Option<&SqlState> {
    let mut cause = error
        .cause()
        .map(|cause| cause as &(dyn std::error::Error + 'static));
    while let Some(error) = cause {
        if let Some(error) = error.downcast_ref::<tokio_postgres::Error>() {
            return error.code();
        }
        cause = error.source();
    }
    None
}

/// `error` and each of its causes, `: ` between (tokio-postgres shows
/// only the first: "error performing TLS handshake").
pub(crate) fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let more = error.to_string();
        if !text.ends_with(&more) {
            text = format!("{text}: {more}");
        }
        cause = error.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDatabase;

    #[tokio::test]
    async fn a_refused_statement_keeps_the_driver_error_and_its_sqlstate() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let (client, connection) = database
            .config
            .connect(tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let refused = client.execute("SELECT nope", &[]).await.unwrap_err();
        let line = format!("storage failed: PostgreSQL: {}", causes(&refused));

        let error = pg(refused);
        assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
        assert_eq!(error.to_string(), line);
        assert_eq!(error.status(), 500);
        assert_eq!(sqlstate(&error), Some(&SqlState::UNDEFINED_COLUMN));
        let source = std::error::Error::source(&error).and_then(std::error::Error::source);
        assert!(source.is_some_and(|cause| cause.is::<tokio_postgres::Error>()));
    }
}
