//! OKX's kinds through the provider interface the host calls (`DataProvider::fetch_data` with a
//! `DataSink` across abi_stable's types), against the fake exchange on 127.0.0.1: funding
//! arrives through `push_funding`, mark candles through `push_klines`, a sink's STOP ends
//! the fetch, and a kind the market lacks is an error, not a panic.

use dsm_okx::OkxProvider;
use dsm_plugin_kit::testing::{config_on, data_provider, data_request, fetch_through_abi, AbiSink};
use dsm_sdk::data_module::DataProviderBox;
use dsm_sdk::time::{now_ms, DAY_MS};
use dsm_sdk::{DataKind, DataRequest, ErrorKind, SinkControl};
use dsm_tests::fake::{expected_okx_candles, expected_okx_funding, FakeExchange};

fn provider(fake: &FakeExchange) -> DataProviderBox {
    data_provider::<OkxProvider>(config_on(&fake.url()))
}

fn request(kind: DataKind, market: &str, interval: &str, range: (i64, i64)) -> DataRequest {
    data_request(kind, market, "BTC-USDT-SWAP", interval, range)
}

#[test]
fn each_kind_arrives_through_its_sink_method() {
    let fake = FakeExchange::start();
    let p = provider(&fake);
    let now = now_ms();
    let range = (now - 20 * DAY_MS, now - DAY_MS);
    let mut sink = AbiSink::default();
    let report = fetch_through_abi(
        &p,
        &request(DataKind::FUNDING, "swap", "", range),
        &mut sink,
    );
    let report = report.unwrap();
    let want = expected_okx_funding("BTC-USDT-SWAP", range.0, range.1);
    assert_eq!((sink.funding.len(), sink.klines.len()), (1, 0));
    assert_eq!(sink.funding[0].rows.len(), want.len());
    assert_eq!(report.klines as usize, want.len());

    let range = (1_704_067_200_000, 1_704_067_200_000 + 3 * DAY_MS);
    let mut sink = AbiSink::default();
    fetch_through_abi(&p, &request(DataKind::MARK, "swap", "1h", range), &mut sink).unwrap();
    let got = sink.all_klines();
    assert!(got == expected_okx_candles("mark", "BTC-USDT-SWAP", "1h", range.0, range.1));
    assert!(sink.funding.is_empty());
}

#[test]
fn stop_and_refusals_come_back_as_errors() {
    let fake = FakeExchange::start();
    let p = provider(&fake);
    let now = now_ms();
    let mut sink = AbiSink {
        answer: SinkControl::STOP,
        ..AbiSink::default()
    };
    let range = (now - 5 * DAY_MS, now);
    let e = fetch_through_abi(
        &p,
        &request(DataKind::FUNDING, "swap", "", range),
        &mut sink,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::CANCELLED);
    let mut sink = AbiSink::default();
    let e = fetch_through_abi(
        &p,
        &request(DataKind::FUNDING, "spot", "", range),
        &mut sink,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    assert!(e.message.contains("available on OKX swap"), "{e}");
}
