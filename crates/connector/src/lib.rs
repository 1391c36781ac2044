//! The carbonmesh connector contract.
//!
//! A connector knows one registry: how to fetch its records page by page over HTTP, how to
//! split a file downloaded by hand into records, and how to normalize one raw record into the
//! common model. Fetching and reading are the I/O edges; [`Connector::normalize`] is a pure
//! function, tested on real registry samples.
#![deny(missing_docs)]

mod connector;
mod csv_page;
mod fields;
pub mod greentrace;
pub mod http;
mod raw;
mod registration;
pub mod testkit;

pub use connector::{Changed, Connector, FetchError, FileError, Page, each_page};
pub use csv_page::{Completeness, CsvPager, csv_page};
pub use fields::{Country, Field, from_saved_json, looks_like_json};
pub use http::{HttpClient, HttpPolicy, Request, Response};
pub use raw::{Feed, RawBody, RawRecord, Record, Rejection, UnknownFeed};
pub use registration::{Descriptor, Setup};
