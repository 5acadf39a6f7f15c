//! What a provider owns: its settings, the host's services, a runtime and an HTTP client,
//! the last two created on first use.

use std::future::Future;
use std::sync::Arc;

use dsm_sdk::{plugin::Host, ProviderConfig, ProviderError};
use once_cell::sync::OnceCell;

use crate::http::HttpClient;
use crate::runtime::LazyRuntime;

pub struct Core {
    pub config: ProviderConfig,
    pub host: Host,
    user_agent: String,
    // Dropped before the runtime (fields drop in order): the pool's tasks live on it.
    http: OnceCell<Arc<HttpClient>>,
    runtime: LazyRuntime,
}

impl Core {
    /// Cheap: starts no thread and opens no connection. `id` names the runtime's threads
    /// (`dsm-<id>`) and, with `version`, the User-Agent.
    pub fn new(id: &str, version: &str, config: ProviderConfig, host: Host) -> Self {
        Core {
            config,
            host,
            user_agent: format!("dsm-{id}/{version}"),
            http: OnceCell::new(),
            runtime: LazyRuntime::new(format!("dsm-{id}")),
        }
    }

    /// The HTTP client, built on first use.
    pub fn http(&self) -> Result<Arc<HttpClient>, ProviderError> {
        self.http
            .get_or_try_init(|| {
                HttpClient::new(&self.config, self.host.clone(), &self.user_agent).map(Arc::new)
            })
            .cloned()
    }

    /// Run `fut` on the provider's runtime (started now if needed), blocking the caller.
    pub fn block_on<F: Future>(&self, fut: F) -> Result<F::Output, ProviderError> {
        self.runtime.block_on(fut)
    }

    /// Whether the runtime has been started (for tests of laziness).
    pub fn is_started(&self) -> bool {
        self.runtime.is_started()
    }
}
