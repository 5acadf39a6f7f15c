use super::*;

#[test]
fn a_dsm_variable_that_is_not_utf8_is_refused_by_name() {
    use std::os::unix::ffi::OsStringExt;
    let bad = || OsString::from_vec(b"/data/\xff".to_vec());
    let var = |n: &str, v: OsString| (OsString::from(n), v);
    let err = DsmConfig::check_vars(
        [var("HOME", "/root".into()), var("DSM_CACHE_DIR", bad())].into_iter(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("DSM_CACHE_DIR") && err.contains("not UTF-8"),
        "{err}"
    );
    let name = OsString::from_vec(b"DSM_\xffX".to_vec());
    assert!(DsmConfig::check_vars([(name, "1".into())].into_iter()).is_err());
    // Others are not dsm's to judge; UTF-8 DSM_* values pass.
    DsmConfig::check_vars([var("LANG_OTHER", bad()), var("DSM_RETRIES", "3".into())].into_iter())
        .unwrap();
}

#[test]
fn defaults_are_the_sdks() {
    let c = DsmConfig::new("binance", "spot");
    assert_eq!(c.provider_config(), ProviderConfig::default());
    assert_eq!(c.request_timeout, Duration::from_secs(30));
    assert_eq!(c.hole_recheck_window, Duration::from_secs(7 * 24 * 3600));
}

#[test]
fn presets_carry_the_designed_values() {
    let p = DsmConfig::for_production("binance", "um");
    assert_eq!(p.request_timeout, Duration::from_secs(60));
    assert_eq!(
        (p.retries, p.pool_size, p.log_level),
        (5, 20, LogLevel::ERROR)
    );
    let d = DsmConfig::for_development("binance", "spot");
    assert_eq!(d.request_timeout, Duration::from_secs(15));
    assert_eq!(
        (d.retries, d.pool_size, d.log_level),
        (2, 5, LogLevel::DEBUG)
    );
    assert!(d.log_http && !p.log_http);
}

#[test]
fn env_overrides_every_numeric_field_and_endpoints() {
    let vars = [
        ("DSM_REQUEST_TIMEOUT_MS", "1234"),
        ("DSM_CONNECT_TIMEOUT_MS", "99"),
        ("DSM_RETRIES", "7"),
        ("DSM_BACKOFF_MS", "5"),
        ("DSM_BACKOFF_MAX_MS", "50"),
        ("DSM_POOL_SIZE", "3"),
        ("DSM_CONCURRENCY", "9"),
        ("DSM_PLUGIN_LOG", "debug"),
        ("DSM_CACHE_DIR", "/tmp/c"),
        ("DSM_NO_CACHE", "1"),
        ("DSM_SOURCE", "rest"),
        ("DSM_HOLE_RECHECK_HOURS", "30"),
        ("DSM_RECHECK_HOLES", "1"),
        ("DSM_BINANCE_SPOT_URL", "http://127.0.0.1:1"),
        ("DSM_OKX_URL", "http://ignored"),
        ("DSM_BINANCE_URL", "http://main"),
    ];
    let get = |k: &str| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    let all = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    let c = DsmConfig::new("binance", "spot")
        .with_env(get, all)
        .unwrap();
    assert_eq!(c.request_timeout, Duration::from_millis(1234));
    assert_eq!(c.connect_timeout, Duration::from_millis(99));
    assert_eq!((c.retries, c.pool_size, c.concurrency), (7, 3, 9));
    assert_eq!(c.backoff_base, Duration::from_millis(5));
    assert_eq!(c.backoff_max, Duration::from_millis(50));
    assert_eq!(c.log_level, LogLevel::DEBUG);
    assert_eq!(c.cache_dir, Some(PathBuf::from("/tmp/c")));
    assert!(!c.cache_enabled);
    assert_eq!(c.source, SourceMode::Rest);
    assert_eq!(c.hole_recheck_window, Duration::from_secs(30 * 3600));
    assert!(c.recheck_holes);
    assert_eq!(c.endpoints.len(), 2);
    assert_eq!(c.endpoints["spot"], "http://127.0.0.1:1");
    let mut c = c;
    c.resolve_main_endpoint(&["spot".into(), "um".into()]);
    assert_eq!(
        c.endpoints.len(),
        1,
        "the specific override wins over the main one"
    );
    let mut okx = DsmConfig::new("okx", "spot")
        .with_env(
            |_| None,
            [("DSM_OKX_URL".to_string(), "http://o".to_string())].into_iter(),
        )
        .unwrap();
    okx.resolve_main_endpoint(&["rest".into()]);
    assert_eq!(okx.endpoints["rest"], "http://o");
    let pc = c.provider_config();
    assert_eq!(pc.endpoint("spot"), Some("http://127.0.0.1:1"));
    assert_eq!(pc.request_timeout_ms, 1234);
}

#[test]
fn every_preset_takes_env_endpoints_and_code_wins() {
    let vars = || {
        [
            ("DSM_BINANCE_URL", "http://127.0.0.1:1"),
            ("DSM_BINANCE_VISION_URL", "http://127.0.0.1:2"),
            ("DSM_RETRIES", "9"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
    };
    let keys = ["spot".to_string(), "um".into(), "vision".into()];
    for preset in [
        DsmConfig::new,
        DsmConfig::for_production,
        DsmConfig::for_development,
    ] {
        let mut c = preset("binance", "spot").endpoint("vision", "http://127.0.0.1:3");
        let retries = c.retries;
        c.resolve_endpoints_with(&keys, vars());
        assert_eq!(
            c.endpoints["spot"], "http://127.0.0.1:1",
            "env fills the main one"
        );
        assert_eq!(
            c.endpoints["vision"], "http://127.0.0.1:3",
            "code wins over env"
        );
        assert_eq!(c.retries, retries, "tuning only through from_env");
    }
}

#[test]
fn bad_env_values_are_named() {
    let get = |k: &str| (k == "DSM_RETRIES").then(|| "many".to_string());
    let err = DsmConfig::new("binance", "spot")
        .with_env(get, std::iter::empty())
        .unwrap_err();
    assert!(err.to_string().contains("DSM_RETRIES"), "{err}");
}

#[test]
fn unknown_endpoint_keys_are_rejected() {
    let c = DsmConfig::new("binance", "spot").endpoint("fut", "http://x");
    let err = c.validate(&["spot".into(), "um".into()]).unwrap_err();
    assert!(err.to_string().contains("known: spot, um"), "{err}");
}
