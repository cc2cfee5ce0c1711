//! Runs one fuzz target on one input file (to reproduce a crash with a backtrace).
//!
//! `cargo run -p goroscope-fuzz --example repro -- TARGET FILE`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(name), Some(file)) = (args.first(), args.get(1)) else {
        eprintln!("usage: repro TARGET FILE");
        std::process::exit(2);
    };
    let data = std::fs::read(file).expect("read input");
    let t = goroscope_fuzz::TARGETS
        .iter()
        .find(|t| t.name == name)
        .expect("known target");
    (t.run)(&data);
    println!("no panic");
}
