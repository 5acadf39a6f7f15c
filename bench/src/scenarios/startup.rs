//! Start-up, `Dsm::create` and the first plugin load.

use super::*;

pub(super) fn startup(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("startup: dsm providers as a whole process");
    let providers = || {
        let mut c = env.dsm();
        c.arg("providers");
        c
    };
    for _ in 0..3 {
        env.run_ok(&mut providers())?; // page cache and dynamic loader warm
    }
    let (mut wall, mut rss) = (Vec::new(), Vec::new());
    for _ in 0..o.reps(30, 10) {
        let p = env.run_ok(&mut providers())?;
        for id in PLUGINS {
            if !p.stdout.contains(id) {
                return Err(format!("dsm providers did not list {id}:\n{}", p.stdout));
            }
        }
        wall.push(p.wall);
        rss.push(p.maxrss_kib);
    }
    rep.target(
        "start-up",
        "`dsm providers` wall",
        secs(&wall),
        Unit::Secs,
        "<= 1.5 ms",
        |m| m <= 0.0015,
    );
    rep.target(
        "start-up",
        "`dsm providers` peak RSS",
        kib(&rss),
        Unit::KiB,
        "<= 8 MiB",
        |m| m <= 8.0 * 1024.0,
    );
    // Where the time goes: the same harness running what is not dsm's to cut (process
    // creation, exec, the dynamic loader of a small C program) and dsm without discovery.
    let wall_of = |make: &dyn Fn() -> Command| -> Result<Vec<Duration>, String> {
        for _ in 0..3 {
            env.run_ok(&mut make())?;
        }
        (0..o.reps(30, 10))
            .map(|_| env.run_ok(&mut make()).map(|p| p.wall))
            .collect()
    };
    let floor = wall_of(&|| env.cmd(Path::new("/bin/true")))?;
    rep.add(
        "start-up",
        "floor: `/bin/true` (fork + exec + glibc's loader), same harness",
        secs(&floor),
        Unit::Secs,
    );
    let version = wall_of(&|| {
        let mut c = env.dsm();
        c.arg("--version");
        c
    })?;
    rep.add(
        "start-up",
        "`dsm --version` wall (the binary's own start, no plugin search)",
        secs(&version),
        Unit::Secs,
    );
    // Proof that no plugin is opened: the dynamic loader's own trace.
    let p = env.run_ok(providers().env("LD_DEBUG", "files"))?;
    let opened = p
        .stderr
        .lines()
        .filter(|l| l.contains("libdsm_") && (l.contains("file=") || l.contains("calling init")))
        .count();
    let mut loaded_libs: Vec<&str> = Vec::new();
    for lib in p
        .stderr
        .lines()
        .filter_map(|l| l.split("file=").nth(1))
        .filter_map(|f| f.split_whitespace().next())
    {
        if !loaded_libs.contains(&lib) {
            loaded_libs.push(lib);
        }
    }
    rep.target(
        "start-up",
        "plugin files opened by `dsm providers` (LD_DEBUG=files)",
        Stats::of(&[opened as f64]),
        Unit::Count,
        "0",
        |m| m == 0.0,
    );
    rep.note(format!(
        "`LD_DEBUG=files dsm providers` lists {} libraries loaded: {}; it printed all three \
         providers ({}), read from the manifests in the files",
        loaded_libs.len(),
        loaded_libs.join(", "),
        PLUGINS.join(", ")
    ));
    // ccxt's start-up, for context.
    let py = |code: &str| {
        let mut c = env.cmd(Path::new(&env.python));
        c.arg("-c").arg(code);
        c
    };
    if env.run(&mut py("import ccxt"))?.ok() {
        let _ = env.run(&mut py("import ccxt; ccxt.binance()"))?;
        let (mut wall, mut rss) = (Vec::new(), Vec::new());
        for _ in 0..o.reps(5, 3) {
            let p = env.run_ok(&mut py("import ccxt; ccxt.binance()"))?;
            wall.push(p.wall);
            rss.push(p.maxrss_kib);
        }
        rep.add(
            "start-up",
            "ccxt: `python3 -c \"import ccxt; ccxt.binance()\"` wall",
            secs(&wall),
            Unit::Secs,
        );
        rep.add("start-up", "ccxt: same, peak RSS", kib(&rss), Unit::KiB);
    } else {
        rep.note("ccxt is not installed (pip install -r bench/requirements.txt): its start-up was not measured");
    }
    Ok(())
}

pub(super) fn create(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("create: Dsm::create_with_config in-process");
    let n = o.reps(2000, 500);
    let mut all = Vec::new();
    let mut firsts = Vec::new();
    for _ in 0..3 {
        let p = env.run_ok(env.probe("create").args(["--n", &n.to_string()]))?;
        let samples: Vec<Duration> = p
            .value("samples")
            .unwrap_or("")
            .split(',')
            .filter_map(|s| s.parse().ok().map(Duration::from_nanos))
            .collect();
        if p.num("mapped") != Some(0) {
            return Err("Dsm::create mapped a plugin".into());
        }
        firsts.push(samples[0]);
        all.extend_from_slice(&samples[1..]);
    }
    rep.target(
        "create",
        "`Dsm::create_with_config` (binance spot)",
        secs(&all),
        Unit::Secs,
        "<= 1 ms",
        |m| m <= 0.001,
    );
    rep.add(
        "create",
        "the first `Dsm::create` of a process",
        secs(&firsts),
        Unit::Secs,
    );
    rep.note(format!(
        "Dsm::create: {} creates in each of 3 fresh processes; no plugin mapped afterwards \
         (/proc/self/maps)",
        n
    ));
    Ok(())
}

pub(super) fn first_use(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("first use: plugin load vs request, fresh processes");
    let fake = env.fake()?;
    let (mut load, mut init, mut overhead, mut again, mut first) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..o.reps(10, 5) + 1 {
        let p = env.run_ok(env.probe("first-use").args([
            "--url",
            &fake.url,
            "--start",
            "2024-01-01T00:00:00Z",
            "--end",
            "2024-01-01T01:00:00Z",
        ]))?;
        if p.num("mapped_before") != Some(0) || p.num("mapped_after") != Some(1) {
            return Err(format!("unexpected mappings: {}", p.stdout));
        }
        if p.num("candles") != Some(60) {
            return Err(format!("first-use fetch: {}", p.stdout));
        }
        if i == 0 {
            continue; // warm-up: page cache
        }
        let (f, l, a, s) = (
            p.ns("first").unwrap_or_default(),
            p.ns("load").unwrap_or_default(),
            p.ns("again").unwrap_or_default(),
            p.ns("second_manager_first").unwrap_or_default(),
        );
        first.push(f);
        load.push(l);
        again.push(a);
        init.push(s.saturating_sub(a));
        overhead.push(f.saturating_sub(a));
    }
    rep.add(
        "first use",
        "library open + ABI check (`Dsm::load_time`)",
        secs(&load),
        Unit::Secs,
    );
    rep.add(
        "first use",
        "provider init (2nd manager's first fetch - a warm fetch)",
        secs(&init),
        Unit::Secs,
    );
    rep.target(
        "first use",
        "first-use overhead: first fetch - same fetch again (open + ABI check + init + connect)",
        secs(&overhead),
        Unit::Secs,
        "<= 10 ms",
        |m| m <= 0.010,
    );
    rep.add(
        "first use",
        "first fetch, 1 h of 1m (60 candles, 1 request)",
        secs(&first),
        Unit::Secs,
    );
    rep.add(
        "first use",
        "the same request again (plugin loaded)",
        secs(&again),
        Unit::Secs,
    );
    Ok(())
}
