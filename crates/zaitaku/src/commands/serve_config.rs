//! `serve`'s configuration file (`--config FILE`, `ZAITAKU_CONFIG`) and
//! `--print-config`. The file is TOML whose keys are `serve`'s long option
//! names (`listen = "0.0.0.0:8080"`, `trust-anchor = ["a.pem", "b.pem"]`). Its
//! values become clap's defaults for that run, so clap's own order decides:
//! flags > environment variables > the file > built-in defaults. No config
//! framework: the options stay declared once, with clap.

use super::Cli;
use crate::setup::CliError;
use crate::setup::database::redacted;
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args, Command, CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const SERVE: &str = "serve";
/// Options that are not settings: not in the file, not printed.
const NOT_SETTINGS: [&str; 4] = ["help", "version", "config", "print_config"];
/// Options whose values `--print-config` masks.
const SECRETS: [&str; 1] = ["database_url"];

#[derive(Args)]
pub struct ConfigOptions {
    /// A TOML file of settings whose keys are these options' names, e.g.
    /// `listen = "127.0.0.1:8080"`; flags and environment variables win over it.
    #[arg(long, value_name = "FILE", env = "ZAITAKU_CONFIG")]
    config: Option<PathBuf>,
    /// Print the effective settings as a config file (secrets masked) and exit.
    #[arg(long)]
    print_config: bool,
}

impl ConfigOptions {
    pub fn file(&self) -> Option<&Path> {
        self.config.as_deref()
    }
}

/// The command line, with `serve`'s config file applied; `None` when
/// `--print-config` printed the settings and nothing is left to run.
pub fn parse(args: Vec<OsString>) -> Result<Option<Cli>, CliError> {
    let declared = Cli::command();
    let mut command = declared.clone();
    let mut matches = command.clone().get_matches_from(&args);
    let mut file = None;
    if let Some(path) = serve_matches(&matches).and_then(|m| m.get_one::<PathBuf>("config")) {
        let settings = Settings::read(path, serve_command(&command))?;
        command = command.mut_subcommand(SERVE, |serve| settings.apply(serve));
        matches = command
            .clone()
            .try_get_matches_from(&args)
            .unwrap_or_else(|e| {
                let _ = e.print();
                eprintln!(
                    "(settings were also read from config file {})",
                    path.display()
                );
                std::process::exit(e.exit_code())
            });
        file = Some(settings);
    }
    if let Some(serve) = serve_matches(&matches).filter(|m| m.get_flag("print_config")) {
        // In the order declared (`mut_arg` moves the options the file set).
        print!("{}", render(serve_command(&declared), serve, file.as_ref()));
        return Ok(None);
    }
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command).exit());
    Ok(Some(cli))
}

fn serve_matches(matches: &ArgMatches) -> Option<&ArgMatches> {
    matches.subcommand_matches(SERVE)
}

fn serve_command(command: &Command) -> &Command {
    command
        .find_subcommand(SERVE)
        .expect("the serve subcommand")
}

/// The keys a file may set: `serve`'s options by long name, with their ids.
fn settings(serve: &Command) -> impl Iterator<Item = (&str, &clap::Arg)> {
    serve
        .get_arguments()
        .filter(|arg| !NOT_SETTINGS.contains(&arg.get_id().as_str()))
        .filter_map(|arg| arg.get_long().map(|long| (long, arg)))
}

/// A config file's settings, checked against `serve`'s options.
struct Settings {
    /// (option id, values as they would be typed).
    values: Vec<(String, Vec<String>)>,
}

impl Settings {
    fn read(path: &Path, serve: &Command) -> Result<Settings, CliError> {
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {shown}: {e}"))?;
        let table: toml::Table = text
            .parse()
            .map_err(|e| format!("config file {shown} is not valid TOML: {e}"))?;
        let mut values = Vec::new();
        for (key, value) in table {
            let Some((_, arg)) = settings(serve).find(|(long, _)| *long == key) else {
                return Err(format!(
                    "unknown key `{key}` in config file {shown}: the keys are the long \
                     names of `zaitaku serve`'s options without the dashes, e.g. \
                     `listen = \"127.0.0.1:8080\"` (see `zaitaku serve --help`)"
                )
                .into());
            };
            let repeatable = matches!(arg.get_action(), ArgAction::Append);
            let texts = match value {
                toml::Value::Array(items) if repeatable => items
                    .into_iter()
                    .map(|item| scalar(item, &key, &shown.to_string()))
                    .collect::<Result<_, _>>()?,
                toml::Value::Array(_) => {
                    return Err(format!(
                        "key `{key}` in config file {shown} takes one value, not a list"
                    )
                    .into());
                }
                other => vec![scalar(other, &key, &shown.to_string())?],
            };
            values.push((arg.get_id().to_string(), texts));
        }
        Ok(Settings { values })
    }

    fn apply(&self, mut serve: Command) -> Command {
        for (id, texts) in &self.values {
            serve = serve.mut_arg(id, |arg| arg.default_values(texts.clone()));
        }
        serve
    }

    fn sets(&self, id: &str) -> bool {
        self.values.iter().any(|(set, _)| set == id)
    }
}

/// A value as it would be typed after the option.
fn scalar(value: toml::Value, key: &str, file: &str) -> Result<String, CliError> {
    match value {
        toml::Value::String(text) => Ok(text),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(format!(
            "key `{key}` in config file {file}: give text, a whole number or true/false"
        )
        .into()),
    }
}

/// The effective settings as a config file, each with where it came from.
fn render(serve: &Command, matches: &ArgMatches, file: Option<&Settings>) -> String {
    let mut out = String::from(
        "# zaitaku serve: effective settings (flags > environment > config file > defaults)\n",
    );
    for (key, arg) in settings(serve) {
        let id = arg.get_id().as_str();
        let Some(raw) = matches.get_raw(id) else {
            let _ = writeln!(out, "# {key}: not set");
            continue;
        };
        let secret = SECRETS.contains(&id);
        let texts: Vec<String> = raw
            .map(|v| {
                let text = v.to_string_lossy();
                if secret {
                    redacted(&text)
                } else {
                    text.into_owned()
                }
            })
            .map(|text| toml_value(&text))
            .collect();
        let value = if matches!(arg.get_action(), ArgAction::Append) {
            format!("[{}]", texts.join(", "))
        } else if matches!(arg.get_action(), ArgAction::SetTrue) {
            // As parsed: the environment may have said `1` or `yes`.
            matches.get_flag(id).to_string()
        } else {
            texts.join(" ")
        };
        let source = match matches.value_source(id) {
            Some(ValueSource::CommandLine) => "command line",
            Some(ValueSource::EnvVariable) => "environment",
            _ if file.is_some_and(|f| f.sets(id)) => "config file",
            _ => "default",
        };
        let masked = if secret { ", credentials masked" } else { "" };
        let _ = writeln!(out, "{key} = {value}  # {source}{masked}");
    }
    out
}

/// A number or true/false as itself, anything else as a TOML string.
fn toml_value(text: &str) -> String {
    if text == "true" || text == "false" || text.parse::<i64>().is_ok() {
        text.to_owned()
    } else {
        toml::Value::String(text.to_owned()).to_string()
    }
}
