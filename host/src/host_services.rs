//! The services the host hands each provider: logging into the host's `tracing`, and a
//! cancellation flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dsm_sdk::{
    abi_stable::{sabi_trait::TD_Opaque, std_types::RStr},
    HostBox, HostServices, HostServices_TO, LogLevel,
};

pub struct Services {
    provider: String,
    cancel: Arc<AtomicBool>,
}

impl Services {
    pub fn boxed(provider: &str, cancel: Arc<AtomicBool>) -> HostBox {
        HostServices_TO::from_value(
            Services {
                provider: provider.to_string(),
                cancel,
            },
            TD_Opaque,
        )
    }
}

impl HostServices for Services {
    fn log(&self, level: LogLevel, message: RStr<'_>) {
        let (p, m) = (self.provider.as_str(), message.as_str());
        match level {
            LogLevel::ERROR => tracing::error!(target: "dsm::plugin", provider = p, "{m}"),
            LogLevel::WARN => tracing::warn!(target: "dsm::plugin", provider = p, "{m}"),
            LogLevel::INFO => tracing::info!(target: "dsm::plugin", provider = p, "{m}"),
            LogLevel::DEBUG => tracing::debug!(target: "dsm::plugin", provider = p, "{m}"),
            _ => tracing::trace!(target: "dsm::plugin", provider = p, "{m}"),
        }
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}
