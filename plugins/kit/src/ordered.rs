//! Run tasks concurrently but hand their results over in order.

use std::collections::VecDeque;
use std::future::Future;

use dsm_sdk::{ErrorKind, ProviderError};
use tokio::task::{JoinError, JoinHandle};

/// Aborts the task when dropped, so an early return stops the work still in flight.
struct Task<T>(JoinHandle<T>);

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Spawn `task(item)` for each item, at most `lookahead` ahead of the one being delivered,
/// and pass the results to `deliver` in the items' order. The first error from a task or
/// from `deliver` ends the run and aborts the tasks still running. Memory stays bounded by
/// `lookahead` results. Must run inside a tokio runtime.
pub async fn for_each_ordered<I, T, F, Fut, D>(
    items: impl IntoIterator<Item = I>,
    lookahead: usize,
    mut task: F,
    mut deliver: D,
) -> Result<(), ProviderError>
where
    F: FnMut(I) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>> + Send + 'static,
    T: Send + 'static,
    D: FnMut(T) -> Result<(), ProviderError>,
{
    let mut items = items.into_iter();
    let mut queue: VecDeque<Task<Result<T, ProviderError>>> = VecDeque::new();
    loop {
        while queue.len() < lookahead.max(1) {
            match items.next() {
                Some(item) => queue.push_back(Task(tokio::spawn(task(item)))),
                None => break,
            }
        }
        let Some(mut front) = queue.pop_front() else {
            return Ok(());
        };
        let result = (&mut front.0).await.map_err(join_error)?;
        deliver(result?)?;
    }
}

fn join_error(e: JoinError) -> ProviderError {
    if e.is_panic() {
        let payload = e.into_panic();
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        ProviderError::new(
            ErrorKind::PANICKED,
            format!("a fetch task panicked: {detail}"),
        )
    } else {
        ProviderError::new(ErrorKind::CANCELLED, "a fetch task was cancelled")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn delivers_in_order_despite_completion_order() {
        let mut got = Vec::new();
        for_each_ordered(
            0..8u64,
            4,
            |i| async move {
                tokio::time::sleep(Duration::from_millis(80 - i * 10)).await;
                Ok(i)
            },
            |i| {
                got.push(i);
                Ok(())
            },
        )
        .await
        .unwrap();
        assert_eq!(got, (0..8).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn first_error_stops_the_run() {
        let mut got = Vec::new();
        let err = for_each_ordered(
            0..8u32,
            2,
            |i| async move {
                if i == 3 {
                    Err(ProviderError::new(ErrorKind::NETWORK, "boom"))
                } else {
                    Ok(i)
                }
            },
            |i| {
                got.push(i);
                Ok(())
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NETWORK);
        assert_eq!(got, [0, 1, 2]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn panics_become_errors() {
        let err = for_each_ordered(
            [1],
            1,
            |_| async { panic!("oops") as Result<(), _> },
            |_| Ok(()),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::PANICKED);
        assert!(err.message.contains("oops"));
    }
}
