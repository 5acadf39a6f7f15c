//! S3 ListObjects v1 on the Vision bucket (wire-formats-datasets.md section 5.2):
//! `GET {host}/data.binance.vision?delimiter=/&prefix=P&marker=M`, at most 1000 entries a
//! page, `<IsTruncated>` and `<NextMarker>` (the last Key or CommonPrefix when it is
//! absent). Parsed with namespaces: only elements of the S3 namespace count, and the root's
//! own `<Prefix>` (the request echoed) is not a child directory.
//!
//! Bounded against a hostile server: a page body of at most [`MAX_PAGE_BYTES`], a listing
//! of at most [`MAX_PAGES`] pages, and a marker that must move forward every page.

use std::sync::atomic::AtomicU64;

use dsm_plugin_kit::{Concurrency, HttpClient, Policy};
use dsm_sdk::{ErrorKind, ProviderError};

/// The S3 namespace of ListBucketResult.
const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
/// The bucket, a path on the S3 host.
pub const BUCKET_PATH: &str = "/data.binance.vision";
/// Default host of the bucket listing (endpoint key `vision_listing`).
pub const DEFAULT_LISTING_URL: &str = "https://s3-ap-northeast-1.amazonaws.com";
/// A real page of 1000 entries is about 300 KB.
pub const MAX_PAGE_BYTES: u64 = 4 << 20;
/// Pages of one listing: spot's symbol directories take 3, a 1s series' daily files of
/// ten years 8; a server still paging after this many never stops.
pub const MAX_PAGES: usize = 100;

/// One page: object keys and common prefixes (directories), in order.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    pub keys: Vec<String>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    pub next_marker: Option<String>,
}

impl Page {
    /// Where the next page starts: NextMarker, else the last entry (S3 sorts keys and
    /// prefixes together, so the larger of the two lasts).
    fn continue_after(&self) -> Option<String> {
        self.next_marker.clone().or_else(|| {
            let k = self.keys.last();
            let p = self.prefixes.last();
            k.max(p).cloned()
        })
    }
}

/// Parses one ListBucketResult; `place` names the request in errors.
pub fn parse_page(body: &[u8], place: &str) -> Result<Page, ProviderError> {
    let bad = |why: String| ProviderError::new(ErrorKind::PARSE, format!("{place}: {why}"));
    let text = std::str::from_utf8(body).map_err(|_| bad("the listing is not UTF-8".into()))?;
    let doc = roxmltree::Document::parse(text).map_err(|e| bad(format!("not XML ({e})")))?;
    let root = doc.root_element();
    if !root.has_tag_name((NS, "ListBucketResult")) {
        let name = root.tag_name();
        return Err(bad(format!(
            "expected an S3 ListBucketResult, got <{}> (namespace {:?})",
            name.name(),
            name.namespace().unwrap_or("none")
        )));
    }
    let child_text = |node: roxmltree::Node<'_, '_>, name: &str| -> Option<String> {
        node.children()
            .find(|c| c.has_tag_name((NS, name)))
            .map(|c| c.text().unwrap_or_default().to_string())
    };
    let mut page = Page::default();
    for node in root.children().filter(|n| n.is_element()) {
        if node.has_tag_name((NS, "Contents")) {
            page.keys.extend(child_text(node, "Key"));
        } else if node.has_tag_name((NS, "CommonPrefixes")) {
            page.prefixes.extend(child_text(node, "Prefix"));
        } else if node.has_tag_name((NS, "IsTruncated")) {
            page.truncated = match node.text().unwrap_or_default().trim() {
                "true" => true,
                "false" => false,
                other => return Err(bad(format!("IsTruncated is {other:?}"))),
            };
        } else if node.has_tag_name((NS, "NextMarker")) {
            page.next_marker = node.text().map(str::to_string).filter(|m| !m.is_empty());
        }
    }
    Ok(page)
}

/// What one listing shares: the client, the bucket URL and the request counter.
pub struct Bucket<'a> {
    pub http: &'a HttpClient,
    /// `{host}/data.binance.vision`.
    pub url: String,
    pub counter: &'a AtomicU64,
    pub slots: &'a Concurrency,
}

