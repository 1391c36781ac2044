//! A configuration that cannot work is refused with an error naming the key at fault.

use carbonmesh_connector::testkit::quick_http;
use carbonmesh_connector_generic::{ConfigError, GenericConfig, GenericConnector};

const BASE: &str = r#"
registry = "config-errors"
[feeds.retirements]
format = "csv"
transaction = { fixed = "retirement" }
[feeds.retirements.fields]
project_id = "Project"
quantity = "Quantity"
serial = "Serial"
"#;

fn error(toml: &str) -> String {
    match GenericConnector::from_toml("bad.toml", toml, quick_http()) {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e) => e.to_string(),
    }
}

fn with_key(key: &str) -> String {
    BASE.replace(
        "transaction = {",
        &format!("key = \"{key}\"\ntransaction = {{"),
    )
}

fn assert_mentions(text: &str, words: &[&str]) {
    for w in words {
        assert!(text.contains(w), "`{w}` missing from: {text}");
    }
}

#[test]
fn the_base_configuration_is_valid() {
    let config = GenericConfig::from_toml("base.toml", BASE).expect("parses");
    assert!(GenericConnector::new(&config, quick_http()).is_ok());
}

#[test]
fn unknown_and_misspelt_keys_are_named() {
    assert_mentions(
        &error(&format!("registy = \"x\"\n{BASE}")),
        &["registy", "bad.toml"],
    );
    let text = error(&BASE.replace("quantity = ", "quantiy = "));
    assert_mentions(&text, &["feeds.retirements.fields", "quantiy"]);
    let text = error(&BASE.replace("[feeds.retirements]", "[feeds.retirement]"));
    assert_mentions(&text, &["feeds", "retirement", "retirements"]);
    let text = error(&format!("{BASE}\n[source]\ntype = \"ftp\"\n"));
    assert_mentions(&text, &["source", "ftp"]);
    let text = error(&format!(
        "{BASE}\n[source]\ntype = \"http\"\nbase_url = \"http://x\"\npagination = {{ style = \"cursor\" }}\n"
    ));
    assert_mentions(&text, &["source", "cursor", "next-link"]);
}

#[test]
fn wrong_types_and_toml_syntax_are_named() {
    let text = error(&BASE.replace("quantity = \"Quantity\"", "quantity = 3"));
    assert_mentions(&text, &["feeds.retirements.fields.quantity", "column name"]);
    let text = error(&BASE.replace("format = \"csv\"", "format = \"xml\""));
    assert_mentions(&text, &["feeds.retirements.format", "xml"]);
    let text = error("registry = \"x\"\n[feeds\n");
    assert_mentions(&text, &["bad.toml"]);
    let text = error("[feeds]\n");
    assert_mentions(&text, &["registry"]);
}

