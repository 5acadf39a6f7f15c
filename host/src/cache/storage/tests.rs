//! What every backend must do, run against each: the file system and a real S3 server.

use super::*;
use crate::cache::test_backends::{on_every_backend, temp_cache, Backend};

on_every_backend!(
    objects_round_trip_and_absent_ones_are_none,
    gets_are_bounded,
    listings_walk_every_page_in_key_order,
);

fn objects_round_trip_and_absent_ones_are_none(b: Backend) {
    let t = temp_cache(b);
    let s = t.storage();
    assert_eq!(s.get("a/b.bin", 100).unwrap(), None);
    assert!(!s.exists("a/b.bin").unwrap());
    s.put("a/b.bin", b"first").unwrap();
    s.put("a/b.bin", b"second, longer").unwrap();
    assert_eq!(s.get("a/b.bin", 100).unwrap().unwrap(), b"second, longer");
    assert!(s.exists("a/b.bin").unwrap());
    let listed: Vec<Entry> = s.list("").map(Result::unwrap).collect();
    assert_eq!(
        listed,
        [Entry {
            key: "a/b.bin".into(),
            bytes: 14,
            what: What::Object
        }]
    );
    s.delete("a/b.bin").unwrap();
    s.delete("a/b.bin").unwrap();
    assert_eq!(s.get("a/b.bin", 100).unwrap(), None);
    assert!(s.list("").next().is_none());
    let at = s.location("a/b.bin").to_string_lossy().into_owned();
    let want = match b {
        Backend::Fs => t.root().join("a/b.bin").to_string_lossy().into_owned(),
        Backend::S3 => "s3://dsm-test/team/cache/a/b.bin".into(),
    };
    assert_eq!(at, want);
    s.check_writable().unwrap();
    assert!(
        s.list("").next().is_none(),
        "the write check leaves nothing"
    );
}

fn gets_are_bounded(b: Backend) {
    let t = temp_cache(b);
    let s = t.storage();
    s.put("big", &[7u8; 1000]).unwrap();
    assert_eq!(s.get("big", 1000).unwrap().unwrap().len(), 1000);
    let err = s.get("big", 999).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    assert!(err.to_string().contains("1000 bytes"), "{err}");
}

fn listings_walk_every_page_in_key_order(b: Backend) {
    let t = temp_cache(b);
    let s = t.storage();
    // More than one page of S3's ListObjectsV2 (1000 keys), under two prefixes.
    let mut want: Vec<String> = (0..1005).map(|i| format!("p/{i:05}")).collect();
    for k in &want {
        s.put(k, b"x").unwrap();
    }
    s.put("q/other", b"y").unwrap();
    let got: Vec<String> = s.list("p/").map(|e| e.unwrap().key).collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(s.list("").count(), 1006);
    assert_eq!(s.list("q/").count(), 1);
    assert_eq!(s.list("r/").count(), 0);
}

#[test]
fn locations_are_opened_by_their_scheme() {
    assert!(format!("{:?}", open(Path::new("/tmp/x")).unwrap()).contains("FileStorage"));
    assert!(
        format!("{:?}", open(Path::new("s3://bucket/a/b")).unwrap()).contains("s3://bucket/a/b")
    );
    for bad in [
        "gs://bucket/x",
        "s3://",
        "s3://B/x",
        "s3://bucket/a/../b",
        "s3://ab",
    ] {
        let err = open(Path::new(bad)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}: {err}");
        assert!(err.to_string().contains(bad), "{err}");
    }
}

#[test]
fn object_storage_starts_nothing_until_asked() {
    let s = ObjectStorage::s3("s3://bucket/prefix/", &[]).unwrap();
    assert_eq!(s.location("k").to_string_lossy(), "s3://bucket/prefix/k");
    assert!(
        !s.started(),
        "no runtime, no client before the first request"
    );
}
