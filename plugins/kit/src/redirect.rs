//! Which redirects the HTTP client follows: a mirror or CDN over https, yes; another
//! scheme, a downgrade to http or another origin over plain http, never.

/// Redirects followed for one request. Exchanges and their archives answer directly; a
/// mirror or CDN may redirect once or twice. More is a misconfiguration or a loop.
pub const MAX_REDIRECTS: usize = 5;

/// Why a redirect is not followed (see [`redirect_refusal`]).
#[derive(Debug)]
struct RedirectRefused(String);

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedirectRefused {}

/// The policy given to reqwest: [`redirect_refusal`] decides.
pub(crate) fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        match redirect_refusal(attempt.previous(), attempt.url()) {
            Some(why) => attempt.error(RedirectRefused(why)),
            None => attempt.follow(),
        }
    })
}

/// Why the redirect to `next` is refused, `None` to follow it. `previous`: the addresses
/// requested so far, the one that answered with this redirect last. Followed: at most
/// [`MAX_REDIRECTS`], to http(s) only, never back to an address visited, never from https
/// down to http, and to another origin only over https (a mirror or CDN).
pub fn redirect_refusal(previous: &[reqwest::Url], next: &reqwest::Url) -> Option<String> {
    let from = previous
        .last()
        .map_or_else(|| "?".to_string(), |u| u.to_string());
    if !matches!(next.scheme(), "http" | "https") {
        return Some(format!(
            "refusing a redirect from {from} to {next}: only http and https are followed"
        ));
    }
    if previous.contains(next) {
        return Some(format!(
            "redirect loop: {next} redirects back to an address already visited"
        ));
    }
    if previous.len() > MAX_REDIRECTS {
        return Some(format!(
            "more than {MAX_REDIRECTS} redirects (the last to {next})"
        ));
    }
    let prev = previous.last()?;
    if prev.scheme() == "https" && next.scheme() == "http" {
        return Some(format!(
            "refusing a redirect from https down to http: {from} to {next}"
        ));
    }
    if prev.origin() != next.origin() && next.scheme() != "https" {
        return Some(format!(
            "refusing a redirect from {from} to another origin over plain http ({next}): \
             only https mirrors are followed"
        ));
    }
    None
}

/// Why `resp`, a redirect reqwest handed back instead of following, is refused: reqwest
/// returns some targets (e.g. `file://`) without asking [`redirect_policy`].
pub(crate) fn unfollowed_redirect(resp: &reqwest::Response) -> Option<String> {
    if !resp.status().is_redirection() {
        return None;
    }
    let location = resp.headers().get(reqwest::header::LOCATION)?;
    let location = String::from_utf8_lossy(location.as_bytes());
    let why = match resp.url().join(&location) {
        Ok(next) => redirect_refusal(std::slice::from_ref(resp.url()), &next),
        Err(e) => Some(format!(
            "refusing a redirect from {} to {location:?}: not a valid address ({e})",
            resp.url()
        )),
    };
    Some(why.unwrap_or_else(|| {
        format!(
            "refusing a redirect from {} to {location:?}: not followed",
            resp.url()
        )
    }))
}
