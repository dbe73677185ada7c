//! The one Japanese message catalogue (`locales/ja/main.ftl`), through Fluent.
//! Templates call `t.get("key")`; a test checks every key they use exists.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};
use std::borrow::Cow;
use std::collections::HashMap;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "ja",
        // Fluent wraps arguments in Unicode isolation marks by default; in Japanese
        // HTML they would only show up as stray characters when copied.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

const JA: LanguageIdentifier = langid!("ja");

/// Access to the catalogue, handed to every template.
#[derive(Debug, Clone, Copy, Default)]
pub struct Text;

impl Text {
    pub fn get(&self, key: &str) -> String {
        LOCALES.lookup(&JA, key)
    }

    /// A message with one argument, e.g. `tries-left` with `count`.
    pub fn with(&self, key: &str, name: &'static str, value: impl ToString) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            HashMap::from([(Cow::Borrowed(name), FluentValue::from(value.to_string()))]);
        LOCALES.lookup_with_args(&JA, key, &args)
    }

    /// Whether the catalogue has `key` (messages with a `$count` argument included).
    pub fn has(&self, key: &str) -> bool {
        // Every variable a message may use, so messages with arguments resolve too.
        let args: HashMap<Cow<'static, str>, FluentValue> = HashMap::from([
            (Cow::Borrowed("count"), FluentValue::from("0")),
            (Cow::Borrowed("old"), FluentValue::from("-")),
            (Cow::Borrowed("reason"), FluentValue::from("-")),
            (Cow::Borrowed("login"), FluentValue::from("-")),
            (Cow::Borrowed("value"), FluentValue::from("-")),
            (Cow::Borrowed("page"), FluentValue::from("-")),
            (Cow::Borrowed("role"), FluentValue::from("-")),
            (Cow::Borrowed("at"), FluentValue::from("-")),
        ]);
        LOCALES.try_lookup_with_args(&JA, key, &args).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every key looked up by a literal in templates and code (this file aside).
    fn keys_used() -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["templates", "src"] {
            collect(&root.join(dir), &mut files);
        }
        let mut keys = Vec::new();
        for file in files {
            if file.ends_with("i18n.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for marker in ["t.get(\"", "t.with(\"", "Text.get(\"", "Text.with(\""] {
                for (i, _) in text.match_indices(marker) {
                    let rest = &text[i + marker.len()..];
                    if let Some(end) = rest.find('"') {
                        keys.push(rest[..end].to_owned());
                    }
                }
            }
            // `Wording::pick("clinic-key", "pharmacy-key")`, possibly over two lines.
            for (i, _) in text.match_indices("pick(\"") {
                let rest = &text[i + "pick(".len()..];
                let args = &rest[..rest.find(')').unwrap_or(rest.len())];
                keys.extend(args.split('"').skip(1).step_by(2).map(str::to_owned));
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_key_used_exists_in_the_catalogue() {
        let keys = keys_used();
        assert!(keys.len() > 50, "found only {} keys", keys.len());
        let missing: Vec<_> = keys.iter().filter(|k| !Text.has(k)).collect();
        assert!(missing.is_empty(), "missing from main.ftl: {missing:?}");
    }

    #[test]
    fn arguments_are_not_wrapped_in_isolation_marks() {
        assert_eq!(Text.with("tries-left", "count", 2), "残り2回です。");
    }
}
