//! The `instant` command: installs and runs Centrifugo v6 for an `instant` app, writes and checks
//! its config, publishes events and mints tokens.
//!
//! ```text
//! instant installws            # download Centrifugo, write centrifugo/config.json, update instant.toml
//! instant runws                # run it until Ctrl-C
//! instant check                # settings, config, secrets and the running server, one line per problem
//! instant publish --channel news --message "Hello"
//! instant token --user 42 --channel '$users'
//! ```
//!
//! # Settings
//! The command reads the app's settings with `instant_core`'s own loader, as `Config::load` does:
//! `instant.toml` (or the file named by `--settings` / `INSTANT_CONFIG`), with `INSTANT_*`
//! environment variables over it; `instant check` lists every key with its value and source.
//! Besides the core's keys, `instant.toml` may declare the app's channels (`[[channels]]`, read
//! by the core as `ChannelSettings`), from which `genconfig` and `installws` derive Centrifugo's
//! channel options:
//!
//! ```toml
//! [[channels]]
//! name = "news"            # public: no `$`
//! paths = ["/news"]        # optional: request paths the channel connects on
//! history_size = 20        # optional: keep the last 20 publications (default 100; 0 = none)...
//! history_ttl = "10m"      # ...for 10 minutes (default 300s)
//! recover = true           # optional: reconnecting clients recover what they missed (default: on with history)
//!
//! [[channels]]
//! name = "$chat:staff"     # private channels start with `$`; `chat` is a Centrifugo namespace
//! level = "staff"          # public (default), users, staff or superuser
//! presence = false         # optional: who is subscribed (default on)
//! join_leave = false       # optional: join and leave events (default on)
//! ```
//!
//! Options an entry leaves out, and channels no entry describes, get the embedded server's
//! defaults, `instant_core::ChannelOptions::default()`.
//!
//! # Exit codes
//! `0` success; `1` an operation failed; `2` bad arguments; `3` invalid or inconsistent settings
//! or config (and the problems `check` finds); `4` a host or server could not be reached;
//! `5` a download failed verification; `130` interrupted. `runws` exits with Centrifugo's own
//! exit code.
//!
//! # HTTP client
//! Downloads and probes use `ureq`: a small blocking client with rustls, which suits a
//! command-line tool that does one request at a time and streams a download through a hasher
//! and a progress bar, without starting an async runtime. Publishing goes through
//! `instant_core::CentrifugoClient`, the client the apps use, so `instant publish` exercises the
//! same code path.

mod centrifugo_config;
mod cli;
mod commands;
mod error;
mod http;
mod install;
mod interrupt;
mod output;
mod runws;
mod settings;
mod standalone;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.quiet, cli.verbose);
    let result = match &cli.command {
        Command::Installws(args) => {
            interrupt::catch();
            commands::installws(&cli, args, &out).map(|()| ExitCode::SUCCESS)
        }
        Command::Runws(args) => runws::runws(args, &out),
        Command::Genconfig(args) => {
            commands::genconfig(&cli, args, &out).map(|()| ExitCode::SUCCESS)
        }
        Command::Check(args) => commands::check(&cli, args, &out).map(|()| ExitCode::SUCCESS),
        Command::Publish(args) => commands::publish(&cli, args, &out).map(|()| ExitCode::SUCCESS),
        Command::Token(args) => commands::token(&cli, args).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|err| {
        out.error(err.line());
        err.exit()
    })
}
