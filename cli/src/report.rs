//! How a failed command ends: the error, and for errors the user can act on, what to do.

use dsm_core::{DsmError, ErrorKind};

/// "error: ..." and, when the exchange could not be reached, one paragraph with the fixes.
pub fn error_paragraph(err: &DsmError) -> String {
    let mut s = format!("error: {err}");
    if let DsmError::Provider { provider, error } = err {
        if error.kind == ErrorKind::NETWORK || error.kind == ErrorKind::TIMEOUT {
            let var = format!("DSM_{}_URL", provider.to_ascii_uppercase());
            s.push_str(&format!(
                "\n\ndsm could not get an answer from {provider}. Check the network \
                 connection and any proxy (HTTPS_PROXY, HTTP_PROXY); if an endpoint is \
                 overridden ({var} or another DSM_{}_*_URL), check that it is right; to \
                 use only what is already cached, run the same command with --source cache.",
                provider.to_ascii_uppercase()
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsm_core::ProviderError;

    #[test]
    fn network_errors_say_what_to_try() {
        let err = DsmError::Provider {
            provider: "okx".into(),
            error: ProviderError::new(ErrorKind::NETWORK, "connection refused"),
        };
        let s = error_paragraph(&err);
        assert!(s.starts_with("error: okx: "), "{s}");
        for hint in ["proxy", "DSM_OKX_URL", "--source cache"] {
            assert!(s.contains(hint), "{hint} missing: {s}");
        }
        let usage = DsmError::InvalidInput("bad symbol".into());
        assert_eq!(error_paragraph(&usage), "error: bad symbol");
    }
}
