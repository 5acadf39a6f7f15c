//! `fake-s3 [--port N] DIR`: the tests' S3-compatible server on 127.0.0.1, serving the
//! bucket `dsm-test` from DIR/dsm-test. Prints the endpoint, then the environment a `dsm`
//! needs to use it (`--cache-dir s3://dsm-test/PREFIX`).

use dsm_tests::fake_s3::FakeS3;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut port, mut dir) = (0u16, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "-h" | "--help" => usage(),
            _ if dir.is_none() => dir = Some(std::path::PathBuf::from(a)),
            _ => usage(),
        }
    }
    let dir = dir.unwrap_or_else(|| usage());
    let s3 = FakeS3::serve(&dir, port).unwrap_or_else(|e| {
        eprintln!("fake-s3: {e}");
        std::process::exit(1)
    });
    println!("{}", s3.endpoint());
    for (k, v) in s3.env() {
        println!("export {k}={v}");
    }
    loop {
        std::thread::park();
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: fake-s3 [--port N] DIR   (serves bucket dsm-test from DIR/dsm-test on 127.0.0.1)"
    );
    std::process::exit(2)
}
