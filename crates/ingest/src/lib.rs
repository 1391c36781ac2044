//! The data path from a connector to the store.
//!
//! A sync run fetches every feed of a connector page by page, normalizes each raw record, and
//! upserts the results; a file import does the same from files downloaded by hand. Both keep
//! every rejected record with its reason and record a connector run. The scheduler polls each
//! connector on its cron schedule, once per tick across every instance sharing the database.

mod apply;
mod import;
mod schedule;
mod sync;

pub use apply::{Applied, apply_records};
pub use import::{ImportError, import_file};
pub use schedule::{Schedule, ScheduleError, run_schedule};
pub use sync::{SyncOutcome, sync};
