//! `carbonmesh webhook …`: needs no runtime and no database.

use std::io;
use std::process::ExitCode;

use anyhow::Context;

use carbonmesh_server::cli::WebhookCommand;
use carbonmesh_server::webhooks;

/// Prints the Standard Webhooks headers that sign a file's body (`-` reads standard input).
pub fn run(command: WebhookCommand) -> anyhow::Result<ExitCode> {
    let WebhookCommand::Sign {
        secret,
        id,
        timestamp,
        file,
    } = command;
    let body = if file == "-" {
        let mut body = Vec::new();
        io::Read::read_to_end(&mut io::stdin(), &mut body)
            .context("cannot read the body from standard input")?;
        body
    } else {
        std::fs::read(&file).with_context(|| format!("cannot read {file}"))?
    };
    webhooks::sign(&secret, id, timestamp, &body, &mut io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}
