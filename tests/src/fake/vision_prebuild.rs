//! Vision files built ahead of time and kept for the life of the fake, so that a benchmark
//! measures its client, not the fake zipping CSV on the fly. The bytes are exactly those
//! built on request (the same [`VisionFile::build`]), only built earlier.

use std::sync::Mutex;

use super::candles::now_ms;
use super::grid::civil_from_days;
use super::vision::{next_month, parse_date, Built, ListDir, VisionFile, DAY_MS};
use super::vision_daily::DailyFile;
use super::FakeExchange;

/// Threads that build files ahead (zipping is CPU work; the machine may have few cores).
const BUILD_THREADS: usize = 2;

impl FakeExchange {
    /// Builds every published zip of the Vision directory `dir` (e.g.
    /// `data/spot/daily/klines/BTCUSDT/1m`, or a daily trades directory such as
    /// `data/spot/daily/aggTrades/BTCUSDT`) from `from` to `to` (exclusive; `YYYY-MM-DD`
    /// for daily, `YYYY-MM` for monthly directories) and keeps them, with their digests,
    /// until the fake is dropped. Later switches on a file drop its kept copy. Returns how
    /// many files were built, or what is wrong with the arguments.
    pub fn prebuild_vision(&self, dir: &str, from: &str, to: &str) -> Result<usize, String> {
        let dir = dir.trim_matches('/');
        if dir.contains("/daily/trades/") || dir.contains("/daily/aggTrades/") {
            return self.prebuild_trades(dir, from, to);
        }
        let monthly = dir.contains("/monthly/");
        let mut parts = dir.rsplit('/');
        let (iv, symbol) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let list = ListDir {
            symbol: symbol.to_string(),
            iv: iv.to_string(),
            monthly,
        };
        let bad = |d: &str| {
            let form = if monthly { "YYYY-MM" } else { "YYYY-MM-DD" };
            format!("prebuild {dir}: {d:?} is not a date of the form {form}")
        };
        let (start, _, _) = parse_date(from, monthly).ok_or_else(|| bad(from))?;
        let (end, _, _) = parse_date(to, monthly).ok_or_else(|| bad(to))?;
        let now = now_ms();
        let mut files = Vec::new();
        let mut t = start;
        while t < end {
            let key = format!("{dir}/{}", list.name_at(t));
            let file = VisionFile::parse(&key)
                .ok_or_else(|| format!("prebuild: {key} is not a Vision kline file"))?;
            if file.exists(now) {
                files.push(file);
            }
            t = if monthly { next_month(t) } else { t + DAY_MS };
        }
        self.build_all(&files, |file| {
            let edits = self.shared.lock().vision.edits(&file.zip_name);
            (file.zip_path.clone(), file.build(&edits))
        });
        Ok(files.len())
    }

    /// The daily trade files of `dir` (`data/{market}/daily/{trades|aggTrades}/{SYMBOL}`).
    fn prebuild_trades(&self, dir: &str, from: &str, to: &str) -> Result<usize, String> {
        let mut parts = dir.rsplit('/');
        let (symbol, word) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let bad = |d: &str| format!("prebuild {dir}: {d:?} is not a date of the form YYYY-MM-DD");
        let (start, _, _) = parse_date(from, false).ok_or_else(|| bad(from))?;
        let (end, _, _) = parse_date(to, false).ok_or_else(|| bad(to))?;
        let now = now_ms();
        let mut files = Vec::new();
        for day in (start..end).step_by(DAY_MS as usize) {
            let (y, m, d) = civil_from_days(day / DAY_MS);
            let key = format!("{dir}/{symbol}-{word}-{y:04}-{m:02}-{d:02}.zip");
            let file = DailyFile::parse(&key)
                .flatten()
                .filter(DailyFile::is_trades)
                .ok_or_else(|| format!("prebuild: {key} is not a Vision trades file"))?;
            if file.exists(now) {
                files.push(file);
            }
        }
        self.build_all(&files, |file| {
            (file.zip_path.clone(), Built::new(file.zip()))
        });
        Ok(files.len())
    }

