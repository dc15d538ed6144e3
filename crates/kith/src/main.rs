//! The `kith` binary: the server and its command-line tools.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kith::cli::main().await
}
