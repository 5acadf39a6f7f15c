//! Many series in one run (`dsm sync`): a spec ([`SyncSpec`]) expanded into series
//! ([`plan`], sharded by [`Shard`]), run concurrently through the failover under the
//! plugins' one rate budget per host ([`SyncPlan::run`]), and recorded in a lockfile of
//! every cached period's checksum and source ([`Lockfile`]); its series exported into a
//! dataset after it ([`export_synced`]).

mod export;
mod listing;
mod lock;
mod plan;
mod run;
mod spec;

pub use export::export_synced;
pub use lock::{LockedPeriod, LockedSeries, Lockfile};
pub use plan::{expand_symbols, needs_listing, plan, SeriesId, Shard};
pub use run::{SeriesResult, SyncEvent, SyncPlan, DEFAULT_WORKERS};
pub use spec::{split_list, SyncSpec};