    /// Builds `files` on [`BUILD_THREADS`] threads and pins each (path, bytes) `build` gives.
    fn build_all<F: Sync>(&self, files: &[F], build: impl Fn(&F) -> (String, Built) + Sync) {
        let next = Mutex::new(files.iter());
        std::thread::scope(|s| {
            for _ in 0..BUILD_THREADS {
                s.spawn(|| loop {
                    let Some(file) = next.lock().unwrap_or_else(|e| e.into_inner()).next() else {
                        return;
                    };
                    let (path, built) = build(file);
                    self.shared.lock().vision.pin(&path, built);
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(fx: &FakeExchange, path: &str) -> Vec<u8> {
        let resp = reqwest::blocking::get(format!("{}/{path}", fx.url())).unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        resp.bytes().unwrap().to_vec()
    }

    #[test]
    fn prebuilt_files_are_the_bytes_built_on_request() {
        let dir = "data/spot/daily/klines/BTCUSDT/1m";
        let days = ["2023-12-30", "2023-12-31", "2024-01-01"];
        let on_request = FakeExchange::start();
        let ahead = FakeExchange::start();
        assert_eq!(
            ahead.prebuild_vision(dir, "2023-12-30", "2024-01-02"),
            Ok(3)
        );
        assert_eq!(ahead.shared.lock().vision.pinned_count(), 3);
        for day in days {
            let zip = format!("{dir}/BTCUSDT-1m-{day}.zip");
            assert!(get(&on_request, &zip) == get(&ahead, &zip), "{zip}");
            let sum = format!("{zip}.CHECKSUM");
            assert_eq!(get(&on_request, &sum), get(&ahead, &sum));
        }
        let monthly = "data/futures/um/monthly/klines/ETHUSDT/1mo";
        assert_eq!(ahead.prebuild_vision(monthly, "2023-01", "2023-03"), Ok(2));
        let zip = format!("{monthly}/ETHUSDT-1mo-2023-02.zip");
        assert!(get(&on_request, &zip) == get(&ahead, &zip));
    }

    #[test]
    fn prebuilt_trade_days_are_the_bytes_built_on_request() {
        let dir = "data/spot/daily/aggTrades/BTCUSDT";
        let on_request = FakeExchange::start();
        let ahead = FakeExchange::start();
        assert_eq!(
            ahead.prebuild_vision(dir, "2024-02-28", "2024-03-01"),
            Ok(2)
        );
        assert_eq!(ahead.shared.lock().vision.pinned_count(), 2);
        for day in ["2024-02-28", "2024-02-29"] {
            let zip = format!("{dir}/BTCUSDT-aggTrades-{day}.zip");
            assert!(get(&on_request, &zip) == get(&ahead, &zip), "{zip}");
            let sum = format!("{zip}.CHECKSUM");
            assert_eq!(get(&on_request, &sum), get(&ahead, &sum));
        }
        let err = ahead
            .prebuild_vision("data/spot/daily/trades/BTCUSDT", "2024-03", "2024-03-02")
            .unwrap_err();
        assert!(
            err.contains("is not a date of the form YYYY-MM-DD"),
            "{err}"
        );
        // Futures trades; a withheld day is still built but answers 404 as before.
        let um = "data/futures/um/daily/trades/ETHUSDT";
        assert_eq!(ahead.prebuild_vision(um, "2024-01-01", "2024-01-02"), Ok(1));
        ahead.withhold_vision_file("ETHUSDT-trades-2024-01-01.zip");
        let resp = reqwest::blocking::get(format!(
            "{}/{um}/ETHUSDT-trades-2024-01-01.zip",
            ahead.url()
        ))
        .unwrap();
        assert_eq!(resp.status(), 404);
    }

    #[test]
    fn a_switch_after_prebuilding_still_applies() {
        let fx = FakeExchange::start();
        let dir = "data/spot/daily/klines/BTCUSDT/1h";
        fx.prebuild_vision(dir, "2024-01-01", "2024-01-03").unwrap();
        let zip = format!("{dir}/BTCUSDT-1h-2024-01-02.zip");
        let clean = get(&fx, &zip);
        fx.garble_vision_row("BTCUSDT-1h-2024-01-02.zip");
        assert!(get(&fx, &zip) != clean);
        assert_eq!(fx.shared.lock().vision.pinned_count(), 1);
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let fx = FakeExchange::start();
        let dir = "data/spot/daily/klines/BTCUSDT/1m";
        let err = fx
            .prebuild_vision(dir, "2024-01", "2024-02-01")
            .unwrap_err();
        assert!(
            err.contains("\"2024-01\" is not a date of the form YYYY-MM-DD"),
            "{err}"
        );
        let err = fx
            .prebuild_vision(
                "data/spot/daily/klines/BTCUSDT/7m",
                "2024-01-01",
                "2024-01-02",
            )
            .unwrap_err();
        assert!(err.contains("is not a Vision kline file"), "{err}");
        // Files not published (the future) are not built.
        assert_eq!(fx.prebuild_vision(dir, "2099-01-01", "2099-01-03"), Ok(0));
    }
}
