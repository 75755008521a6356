//! The `nsgsim` binary: everything lives in the library; this only hands over to `cli`.

fn main() -> std::process::ExitCode {
    nsgsim::cli::main()
}
