//! `securechat`: the server binary. All logic lives in the library crate.

fn main() -> std::process::ExitCode {
    securechat_server::cli::run()
}