impl Bucket<'_> {
    /// One page of `prefix` after `marker`.
    pub async fn page(&self, prefix: &str, marker: &str) -> Result<Page, ProviderError> {
        let mut url = format!("{}?delimiter=/&prefix={}", self.url, encode(prefix));
        if !marker.is_empty() {
            url += &format!("&marker={}", encode(marker));
        }
        let policy = Policy {
            max_body: Some(MAX_PAGE_BYTES),
            counter: Some(self.counter),
            slots: Some(self.slots),
            ..Policy::default()
        };
        let resp = self.http.get_with(&url, &policy).await?;
        if !resp.is_success() {
            return Err(ProviderError::new(
                ErrorKind::UPSTREAM_STATUS,
                format!(
                    "the Binance Vision bucket listing answered HTTP {} for GET {url}: {} \
                     (endpoint vision_listing, DSM_BINANCE_VISION_LISTING_URL)",
                    resp.status,
                    resp.snippet(200)
                ),
            ));
        }
        parse_page(&resp.body, &format!("GET {url}"))
    }

    /// Every entry of `prefix` after `marker`, page by page, until `enough` says so or the
    /// listing ends: (keys, prefixes).
    pub async fn list(
        &self,
        prefix: &str,
        marker: &str,
        enough: impl Fn(&Page) -> bool,
    ) -> Result<(Vec<String>, Vec<String>), ProviderError> {
        let (mut keys, mut prefixes) = (Vec::new(), Vec::new());
        let mut marker = marker.to_string();
        for _ in 0..MAX_PAGES {
            let page = self.page(prefix, &marker).await?;
            let stop = !page.truncated || enough(&page);
            let next = page.continue_after();
            keys.extend(page.keys);
            prefixes.extend(page.prefixes);
            if stop {
                return Ok((keys, prefixes));
            }
            match next {
                Some(next) if next > marker => marker = next,
                _ => {
                    return Err(ProviderError::new(
                        ErrorKind::INTEGRITY,
                        format!(
                            "the Binance Vision bucket listing of {prefix} says there is more \
                             but does not move past {marker:?}: refused"
                        ),
                    ))
                }
            }
        }
        Err(ProviderError::new(
            ErrorKind::INTEGRITY,
            format!(
                "the Binance Vision bucket listing of {prefix} did not end after {MAX_PAGES} \
                 pages (no real directory is that long): refused"
            ),
        ))
    }
}

/// Percent-encodes a query value (keys hold `/`, `-`, `_`, letters, digits).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out += &format!("%{b:02X}"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    #[test]
    fn a_page_as_aws_documents_it() {
        let xml = format!(
            "{HEAD}<ListBucketResult xmlns=\"{NS}\"><Name>data.binance.vision</Name>\
             <Prefix>data/spot/daily/klines/</Prefix><Marker></Marker>\
             <NextMarker>data/spot/daily/klines/BNBUSDT/</NextMarker><MaxKeys>1000</MaxKeys>\
             <Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>\
             <CommonPrefixes><Prefix>data/spot/daily/klines/BCCUSDT/</Prefix></CommonPrefixes>\
             <CommonPrefixes><Prefix>data/spot/daily/klines/BNBUSDT/</Prefix></CommonPrefixes>\
             </ListBucketResult>"
        );
        let page = parse_page(xml.as_bytes(), "t").unwrap();
        assert_eq!(
            page.prefixes,
            [
                "data/spot/daily/klines/BCCUSDT/",
                "data/spot/daily/klines/BNBUSDT/"
            ],
            "the root <Prefix> is the request, not a directory"
        );
        assert!(page.truncated && page.keys.is_empty());
        assert_eq!(
            page.next_marker.as_deref(),
            Some("data/spot/daily/klines/BNBUSDT/")
        );
    }

    #[test]
    fn keys_and_the_marker_when_next_marker_is_absent() {
        let xml = format!(
            "{HEAD}<s3:ListBucketResult xmlns:s3=\"{NS}\"><s3:Prefix>p/</s3:Prefix>\
             <s3:IsTruncated>true</s3:IsTruncated>\
             <s3:Contents><s3:Key>p/A-1d-2024-01-01.zip</s3:Key><s3:Size>9</s3:Size></s3:Contents>\
             <s3:Contents><s3:Key>p/A-1d-2024-01-01.zip.CHECKSUM</s3:Key></s3:Contents>\
             </s3:ListBucketResult>"
        );
        let page = parse_page(xml.as_bytes(), "t").unwrap();
        assert_eq!(page.keys.len(), 2);
        assert_eq!(
            page.continue_after().as_deref(),
            Some("p/A-1d-2024-01-01.zip.CHECKSUM")
        );
    }

    #[test]
    fn elements_of_another_namespace_do_not_count() {
        let xml = format!(
            "{HEAD}<ListBucketResult xmlns=\"{NS}\" xmlns:x=\"urn:other\">\
             <x:CommonPrefixes><x:Prefix>evil/</x:Prefix></x:CommonPrefixes>\
             <CommonPrefixes><x:Prefix>evil2/</x:Prefix></CommonPrefixes>\
             <IsTruncated>false</IsTruncated></ListBucketResult>"
        );
        let page = parse_page(xml.as_bytes(), "t").unwrap();
        assert!(page.prefixes.is_empty(), "{page:?}");
        let no_ns = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
        let e = parse_page(no_ns.as_bytes(), "GET x").unwrap_err();
        assert!(e.message.contains("ListBucketResult"), "{e}");
    }

    #[test]
    fn errors_and_garbage_are_refused_clearly() {
        let err = format!("{HEAD}<Error><Code>AccessDenied</Code></Error>");
        let e = parse_page(err.as_bytes(), "GET x").unwrap_err();
        assert_eq!(e.kind, ErrorKind::PARSE);
        assert!(e.message.contains("got <Error>"), "{e}");
        assert!(parse_page(b"\xff\xfe", "t").is_err());
        assert!(parse_page(b"<a><b></a>", "t").is_err());
        let odd = format!(
            "<ListBucketResult xmlns=\"{NS}\"><IsTruncated>maybe</IsTruncated></ListBucketResult>"
        );
        assert!(parse_page(odd.as_bytes(), "t").is_err());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("data/spot/BTC USDT+&"), "data/spot/BTC%20USDT%2B%26");
    }
}
