//! The user-facing text, Swedish first and English complete: one catalog file per language
//! (`key = text`), embedded in the binary and loaded once.
use std::{collections::HashMap, sync::LazyLock};

mod time;

pub use time::{format_date, format_time};

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

    /// The text for `key`; the key itself when missing (a test keeps the catalogs complete).
    pub fn t(self, key: &str) -> &'static str {
        let catalog = match self {
            Lang::Sv => &*SV,
            Lang::En => &*EN,
        };
        match catalog.get(key) {
            Some(text) => text,
            None => {
                tracing::warn!(key, lang = self.code(), "missing translation");
                SV.get(key).copied().unwrap_or("?")
            }
        }
    }
}

static SV: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| parse(include_str!("sv.txt")));
static EN: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| parse(include_str!("en.txt")));

fn parse(source: &'static str) -> HashMap<&'static str, &'static str> {
    source
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(" = "))
        .map(|(key, text)| (key.trim(), text.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_have_the_same_keys() {
        let mut sv: Vec<_> = SV.keys().collect();
        let mut en: Vec<_> = EN.keys().collect();
        sv.sort();
        en.sort();
        assert_eq!(sv, en);
        assert!(sv.len() > 30);
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
