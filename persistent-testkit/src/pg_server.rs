//! `PgServer`: a throwaway PostgreSQL cluster for tests (feature `postgres-server`).
//!
//! `initdb` and `pg_ctl` (found on `PATH`, through `pg_config --bindir`, or in
//! `/usr/lib/postgresql/*/bin`) build a cluster in a temporary directory, listening on a
//! free loopback port (and a Unix socket in that directory), with `ssl=on` and a server
//! certificate signed by a CA generated at start (`rcgen`), and password (scram) login for
//! the superuser `postgres` and the non-superuser role `app`, which owns each database made by
//! [`PgServer::fresh_database`]. When the tests run as root (initdb refuses root), the
//! server's programs run as the `postgres` user through `runuser`.
//!
//! [`PgServer::shared`] starts one cluster per test binary, stopped (`pg_ctl stop -m fast`)
//! and removed by a watchdog process when the binary exits; or, when
//! `PERSISTENT_TEST_PG_URL` is set (a URL of a role that may create databases), uses that
//! server. When neither works the tests print a loud SKIP and pass, except under
//! `PERSISTENT_REQUIRE_PG=1`, where they fail. What lives elsewhere: the storage itself
//! (`persistent-postgres`); this module only runs programs and writes files.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use crate::TempDir;

/// The environment variable naming an existing server to use instead of starting one.
pub const PG_URL_ENV: &str = "PERSISTENT_TEST_PG_URL";
/// The environment variable that turns a missing PostgreSQL into a test failure.
pub const REQUIRE_PG_ENV: &str = "PERSISTENT_REQUIRE_PG";

/// The password of the role `app` (and of the superuser) in a cluster this module starts.
pub const APP_PASSWORD: &str = "app-secret-Pw1";
const ADMIN_PASSWORD: &str = "admin-secret-Pw2";

/// A PostgreSQL server for tests (see the module docs).
pub struct PgServer {
    /// The cluster's directory (`None` for an external server).
    dir: Option<TempDir>,
    bindir: PathBuf,
    host: String,
    port: u16,
    /// The user the server's programs run as, when the tests run as root.
    run_as: Option<String>,
    /// `postgres://...` of a role that may create databases, without a database name.
    admin_base: String,
    /// The role and password of the databases `fresh_database` makes.
    app_user: String,
    app_password: String,
    ca_file: Option<PathBuf>,
    next: AtomicU32,
    /// Whether dropping the value stops the server (not for the shared one, or external).
    stop_on_drop: bool,
}

