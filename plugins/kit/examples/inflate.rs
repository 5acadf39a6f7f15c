//! Inflate one zip's entry N times and walk its lines, by the whole path (libdeflate) or the
//! streamed one (zlib-rs), for instruction counts under valgrind and `perf stat`:
//! `inflate ZIP ENTRY whole|streamed [N]`. Prints the bytes and lines seen (the same for both).

use std::io::BufRead;

use dsm_plugin_kit::csv::for_each_line;
use dsm_plugin_kit::unzip::{read_entry, read_entry_streamed, ZipLimits};
use dsm_sdk::ProviderError;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, zip, entry, how, rest @ ..] = args.as_slice() else {
        eprintln!("usage: inflate ZIP ENTRY whole|streamed [N]");
        std::process::exit(2);
    };
    let n: usize = rest.first().map_or(1, |n| n.parse().expect("N"));
    let bytes = std::fs::read(zip).expect("read the zip");
    let (mut total, mut lines) = (0usize, 0usize);
    for _ in 0..n {
        let walk = |r: &mut dyn BufRead| -> Result<(usize, usize), ProviderError> {
            let (mut len, mut count) = (0, 0);
            for_each_line(r, entry, |_, line| {
                len += line.len();
                count += 1;
                Ok(())
            })?;
            Ok((len, count))
        };
        let (len, count) = match how.as_str() {
            "whole" => read_entry(&bytes, zip, entry, &ZipLimits::DEFAULT, walk),
            "streamed" => read_entry_streamed(&bytes, zip, entry, &ZipLimits::DEFAULT, walk),
            _ => panic!("whole or streamed"),
        }
        .expect("inflate");
        total += len;
        lines += count;
    }
    println!("{total} bytes of lines, {lines} lines");
}
