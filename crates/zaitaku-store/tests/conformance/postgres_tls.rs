//! TLS to PostgreSQL (issue 17): against a cluster of its own that accepts TLS
//! connections only (`hostssl` alone in `pg_hba.conf`), with a throw-away CA and
//! server certificate: `sslmode=require` connects, `verify-full` with
//! `sslrootcert` connects, a plaintext attempt is refused by the server, and a
//! certificate from another CA is refused by us. The cluster is Debian's
//! `initdb`/`pg_ctl` on a free port in a temporary directory, stopped by its
//! PID when the test ends, also on a panic. Skipped (loudly) without `initdb`.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use zaitaku_store::PostgresStore;

/// `/usr/lib/postgresql/<version>/bin`, the newest there is.
fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    run(Command::new("id").arg("-u"))
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn run(command: &mut Command) -> Result<Output, String> {
    let out = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A command run as the cluster's owner: `postgres` when the tests run as root
/// (initdb refuses root), else the current user.
fn as_owner(program: &Path, root: bool) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA and a server certificate for localhost and 127.0.0.1 signed by it.
fn certificates(dir: &Path, ca_name: &str) -> Result<(), String> {
    let openssl = |args: &[&str]| run(Command::new("openssl").current_dir(dir).args(args));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        &format!("/CN={ca_name}"),
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ])?;
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ])?;
    fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    ])?;
    Ok(())
}

/// The running cluster; stopped by its PID when dropped.
struct Cluster {
    _dir: tempfile::TempDir,
    data: PathBuf,
    pid: Option<u32>,
    port: u16,
    certs: PathBuf,
}

impl Cluster {
    fn start(bin: &Path) -> Result<Cluster, String> {
        let root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("zaitaku-pg-tls")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        let certs = dir.path().join("certs");
        fs::create_dir(&certs).map_err(|e| e.to_string())?;
        certificates(&certs, "Zaitaku test CA")?;
        if root {
            // The cluster's owner must own its directory, keys included.
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()))?;
        }
        run(as_owner(&bin.join("initdb"), root)
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]))?;
        let port = free_port();
        let key = certs.join("server.key");
        let crt = certs.join("server.crt");
        let mut conf =
            fs::read_to_string(data.join("postgresql.conf")).map_err(|e| e.to_string())?;
        conf.push_str(&format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nfsync = off\n",
            dir.path().display(),
            crt.display(),
            key.display()
        ));
        fs::write(data.join("postgresql.conf"), conf).map_err(|e| e.to_string())?;
        // TLS connections only: no `host`, no `local` line.
        fs::write(
            data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\n",
        )
        .map_err(|e| e.to_string())?;
        if root {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()))?;
        }
        let mut cluster = Cluster {
            _dir: dir,
            data: data.clone(),
            pid: None,
            port,
            certs,
        };
        run(as_owner(&bin.join("pg_ctl"), root)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(data.join("server.log"))
            .args(["-w", "-t", "30", "start"]))
        .map_err(|e| format!("{e}\n{}", cluster.log()))?;
        let pid = fs::read_to_string(data.join("postmaster.pid"))
            .map_err(|e| e.to_string())?
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or("no PID in postmaster.pid")?;
        cluster.pid = Some(pid);
        Ok(cluster)
    }

    fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{query}", self.port)
    }

    fn log(&self) -> String {
        fs::read_to_string(self.data.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let Some(pid) = self.pid else { return };
        // SIGINT: PostgreSQL's fast shutdown.
        let _ = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_only_cluster_takes_tls_and_refuses_plaintext() {
    let Some(bin) = postgres_bin() else {
        eprintln!(
            "SKIPPED a_tls_only_cluster_takes_tls_and_refuses_plaintext: no initdb/pg_ctl \
             under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
        );
        return;
    };
    let cluster = Cluster::start(&bin).unwrap_or_else(|e| panic!("starting the cluster: {e}"));

    // sslmode=require: encrypted, the certificate not checked.
    let store = PostgresStore::connect(&cluster.url("127.0.0.1", "sslmode=require"))
        .await
        .unwrap_or_else(|e| panic!("require: {e}\n{}", cluster.log()));
    store.close().await;

    // verify-full with our CA as sslrootcert: the certificate and name checked.
    let ca = cluster.certs.join("ca.crt");
    let verified = cluster.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    );
    let store = PostgresStore::connect(&verified)
        .await
        .unwrap_or_else(|e| panic!("verify-full: {e}\n{}", cluster.log()));
    store.close().await;

    // Plaintext: the server has no line for it.
    let refused = PostgresStore::connect(&cluster.url("127.0.0.1", "sslmode=disable"))
        .await
        .err()
        .expect("a plaintext connection is refused")
        .to_string();
    assert!(
        refused.contains("no encryption") || refused.contains("pg_hba.conf"),
        "{refused}"
    );

    // Another CA: verify-ca refuses the server's certificate.
    let other = cluster.certs.join("other");
    fs::create_dir(&other).unwrap();
    certificates(&other, "Some other CA").unwrap();
    let wrong_ca = cluster.url(
        "127.0.0.1",
        &format!(
            "sslmode=verify-ca&sslrootcert={}",
            other.join("ca.crt").display()
        ),
    );
    assert!(
        PostgresStore::connect(&wrong_ca).await.is_err(),
        "a certificate from an unknown CA is refused"
    );
    drop(cluster);
}

#[tokio::test]
async fn a_remote_database_without_tls_is_refused_before_connecting() {
    // Nothing listens there: the refusal comes first, with how to allow it.
    let refused = PostgresStore::connect("postgres://zaitaku@db.invalid:5432/zaitaku")
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(refused.contains("without TLS"), "{refused}");
    assert!(refused.contains("sslmode=require"), "{refused}");
    assert!(
        refused.contains(zaitaku_store::postgres::ALLOW_PLAINTEXT_VAR),
        "{refused}"
    );
}