impl PgServer {
    /// The server shared by the tests of this binary: started on first use (or the
    /// external one of `PERSISTENT_TEST_PG_URL`). `None` after printing a SKIP line when no
    /// server can be had.
    ///
    /// # Panics
    /// When no server can be had and `PERSISTENT_REQUIRE_PG=1`.
    pub fn shared(test: &str) -> Option<&'static PgServer> {
        static SHARED: OnceLock<Result<PgServer, String>> = OnceLock::new();
        let server = SHARED.get_or_init(|| {
            if let Ok(url) = std::env::var(PG_URL_ENV) {
                return Ok(PgServer::external(&url));
            }
            PgServer::start().map(|mut server| {
                server.stop_on_drop = false;
                server.watch_parent();
                server
            })
        });
        match server {
            Ok(server) => Some(server),
            Err(why) => {
                skip_or_fail(test, why);
                None
            }
        }
    }

    /// A server of its own, stopped and removed on drop.
    ///
    /// # Errors
    /// Why it could not start (no PostgreSQL programs, `initdb` or `pg_ctl` failed).
    pub fn start() -> Result<PgServer, String> {
        let bindir = find_bindir()
            .ok_or("no initdb found (PATH, pg_config --bindir, /usr/lib/postgresql/*/bin)")?;
        let dir = TempDir::new("pg");
        let run_as = if running_as_root() { Some("postgres".to_owned()) } else { None };
        let port = free_port()?;
        let server = PgServer {
            bindir,
            host: "127.0.0.1".to_owned(),
            port,
            admin_base: format!("postgres://postgres:{ADMIN_PASSWORD}@127.0.0.1:{port}"),
            app_user: "app".to_owned(),
            app_password: APP_PASSWORD.to_owned(),
            ca_file: Some(dir.join("ca.crt")),
            run_as,
            dir: Some(dir),
            next: AtomicU32::new(0),
            stop_on_drop: true,
        };
        server.init()?;
        Ok(server)
    }

    fn external(url: &str) -> PgServer {
        let base = url.rsplit_once('/').map_or(url, |(base, _)| base).to_owned();
        PgServer {
            dir: None,
            bindir: find_bindir().unwrap_or_default(),
            host: String::new(),
            port: 0,
            run_as: None,
            app_user: String::new(),
            app_password: String::new(),
            admin_base: base,
            ca_file: None,
            next: AtomicU32::new(0),
            stop_on_drop: false,
        }
    }

    fn dir(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new("/nonexistent"), TempDir::path)
    }

    fn data(&self) -> PathBuf {
        self.dir().join("data")
    }

    /// A command running `program` of the server's bin directory, as the server's user.
    fn server_command(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }

    fn init(&self) -> Result<(), String> {
        let dir = self.dir();
        write_certificates(dir)?;
        std::fs::write(dir.join("pwfile"), ADMIN_PASSWORD).map_err(|e| e.to_string())?;
        if let Some(user) = &self.run_as {
            hand_over(dir, user)?;
        }
        run(self.server_command("initdb").args([
            "-D",
            &self.data().to_string_lossy(),
            "-U",
            "postgres",
            "--pwfile",
            &dir.join("pwfile").to_string_lossy(),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]))?;
        let conf = format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{dir}'\n\
             ssl = on\nssl_cert_file = '{dir}/server.crt'\nssl_key_file = '{dir}/server.key'\n\
             max_connections = 200\nshared_buffers = 64MB\nfsync = on\nsynchronous_commit = on\n\
             log_min_messages = warning\n",
            port = self.port,
            dir = dir.display()
        );
        let conf_path = self.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).map_err(|e| e.to_string())?;
        text.push_str(&conf);
        std::fs::write(&conf_path, text).map_err(|e| e.to_string())?;
        self.pg_ctl(&["start", "-w", "-t", "60", "-l", &dir.join("log").to_string_lossy()])?;
        self.admin_sql(
            "postgres",
            &format!("CREATE ROLE app LOGIN PASSWORD '{}'", self.app_password),
        )?;
        Ok(())
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        run(self.server_command("pg_ctl").arg("-D").arg(self.data()).args(args))
    }

    /// Starts a watchdog process that stops the server and removes its directory once this
    /// process has exited (statics are never dropped).
    fn watch_parent(&self) {
        let stop = format!(
            "{} {} -D '{}' stop -m fast",
            self.run_as.as_ref().map_or(String::new(), |u| format!("runuser -u {u} --")),
            self.bindir.join("pg_ctl").display(),
            self.data().display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.3; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir().display()
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    /// Runs `sql` as the superuser in database `db` through `psql`; its output.
    ///
    /// # Errors
    /// psql's error output.
    pub fn admin_sql(&self, db: &str, sql: &str) -> Result<String, String> {
        let url = format!("{}/{db}?sslmode=disable", self.admin_base);
        let psql = Some(self.bindir.join("psql"))
            .filter(|path| path.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"));
        let output = Command::new(psql)
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", &url, "-c", sql])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// A new empty database owned by the role `app`; its name.
    ///
    /// # Panics
    /// If the database cannot be created.
    pub fn fresh_database_name(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{}_{n}", std::process::id());
        let owner = if self.app_user.is_empty() {
            String::new()
        } else {
            format!(" OWNER {}", self.app_user)
        };
        self.admin_sql("postgres", &format!("CREATE DATABASE {name}{owner}"))
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        name
    }

    /// The URL of a new empty database owned by `app`, without TLS.
    #[must_use]
    pub fn fresh_database(&self) -> String {
        let name = self.fresh_database_name();
        self.url(&name, "sslmode=disable")
    }

    /// The URL of database `db` as `app`, with the query `query` (e.g. `sslmode=require`).
    #[must_use]
    pub fn url(&self, db: &str, query: &str) -> String {
        if self.app_user.is_empty() {
            // External server: its own role, whatever its URL says.
            return format!("{}/{db}?{query}", self.admin_base);
        }
        self.url_as(&self.app_user, &self.app_password, db, query)
    }

    /// The URL of database `db` as `user` with `password`.
    #[must_use]
    pub fn url_as(&self, user: &str, password: &str, db: &str, query: &str) -> String {
        format!("postgres://{user}:{password}@{}:{}/{db}?{query}", self.host, self.port)
    }

    /// The CA certificate (PEM) that signed the server's certificate (for `localhost` and
    /// `127.0.0.1`), when this module started the server.
    #[must_use]
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// The loopback port the server listens on (0 for an external server).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's bin directory (for `pgbench`).
    #[must_use]
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// Whether this module started the server (so it may be restarted or reconfigured).
    #[must_use]
    pub fn is_own(&self) -> bool {
        self.dir.is_some()
    }

    /// `pg_ctl restart -m immediate`: the server crashes on purpose and comes back.
    ///
    /// # Errors
    /// `pg_ctl`'s output when it fails.
    pub fn restart_immediate(&self) -> Result<(), String> {
        let log = self.dir().join("log");
        self.pg_ctl(&["restart", "-m", "immediate", "-w", "-t", "60", "-l", &log.to_string_lossy()])
    }

    /// Waits until the server accepts connections again (up to `timeout`).
    #[must_use]
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if self.admin_sql("postgres", "SELECT 1").is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.stop_on_drop {
            let _ = self.pg_ctl(&["stop", "-m", "fast"]);
        }
    }
}

/// Prints the SKIP line, or panics under `PERSISTENT_REQUIRE_PG=1`.
fn skip_or_fail(test: &str, why: &str) {
    assert!(
        !std::env::var(REQUIRE_PG_ENV).is_ok_and(|v| v == "1"),
        "{test}: PostgreSQL is required ({REQUIRE_PG_ENV}=1) but unavailable: {why}"
    );
    eprintln!(
        "\n*** SKIP {test}: no PostgreSQL server ({why}); set {PG_URL_ENV} or install \
         PostgreSQL (initdb, pg_ctl) to run it ***\n"
    );
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.stdin(Stdio::null()).output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The directory holding `initdb` and `pg_ctl`.
fn find_bindir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    let from_pg_config = || {
        let output = Command::new("pg_config").arg("--bindir").output().ok()?;
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        dir.join("initdb").is_file().then_some(dir)
    };
    let debian = || {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .filter(|dir| dir.join("initdb").is_file())
            .collect();
        dirs.sort();
        dirs.pop()
    };
    // `/usr/local/bin/initdb` may be a link into the real bin directory, which also holds
    // `psql` and `pgbench`.
    on_path.or_else(from_pg_config).or_else(debian).map(|dir| {
        std::fs::canonicalize(dir.join("initdb"))
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or(dir)
    })
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Gives `dir` and its files to `user` (the server runs as that user).
fn hand_over(dir: &Path, user: &str) -> Result<(), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let output = Command::new("id").args([flag, user]).output().map_err(|e| e.to_string())?;
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| format!("no user {user} to run PostgreSQL as (tests run as root)"))
    };
    let (uid, gid) = (id("-u")?, id("-g")?);
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        std::os::unix::fs::chown(&path, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Writes `ca.crt`, `server.crt` and `server.key` (mode 0600) into `dir`.
fn write_certificates(dir: &Path) -> Result<(), String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let err = |e: rcgen::Error| e.to_string();
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "persistent test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate().map_err(err)?;
    let mut server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(err)?;
    server.distinguished_name.push(DnType::CommonName, "localhost");
    let server_cert = server.signed_by(&server_key, &issuer).map_err(err)?;
    let write = |name: &str, text: &str, mode: u32| -> Result<(), String> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(dir.join(name))
            .map_err(|e| e.to_string())?;
        file.write_all(text.as_bytes()).map_err(|e| e.to_string())
    };
    write("ca.crt", &ca_cert.pem(), 0o644)?;
    write("server.crt", &server_cert.pem(), 0o644)?;
    write("server.key", &server_key.serialize_pem(), 0o600)
}
