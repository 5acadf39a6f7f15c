use std::io::Cursor;

use arrow_array::Int64Array;
use arrow_schema::{DataType, Field};

use super::*;

/// A small file of `batches` batches of one column.
fn file(batches: i64) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    let batch = |i: i64| {
        let col = Int64Array::from_iter_values(i * 10..i * 10 + 10);
        RecordBatch::try_new(schema.clone(), vec![Arc::new(col)]).unwrap()
    };
    let footer = [("dsm.rows".to_string(), (batches * 10).to_string())];
    encode(&schema, (0..batches).map(batch), &footer).unwrap()
}

#[test]
fn checksums_hold_however_the_file_is_read() {
    let bytes = file(3);
    let mut f = Cursor::new(bytes.clone());
    let (footer, len) = Footer::read(&mut f).unwrap();
    assert_eq!(len, bytes.len() as u64);
    assert_eq!(footer.metadata["dsm.rows"], "30");
    // Chunks that split the checksum's digits every way, and one that holds the file.
    for size in [1, 3, 7, 16, 17, 4096, READ_CHUNK] {
        footer.check_in_chunks(&mut f, len, size).unwrap();
    }
    // The digits are the xxh3 of the file read with them as `0`s.
    let span = footer.checksum_span.clone().unwrap();
    let mut zeroed = bytes.clone();
    zeroed[span.clone()].copy_from_slice(PLACEHOLDER);
    let sum = format!("{:016x}", XxHash3_64::oneshot(&zeroed));
    assert_eq!(&bytes[span.clone()], sum.as_bytes());
    // A changed byte anywhere, the digits included, is found in every chunking.
    for at in [
        0,
        9,
        bytes.len() / 2,
        span.start,
        span.end - 1,
        bytes.len() - 7,
    ] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        let mut f = Cursor::new(bad);
        // No longer a footer at all: refused before the checksum.
        let Ok((found, len)) = Footer::read(&mut f) else {
            continue;
        };
        for size in [1, 7, 17, READ_CHUNK] {
            assert!(
                found.check_in_chunks(&mut f, len, size).is_err(),
                "{at}/{size}"
            );
        }
        // Held in memory: the same verdict.
        let bad = f.into_inner();
        if let Ok(found) = Footer::of_bytes(&bad) {
            assert!(found.check_checksum_in(&bad).is_err(), "{at}");
        }
    }
    let whole = Footer::of_bytes(&bytes).unwrap();
    assert_eq!(whole.metadata, footer.metadata);
    assert_eq!(whole.checksum_span, footer.checksum_span);
    whole.check_checksum_in(&bytes).unwrap();
}

#[test]
fn batches_decoded_in_place_are_the_files_batches() {
    for n in [1, 4] {
        let bytes = file(n);
        let want: Vec<RecordBatch> =
            arrow_ipc::reader::FileReader::try_new(Cursor::new(bytes.clone()), None)
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let buffer = Buffer::from_vec(bytes.clone());
        let (schema, got) = decode_batches(&buffer).unwrap();
        assert_eq!(got, want);
        assert_eq!(schema.fields(), want[0].schema().fields());
        // The columns point into the file's bytes.
        let at = got[0].column(0).to_data().buffers()[0].as_ptr() as usize;
        let range = buffer.as_ptr() as usize..buffer.as_ptr() as usize + buffer.len();
        assert!(range.contains(&at));
    }
    // Cut short or not a file at all: an error, never a panic.
    let bytes = file(2);
    for cut in [0, 9, 64, bytes.len() / 2, bytes.len() - 11] {
        assert!(
            decode_batches(&Buffer::from_vec(bytes[..cut].to_vec())).is_err(),
            "{cut}"
        );
    }
}

#[test]
fn files_of_one_or_many_batches_are_plain_arrow_files() {
    for n in [1, 4] {
        let bytes = file(n);
        let r = arrow_ipc::reader::FileReader::try_new(Cursor::new(bytes), None).unwrap();
        assert_eq!(r.num_batches(), n as usize);
        let rows: usize = r.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 10 * n as usize);
    }
}

#[test]
fn holes_round_trip() {
    let h = vec![(0, 60_000), (120_000, 600_000)];
    assert_eq!(decode_holes(&encode_holes(&h)).unwrap(), h);
    assert_eq!(decode_holes("").unwrap(), vec![]);
    for bad in ["5", "5-3", "a-b", "-5-9", "1-2,"] {
        assert!(decode_holes(bad).is_err(), "{bad}");
    }
}