#[test]
fn values_that_do_not_fit_together_are_named() {
    let with_path = BASE.replace("format = \"csv\"", "format = \"csv\"\npath = \"/r\"");
    let cases: Vec<(String, &[&str])> = vec![
        (
            BASE.replace("config-errors", "Config_Errors"),
            &["registry", "lowercase"],
        ),
        (
            BASE.replace("transaction = { fixed = \"retirement\" }\n", ""),
            &["feeds.retirements.transaction", "required"],
        ),
        (
            BASE.replace("\"retirement\" }", "\"retire\" }"),
            &[
                "feeds.retirements.transaction.fixed",
                "`retire`",
                "retirement",
            ],
        ),
        (
            BASE.replace(
                "fixed = \"retirement\" }",
                "fixed = \"retirement\", column = \"Kind\" }",
            ),
            &["feeds.retirements.transaction", "not both"],
        ),
        (
            BASE.replace("project_id = \"Project\"\n", ""),
            &["feeds.retirements.fields.project_id", "required"],
        ),
        (
            format!("{BASE}\n[serial]\nregex = '^(?P<ns>.+)-(?P<start>\\d+)-(?P<end>\\d+)$'\n"),
            &["serial.regex", "namespace"],
        ),
        (
            format!("{BASE}\n[serial]\nregex = '(unclosed'\n"),
            &["serial.regex", "not a valid regular expression"],
        ),
        (
            format!("{BASE}\n[serial]\nregex = '^(?P<namespace>.+)-(?P<start>\\d+)$'\n"),
            &["serial.regex", "`start` and `end`"],
        ),
        (
            format!("{BASE}\n[serial]\ngrammar = \"nope\"\n"),
            &["serial.grammar", "`nope`"],
        ),
        (
            with_key("{serial}:{colour}"),
            &["feeds.retirements.key", "{colour}"],
        ),
        (
            with_key("fixed"),
            &["feeds.retirements.key", "no placeholder"],
        ),
        (
            BASE.replace("serial = \"Serial\"\n", ""),
            &["feeds.retirements.key", "required when no serial"],
        ),
        (
            BASE.replace("format = \"csv\"", "format = \"csv\"\npath = \"/r\""),
            &["feeds.retirements.path", "HTTP source"],
        ),
        (
            format!("{BASE}\n[source]\ntype = \"http\"\nbase_url = \"http://x\"\n"),
            &["feeds.retirements.path", "required"],
        ),
        (
            format!(
                "{with_path}\n[source]\ntype = \"http\"\nbase_url = \"http://x\"\npagination = {{ style = \"next-link\", next = \"links.next\" }}\n"
            ),
            &["feeds.retirements", "next-link", "CSV"],
        ),
        (
            format!(
                "{with_path}\n[source]\ntype = \"http\"\nbase_url = \"http://x\"\npagination = {{ style = \"offset\", page_size = 0 }}\n"
            ),
            &["source.pagination.page_size", "at least 1"],
        ),
        (
            format!("{BASE}\n[source]\ntype = \"http\"\nbase_url = \"ftp://x\"\n"),
            &["source.base_url", "ftp://x"],
        ),
        (
            BASE.replacen(
                "registry = \"config-errors\"",
                "registry = \"config-errors\"\nschedule = \"0 3 * * *\"",
                1,
            ),
            &["schedule", "seconds first"],
        ),
        (
            // Six fields, but no 61st minute: the cron parser refuses it.
            BASE.replacen(
                "registry = \"config-errors\"",
                "registry = \"config-errors\"\nschedule = \"0 61 3 * * *\"",
                1,
            ),
            &["schedule", "0 61 3 * * *", "is not a schedule"],
        ),
        (
            format!("{BASE}\n[dates]\nformats = [\"%Q\"]\n"),
            &["dates.formats", "%Q"],
        ),
        (
            "registry = \"config-errors\"\n[feeds]\n".to_owned(),
            &["feeds", "no feed"],
        ),
        (
            format!(
                "{BASE}[[feeds.retirements.extra]]\nquantity = \"B\"\ntransaction = \"bufer\"\nkey_suffix = \"b\"\n"
            ),
            &["feeds.retirements.extra[0].transaction", "`bufer`"],
        ),
        (
            format!(
                "{BASE}[feeds.retirements.status]\ncolumn = \"S\"\nmap = {{ \"x\" = \"gone\" }}\n"
            ),
            &["feeds.retirements.status.map.x", "`gone`", "unit status"],
        ),
    ];
    for (toml, words) in cases {
        assert_mentions(&error(&toml), words);
    }
}

#[test]
fn a_built_in_registry_cannot_be_registered_as_custom_but_may_be_configured() {
    let config = GenericConfig::from_toml("art.toml", &BASE.replace("config-errors", "art"))
        .expect("parses");
    let c = GenericConnector::new(&config, quick_http()).expect("a built-in id is fine");
    assert_eq!(
        carbonmesh_connector::Connector::registry(&c),
        carbonmesh_model::RegistryId::ART
    );
    let e = GenericConfig::from_file("/nonexistent/generic.toml".as_ref()).expect_err("missing");
    assert!(matches!(e, ConfigError::Read { .. }), "{e}");
}

#[test]
fn the_shipped_examples_are_valid() {
    for name in ["art-trees.toml", "example-registry.toml"] {
        let path = format!("{}/../../config/generic/{name}", env!("CARGO_MANIFEST_DIR"));
        let config = GenericConfig::from_file(path.as_ref()).unwrap_or_else(|e| panic!("{e}"));
        GenericConnector::new(&config, quick_http()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
