//! `persistent`: inspect, verify, pack and copy a persistent database from the command
//! line. Human output by default, JSON with `--json`; progress bars on standard error only
//! when it is a terminal and the output is not JSON. Exit codes: 0 fine, 1 `verify` found
//! problems, 2 a usage or storage error. What lives here: the arguments and the dispatch;
//! each command is a file of `commands/`.

mod commands;
mod progress;
mod registry;
mod scan;
mod url;
mod value;
mod when;

use std::fmt;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use persistent::{Oid, Tid};

/// Inspect, verify, pack and copy a persistent database. Every command but `pack` and
/// `copy` (its target) only reads.
#[derive(Parser)]
#[command(name = "persistent", version, about)]
struct Cli {
    /// Print JSON instead of human-readable text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The storage's name, size, object and transaction counts, tid range and record formats.
    Info {
        /// The storage: `sqlite:PATH` or a bare path.
        url: String,
    },
    /// The transactions, newest first.
    Log {
        /// The storage: `sqlite:PATH` or a bare path.
        url: String,
        /// Show at most this many transactions.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// The revisions of one object, newest first.
    History {
        /// The storage: `sqlite:PATH` or a bare path.
        url: String,
        /// The object's oid (decimal, or 0x-hex).
        #[arg(value_parser = parse_oid)]
        oid: Oid,
        /// Show at most this many revisions.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One object's current record: type, serial, format, schema, references, and the state
    /// as field names and values when its schema is known (else hex).
    Show {
        /// The storage: `sqlite:PATH` or a bare path.
        url: String,
        /// The object's oid (decimal, or 0x-hex).
        #[arg(value_parser = parse_oid)]
        oid: Oid,
        /// Instead of the record, list the objects whose current record references OID.
        #[arg(long)]
        referrers: bool,
    },
    /// Checks every record's checksum, that every reference resolves, that every object is
    /// reachable from the roots, and SQLite's integrity check. Exits 1 on any finding.
    ///
    /// Memory: the set of reachable oids is held in memory (a hash set, about 16-32 bytes
    /// per object), as is the current traversal frontier.
    Verify {
        /// The storage: `sqlite:PATH` or a bare path.
        url: String,
    },
    /// Objects and bytes by type, the largest records, revisions per object, and the bytes
    /// a pack at the newest tid would free (computed without writing).
    ///
    /// Memory: as `verify` (the set of reachable oids).
    Stats {
        /// The storage: `sqlite:PATH` or a bare path.
        url: String,
    },
    /// Removes history older than --before and the objects unreachable from the roots
    /// (writes to the storage; runs while other programs use it).
    Pack {
        /// The storage: `sqlite:PATH` or a bare path.
        url: String,
        /// Keep what a snapshot at this point can see: a tid (0x-hex or decimal), an RFC 3339
        /// time (2024-05-01T12:00:00Z) or an age ("3 days", "12 hours", "30 minutes").
        #[arg(long, value_parser = parse_before)]
        before: Tid,
    },
    /// Reports, per stored type, the objects not in the type's newest registered schema:
    /// what the application's `Database::migrate::<T>()` would rewrite. Writes nothing.
    Migrate {
        /// The storage: `sqlite:PATH` or a bare path.
        url: String,
    },
    /// Copies every transaction of SRC into DST (created if absent) with its tid, user,
    /// description and revisions. Run it again to finish a copy that stopped.
    Copy {
        /// The source storage: `sqlite:PATH` or a bare path.
        source: String,
        /// The target storage, empty or holding a copy of SRC's first transactions.
        target: String,
    },
}

/// Parses `pack --before` relative to now.
fn parse_before(text: &str) -> Result<Tid, String> {
    when::parse_before(text, std::time::SystemTime::now())
}

/// Parses an oid given as a decimal number or `0x` hex.
fn parse_oid(text: &str) -> Result<Oid, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    };
    parsed.map(Oid).map_err(|e| format!("{text:?} is not an oid (decimal or 0x-hex): {e}"))
}

/// An error that ends the program with exit code 2.
#[derive(Debug)]
pub struct CliError {
    message: String,
}

impl CliError {
    /// A usage error (bad URL, missing file).
    #[must_use]
    pub fn usage(message: String) -> CliError {
        CliError { message }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<persistent::Error> for CliError {
    fn from(error: persistent::Error) -> Self {
        CliError { message: error.to_string() }
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        CliError { message: error.to_string() }
    }
}

/// Prints a JSON value, pretty.
pub fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let outcome = match cli.command {
        Command::Info { url } => commands::info::run(&url, json),
        Command::Log { url, limit } => commands::log::run(&url, limit, json),
        Command::History { url, oid, limit } => commands::history::run(&url, oid, limit, json),
        Command::Show { url, oid, referrers: false } => commands::show::run(&url, oid, json),
        Command::Show { url, oid, referrers: true } => commands::referrers::run(&url, oid, json),
        Command::Verify { url } => commands::verify::run(&url, json),
        Command::Stats { url } => commands::stats::run(&url, json),
        Command::Pack { url, before } => commands::pack::run(&url, before, json),
        Command::Migrate { url } => commands::migrate::run(&url, json),
        Command::Copy { source, target } => commands::copy::run(&source, &target, json),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("persistent: error: {error}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_oid, Cli};
    use clap::CommandFactory;
    use persistent::Oid;

    #[test]
    fn oids_parse() {
        assert_eq!(parse_oid("12"), Ok(Oid(12)));
        assert_eq!(parse_oid("0x1f"), Ok(Oid(31)));
        assert!(parse_oid("x").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
