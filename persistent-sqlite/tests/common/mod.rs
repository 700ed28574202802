//! Helpers shared by the integration tests of persistent-sqlite (the temporary directory
//! comes from persistent-testkit): spawning this test binary again as a child process that
//! runs one named test.

#![allow(clippy::cast_possible_truncation, reason = "test code: small test values")]
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A child process killed (SIGKILL) and reaped when dropped, so a failing parent never
/// leaves it running.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs this test binary again, executing only the test `test_name`, with `envs` set and
/// stdout piped to the caller.
pub fn spawn_self(test_name: &str, envs: &[(&str, &str)]) -> ChildGuard {
    let exe = std::env::current_exe().expect("current_exe");
    let mut command = Command::new(exe);
    command
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in envs {
        command.env(key, value);
    }
    ChildGuard(command.spawn().expect("spawn child test process"))
}

/// Runs the test `test_name` as a child (`spawn_self` with `envs`), waits until it prints
/// the line `READY`, lets it run 1 to 150 ms more (drawn from `rng`), kills it (SIGKILL)
/// and returns every line it printed after `READY`.
pub fn kill_after_ready(test_name: &str, envs: &[(&str, &str)], rng: &mut XorShift) -> Vec<String> {
    let mut child = spawn_self(test_name, envs);
    let stdout = child.0.stdout.take().expect("the child's stdout is piped");
    let (lines_tx, lines_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        let line = lines_rx.recv_timeout(Duration::from_secs(20)).expect("child never got ready");
        if line == "READY" {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(rng.between(1, 150)));
    child.0.kill().expect("SIGKILL the child");
    child.0.wait().expect("reap the child");
    reader.join().expect("the reader thread");
    lines_rx.try_iter().collect()
}

/// A xorshift64 generator (no rand crate), seeded from the clock.
pub struct XorShift(u64);

impl XorShift {
    /// Seeded from the current time (never zero).
    pub fn from_time() -> XorShift {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
                as u64;
        XorShift(nanos | 1)
    }

    /// The next pseudo-random number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `low..high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

/// The round count of a soak test: `PERSISTENT_TESTS_SOAK_ROUNDS` if set, else `default`.
pub fn soak_rounds(default: usize) -> usize {
    const ENV: &str = "PERSISTENT_TESTS_SOAK_ROUNDS";
    match std::env::var(ENV) {
        Ok(text) => text.parse().unwrap_or_else(|_| panic!("{ENV}={text}: a count")),
        Err(_) => default,
    }
}
