//! Child processes for multi-process tests: the running test binary starts itself again to
//! run one named test (which reads its instructions from the environment), and the child is
//! SIGKILLed and reaped if the parent drops it, so a failing parent leaves nothing behind.
//! Also `Rng`, a small xorshift generator for random kill delays, `wait_for_line` and
//! `soak_rounds` (the round count of a soak test, which the environment may override).

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The environment variable that overrides the round count of the `#[ignore]` soak tests.
pub const SOAK_ROUNDS_ENV: &str = "PERSISTENT_TESTS_SOAK_ROUNDS";

/// A running child process; killed and waited for on drop.
pub struct KillOnDrop(pub Child);

impl KillOnDrop {
    /// Starts this test binary running only `test` (exact name), with `env` set, stdout piped.
    #[must_use]
    pub fn run_test(test: &str, env: &[(&str, &str)]) -> KillOnDrop {
        let binary = std::env::current_exe().expect("the test binary's path");
        let mut command = Command::new(binary);
        command
            .arg(test)
            .args(["--exact", "--nocapture", "--test-threads=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .envs(env.iter().copied());
        KillOnDrop(command.spawn().expect("start the child test process"))
    }

    /// The child's stdout lines, read by a thread, arriving on a channel (closed at EOF).
    pub fn lines(&mut self) -> (Receiver<String>, JoinHandle<()>) {
        let stdout: ChildStdout = self.0.stdout.take().expect("stdout is piped once");
        let (sender, receiver) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        (receiver, reader)
    }

    /// Kills the child (SIGKILL) and waits for it to end.
    pub fn kill(&mut self) {
        self.0.kill().expect("SIGKILL the child");
        self.0.wait().expect("reap the child");
    }
}

/// Receives lines until one starting with `prefix` arrives, keeping every line received in
/// `seen`; `false` if none arrives within `timeout` (or the channel closes first).
pub fn wait_for_line(
    lines: &Receiver<String>,
    prefix: &str,
    timeout: Duration,
    seen: &mut Vec<String>,
) -> bool {
    let deadline = Instant::now() + timeout;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = lines.recv_timeout(left) else {
            return false;
        };
        let found = line.starts_with(prefix);
        seen.push(line);
        if found {
            return true;
        }
    }
    false
}

/// The round count of a soak test: `PERSISTENT_TESTS_SOAK_ROUNDS` if set, else `default`.
pub fn soak_rounds(default: usize) -> usize {
    match std::env::var(SOAK_ROUNDS_ENV) {
        Ok(text) => text.parse().unwrap_or_else(|_| panic!("{SOAK_ROUNDS_ENV}={text}: a count")),
        Err(_) => default,
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Xorshift64: enough randomness for kill timings, seeded from the clock.
pub struct Rng(u64);

impl Rng {
    /// Seeded from the current time; the seed is printed so a failure can be replayed.
    #[must_use]
    pub fn from_clock() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos() as u64;
        eprintln!("rng seed {nanos:#x}");
        Rng::seeded(nanos)
    }

    /// Seeded with `seed` (zero is replaced, xorshift would stay at zero).
    #[must_use]
    pub fn seeded(seed: u64) -> Rng {
        Rng(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `low..high` (`high > low`).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low)
    }
}
