//! Which process holds a connector run, and whether it is still there: a run whose process
//! was killed stays `running` until someone notices, and this is how they notice.

use chrono::{DateTime, Utc};

/// How long a run is known alive after its holder last said so. Polls renew it after every
/// page and imports every [`RUN_LEASE`] / 4.
pub const RUN_LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// This process, as a run's holder: `host:pid`.
pub fn this_process() -> String {
    format!("{}:{}", host(), std::process::id())
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Whether the process `pid` of this host is gone (a zombie, killed but not yet reaped, is
/// gone). Where `/proc` cannot tell, it is taken to be alive and the lease decides.
fn pid_gone(pid: u32) -> bool {
    if !std::path::Path::new("/proc/self").exists() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        Err(_) => true,
    }
}

/// Whether a run still `running` was abandoned: its holder is a process of this host that is
/// gone, or (held elsewhere, or by no one known) its lease ran out before `now`.
pub fn abandoned(
    holder: Option<&str>,
    lease_until: Option<DateTime<Utc>>,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
    this_host: &str,
    gone: impl Fn(u32) -> bool,
) -> bool {
    let local_pid = holder
        .and_then(|h| h.rsplit_once(':'))
        .filter(|(host, _)| *host == this_host)
        .and_then(|(_, pid)| pid.parse::<u32>().ok());
    match local_pid {
        Some(pid) => gone(pid),
        None => lease_until.unwrap_or(started_at + RUN_LEASE) < now,
    }
}

/// [`abandoned`] for this host, with `/proc` telling which processes are gone.
pub fn abandoned_here(
    holder: Option<&str>,
    lease_until: Option<DateTime<Utc>>,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    abandoned(holder, lease_until, started_at, now, &host(), pid_gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_run_is_abandoned_when_its_process_is_gone_whatever_its_lease() {
        let now = Utc::now();
        let lease = Some(now + chrono::Duration::minutes(3));
        assert!(abandoned(Some("box:42"), lease, now, now, "box", |_| true));
        assert!(!abandoned(Some("box:42"), lease, now, now, "box", |_| {
            false
        }));
        // Alive but silent (a long SQLite load cannot renew): still running.
        let lapsed = Some(now - chrono::Duration::hours(1));
        assert!(!abandoned(Some("box:42"), lapsed, now, now, "box", |_| {
            false
        }));
    }

    #[test]
    fn a_run_held_elsewhere_is_abandoned_when_its_lease_runs_out() {
        let now = Utc::now();
        let gone = |_| panic!("another host's processes are not looked at");
        let lease = Some(now + chrono::Duration::minutes(3));
        assert!(!abandoned(Some("other:42"), lease, now, now, "box", gone));
        let lapsed = Some(now - chrono::Duration::seconds(1));
        assert!(abandoned(Some("other:42"), lapsed, now, now, "box", gone));
        // Runs from before holders were recorded: their start plus one lease.
        let started = now - chrono::Duration::hours(1);
        assert!(abandoned(None, None, started, now, "box", gone));
        assert!(!abandoned(None, None, now, now, "box", gone));
    }

    #[test]
    fn this_process_is_alive() {
        let me = this_process();
        let started = Utc::now() - chrono::Duration::hours(1);
        assert!(!abandoned_here(Some(&me), None, started, Utc::now()));
    }
}
