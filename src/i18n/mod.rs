//! The user-facing text, Swedish first and English complete: one Project Fluent catalog per
//! language (`sv.ftl`, `en.ftl`), embedded in the binary and loaded once.
use std::{collections::HashMap, sync::LazyLock};

use fluent_bundle::{FluentArgs, FluentResource, concurrent::FluentBundle};
use unic_langid::{LanguageIdentifier, langid};

pub mod time;

pub use time::{format_date, format_time, parse_local};

/// A language of the user interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// Swedish, the default.
    #[default]
    Sv,
    /// English.
    En,
}

impl Lang {
    /// Picks the language from a BCP 47 locale such as `sv-SE` or `en_US`; Swedish when unknown.
    pub fn from_locale(locale: Option<&str>) -> Self {
        let Some(locale) = locale else {
            return Lang::Sv;
        };
        let primary = locale
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Lang::En,
            _ => Lang::Sv,
        }
    }

    /// From an `Accept-Language` header: the first language we have, else Swedish.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Lang::Sv;
        };
        for part in header.split(',') {
            let tag = part.split(';').next().unwrap_or_default().trim();
            let primary = tag
                .split('-')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            match primary.as_str() {
                "sv" => return Lang::Sv,
                "en" => return Lang::En,
                _ => {}
            }
        }
        Lang::Sv
    }

    /// The `lang` attribute value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }

    fn catalog(self) -> &'static Catalog {
        match self {
            Lang::Sv => &SV,
            Lang::En => &EN,
        }
    }

    /// The text of a message in this language only, without the Swedish fallback of [`Self::t`]:
    /// `None` when this language's catalog lacks it.
    pub fn own_text(self, key: &str) -> Option<&'static str> {
        self.catalog().plain.get(key).map(String::as_str)
    }

    /// The text of a message without arguments. A missing message is logged and shown as its
    /// Swedish text, or `?` (a unit test keeps the catalogs complete).
    pub fn t(self, key: &str) -> &'static str {
        if let Some(text) = self.catalog().plain.get(key) {
            return text;
        }
        tracing::warn!(key, lang = self.code(), "missing translation");
        SV.plain.get(key).map(String::as_str).unwrap_or("?")
    }

    /// The text of a message with arguments (`{ $name }` in the catalog). Values that are numbers
    /// are passed as numbers, so plural selectors work.
    pub fn tf(self, key: &str, args: &[(&str, &str)]) -> String {
        let catalog = self.catalog();
        let Some(pattern) = catalog.bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::warn!(key, lang = self.code(), "missing translation");
            return self.t(key).to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value.parse::<f64>() {
                Ok(number) => fluent_args.set(*name, number),
                Err(_) => fluent_args.set(*name, value.to_string()),
            }
        }
        let mut errors = Vec::new();
        let text = catalog
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned();
        if !errors.is_empty() {
            tracing::warn!(
                key,
                lang = self.code(),
                ?errors,
                "message formatting problems"
            );
        }
        text
    }

    /// "Reflektionsuppgift 3": the heading of the `number`th reflection task of a module. The
    /// first headings are formatted once per language, since a course overview shows one per task
    /// and Fluent's formatting was a tenth of the page's instructions.
    pub fn task_heading(self, number: usize) -> String {
        match number
            .checked_sub(1)
            .and_then(|index| self.catalog().task_headings.get(index))
        {
            Some(heading) => heading.clone(),
            None => self.tf("task-heading", &[("n", &number.to_string())]),
        }
    }
}

/// The reflection task headings formatted ahead, per language (modules have a handful of tasks).
const TASK_HEADINGS_KEPT: usize = 30;

/// One language: the Fluent bundle, and every message without arguments formatted once.
struct Catalog {
    bundle: FluentBundle<FluentResource>,
    plain: HashMap<String, String>,
    task_headings: Vec<String>,
}

static SV: LazyLock<Catalog> = LazyLock::new(|| catalog(langid!("sv"), include_str!("sv.ftl")));
static EN: LazyLock<Catalog> = LazyLock::new(|| catalog(langid!("en"), include_str!("en.ftl")));

fn catalog(lang: LanguageIdentifier, source: &'static str) -> Catalog {
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(resource) => resource,
        Err((resource, errors)) => {
            tracing::error!(?errors, %lang, "the message catalog has syntax errors");
            resource
        }
    };
    let ids: Vec<String> = resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
            _ => None,
        })
        .collect();
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // Pages are HTML with a `lang` attribute; Unicode isolation marks around values would only
    // show up as stray characters in attributes and tests.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(?errors, "the message catalog has duplicate messages");
    }
    let mut plain = HashMap::new();
    for id in ids {
        if let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            let text = bundle
                .format_pattern(pattern, None, &mut errors)
                .into_owned();
            plain.insert(id, text);
        }
    }
    // Kept only when every heading formats cleanly; otherwise each goes through `tf`, which says
    // what is wrong, as before.
    let task_headings = bundle
        .get_message("task-heading")
        .and_then(|message| message.value())
        .and_then(|pattern| {
            (1..=TASK_HEADINGS_KEPT)
                .map(|number| {
                    let mut args = FluentArgs::new();
                    args.set("n", number as f64);
                    let mut errors = Vec::new();
                    let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
                    errors.is_empty().then(|| text.into_owned())
                })
                .collect::<Option<Vec<_>>>()
        })
        .unwrap_or_default();
    Catalog {
        bundle,
        plain,
        task_headings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_parse_and_have_the_same_messages() {
        for source in [include_str!("sv.ftl"), include_str!("en.ftl")] {
            assert!(
                FluentResource::try_new(source.to_owned()).is_ok(),
                "syntax errors"
            );
        }
        let mut sv: Vec<_> = SV.plain.keys().collect();
        let mut en: Vec<_> = EN.plain.keys().collect();
        sv.sort();
        en.sort();
        assert_eq!(sv, en);
        assert!(sv.len() > 100);
    }

    #[test]
    fn arguments_are_filled_in_without_isolation_marks() {
        assert_eq!(
            Lang::Sv.tf("landing-welcome-named", &[("name", "Åsa")]),
            "Välkommen, Åsa!"
        );
        assert_eq!(
            Lang::En.tf("overview-progress-text", &[("done", "2"), ("total", "6")]),
            "2 of 6 required modules complete"
        );
    }

    #[test]
    fn task_headings_read_as_the_catalog_formats_them_kept_or_not() {
        for lang in [Lang::Sv, Lang::En] {
            for number in [1, 2, TASK_HEADINGS_KEPT, TASK_HEADINGS_KEPT + 1, 120] {
                assert_eq!(
                    lang.task_heading(number),
                    lang.tf("task-heading", &[("n", &number.to_string())])
                );
            }
        }
        assert_eq!(Lang::Sv.task_heading(3), "Reflektionsuppgift 3");
        assert_eq!(Lang::En.task_heading(31), "Reflection task 31");
    }

    #[test]
    fn locales_pick_the_language_and_default_to_swedish() {
        assert_eq!(Lang::from_locale(Some("en-US")), Lang::En);
        assert_eq!(Lang::from_locale(Some("en_GB")), Lang::En);
        assert_eq!(Lang::from_locale(Some("sv-SE")), Lang::Sv);
        assert_eq!(Lang::from_locale(Some("fi")), Lang::Sv);
        assert_eq!(Lang::from_locale(None), Lang::Sv);
        assert_eq!(Lang::from_accept_language(Some("de, en;q=0.8")), Lang::En);
    }
}
