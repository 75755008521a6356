//! Flow-log replay throughput (temporary: the generator's entry point only).

mod flowlog_gen;

fn main() {
    if let Ok(path) = std::env::var("NSGSIM_WRITE_FLOWLOG") {
        let tuples: usize =
            std::env::var("NSGSIM_FLOWLOG_TUPLES").ok().and_then(|t| t.parse().ok()).unwrap_or(1_000_000);
        let file = std::fs::File::create(&path).expect("the flow-log file is writable");
        let mut out = std::io::BufWriter::new(file);
        flowlog_gen::write_nsg_v2(&mut out, tuples, 20).expect("the flow log is written");
        std::io::Write::flush(&mut out).expect("the flow log is written");
    }
}
