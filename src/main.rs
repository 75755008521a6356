//! The `nsgsim` binary: everything lives in the library; this only hands over to `cli`.

fn main() -> std::process::ExitCode {
    // `nsgsim … | head` closes stdout early; `println!` then panics with a broken pipe. That is
    // not an error of ours: leave quietly, like other command-line tools.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    nsgsim::cli::main()
}
