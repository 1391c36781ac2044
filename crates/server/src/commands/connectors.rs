//! `carbonmesh connectors`: every registry this build and configuration read, with its feeds,
//! its schedule and whether `serve` polls it.

use std::process::ExitCode;

use carbonmesh_server::connectors::{self, Catalog};

/// One line of the listing.
struct Line {
    registry: String,
    name: String,
    feeds: String,
    schedule: String,
    polled: String,
}

/// Prints one line per registry: the built-in connectors of this build, then the registries
/// of `[generic.<id>]` descriptions.
pub fn run(catalog: &Catalog) -> anyhow::Result<ExitCode> {
    let configured = catalog.configured();
    let mut lines = Vec::new();
    for descriptor in connectors::descriptors() {
        let registry = descriptor.registry;
        if catalog.is_generic(registry) {
            continue;
        }
        let settings = catalog.settings(registry);
        let mut own: Vec<String> = descriptor
            .settings
            .iter()
            .map(|key| match descriptor.secrets.contains(key) {
                true => format!("{key} (secret)"),
                false => (*key).to_owned(),
            })
            .collect();
        if descriptor.needs_base_url {
            own.insert(0, "base_url (required to poll)".to_owned());
        }
        let polled = match (configured.contains(&registry), settings.enabled) {
            (false, _) => format!("no: not in [connectors.{registry}]"),
            (true, false) => "no: enabled = false".to_owned(),
            (true, true) => "yes".to_owned(),
        };
        lines.push(Line {
            registry: registry.to_string(),
            name: match own.is_empty() {
                true => descriptor.name.to_owned(),
                false => format!("{} (settings: {})", descriptor.name, own.join(", ")),
            },
            feeds: feed_list(descriptor.feeds),
            schedule: settings.schedule_or(descriptor.default_schedule),
            polled,
        });
    }
    for registry in configured.into_iter().filter(|r| catalog.is_generic(*r)) {
        let connector = catalog.build(registry)?;
        let settings = catalog.settings(registry);
        lines.push(Line {
            registry: registry.to_string(),
            name: format!("described by {}", catalog.section(registry)),
            feeds: feed_list(connector.feeds()),
            schedule: settings.schedule_or(connector.default_schedule()),
            polled: match settings.enabled {
                true => "yes".to_owned(),
                false => "no: enabled = false".to_owned(),
            },
        });
    }
    print!("{}", table(&lines));
    Ok(ExitCode::SUCCESS)
}

fn feed_list(feeds: &[carbonmesh_connector::Feed]) -> String {
    feeds
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lines as aligned columns under a header; the name, the longest, comes last.
fn table(lines: &[Line]) -> String {
    let header = [
        "REGISTRY",
        "POLLED BY SERVE",
        "SCHEDULE (UTC)",
        "FEEDS",
        "NAME",
    ];
    let rows: Vec<[&str; 5]> = std::iter::once(header)
        .chain(lines.iter().map(|l| {
            [
                l.registry.as_str(),
                l.polled.as_str(),
                l.schedule.as_str(),
                l.feeds.as_str(),
                l.name.as_str(),
            ]
        }))
        .collect();
    let mut widths = [0usize; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(&format!("{cell:width$}  ", width = widths[i]));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
