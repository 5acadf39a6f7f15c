//! Bybit's kinds through the provider interface the host calls (`Provider::fetch_data` with a
//! `DataSink` across abi_stable's types), against the fake exchange on 127.0.0.1: funding
//! arrives through `push_funding`, premium candles through `push_klines`, a sink's STOP ends
//! the fetch, and a kind the market lacks is an error, not a panic.

use dsm_bybit::BybitProvider;
use dsm_plugin_kit::testing::TestHost;
use dsm_sdk::abi_stable::{sabi_trait::TD_Opaque, sabi_types::RMut, std_types::RResult};
use dsm_sdk::time::{now_ms, DAY_MS};
use dsm_sdk::{
    plugin::new_provider, DataKind, DataRequest, DataSink, DataSink_TO, Endpoint, ErrorKind,
    FundingBatch, HostServices_TO, KlineBatch, ProviderBox, ProviderConfig, SinkControl,
    SourceKind,
};
use dsm_tests::fake::{expected_bybit_candles, expected_bybit_funding, FakeExchange};

struct Sink {
    klines: Vec<KlineBatch>,
    funding: Vec<FundingBatch>,
    answer: SinkControl,
}

impl Default for Sink {
    fn default() -> Self {
        Sink {
            klines: Vec::new(),
            funding: Vec::new(),
            answer: SinkControl::CONTINUE,
        }
    }
}

impl DataSink for Sink {
    fn push_klines(&mut self, batch: KlineBatch) -> SinkControl {
        self.klines.push(batch);
        self.answer
    }
    fn push_funding(&mut self, batch: FundingBatch) -> SinkControl {
        self.funding.push(batch);
        self.answer
    }
    fn progress(&mut self, _done_ms: i64, _total_ms: i64) {}
}

fn provider(fake: &FakeExchange) -> ProviderBox {
    let config = ProviderConfig {
        endpoints: vec![Endpoint {
            key: "rest".into(),
            url: fake.url().into(),
        }]
        .into(),
        ..ProviderConfig::default()
    };
    let host = HostServices_TO::from_value(TestHost::new(), TD_Opaque);
    match new_provider::<BybitProvider>(config, host) {
        RResult::ROk(p) => p,
        RResult::RErr(e) => panic!("{e}"),
    }
}

fn request(kind: DataKind, market: &str, interval: &str, range: (i64, i64)) -> DataRequest {
    DataRequest {
        kind,
        market: market.into(),
        symbol: "BTCUSDT".into(),
        interval: interval.into(),
        start_ms: range.0,
        end_ms: range.1,
        source: SourceKind::LIVE,
    }
}

#[test]
fn each_kind_arrives_through_its_sink_method() {
    let fake = FakeExchange::start();
    let p = provider(&fake);
    let now = now_ms();
    let range = (now - 20 * DAY_MS, now - DAY_MS);
    let mut sink = Sink::default();
    let sink_to = DataSink_TO::from_ptr(RMut::new(&mut sink), TD_Opaque);
    let report = p.fetch_data(&request(DataKind::FUNDING, "linear", "", range), sink_to);
    let report = report.into_result().unwrap();
    let want = expected_bybit_funding("linear", "BTCUSDT", range.0, range.1);
    assert_eq!((sink.funding.len(), sink.klines.len()), (1, 0));
    assert_eq!(sink.funding[0].rows.len(), want.len());
    assert_eq!(report.klines as usize, want.len());

    let range = (1_704_067_200_000, 1_704_067_200_000 + 3 * DAY_MS);
    let mut sink = Sink::default();
    let sink_to = DataSink_TO::from_ptr(RMut::new(&mut sink), TD_Opaque);
    p.fetch_data(&request(DataKind::PREMIUM, "linear", "1h", range), sink_to)
        .into_result()
        .unwrap();
    let got: Vec<_> = sink
        .klines
        .iter()
        .flat_map(|b| b.klines.iter().copied())
        .collect();
    assert!(got == expected_bybit_candles("premium", "linear", "BTCUSDT", "1h", range.0, range.1));
    assert!(sink.funding.is_empty());
}

#[test]
fn stop_and_refusals_come_back_as_errors() {
    let fake = FakeExchange::start();
    let p = provider(&fake);
    let now = now_ms();
    let mut sink = Sink {
        answer: SinkControl::STOP,
        ..Sink::default()
    };
    let sink_to = DataSink_TO::from_ptr(RMut::new(&mut sink), TD_Opaque);
    let range = (now - 5 * DAY_MS, now);
    let e = p
        .fetch_data(&request(DataKind::FUNDING, "linear", "", range), sink_to)
        .into_result()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::CANCELLED);
    let mut sink = Sink::default();
    let sink_to = DataSink_TO::from_ptr(RMut::new(&mut sink), TD_Opaque);
    let e = p
        .fetch_data(&request(DataKind::FUNDING, "spot", "", range), sink_to)
        .into_result()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    assert!(
        e.message.contains("available on Bybit linear, inverse"),
        "{e}"
    );
}
